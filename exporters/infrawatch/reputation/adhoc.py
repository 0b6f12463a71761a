"""``GET /probe?target=…[&format=json]``: check one IP or domain now (dnsbl_exporter's prober mode).

Allowed: the configured targets (and the addresses of host targets) plus ``probe.allowed_targets``;
anything else is 403, so the exporter cannot be used to make a blacklist look somebody up.
``probe.max_per_minute`` bounds how many ad-hoc checks reach the lists (429 beyond it): every
check costs one lookup per list, counted in ``reputation_queries_total`` like the cycles' and
answered from the cache while a cycle's answer is fresh.  The reply is Prometheus text (the
per-pair families of ``/metrics`` for this target) or the JSON of one ``/api/v1/targets`` row.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from ..probe.allowlist import AllowList
from . import families
from .classify import REASONS, code_category
from .config import Target
from .engine import Engine
from .names import normalize_ip, to_ascii_domain
from .results import PairResult
from .score import STATUSES, summarize


class ProbeRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class RateLimit:
    """A token bucket: ``per_minute`` checks, refilled continuously."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.tokens = float(per_minute)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(float(self.per_minute), self.tokens + (now - self.at) * self.per_minute / 60.0)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def parse_target(value: str) -> Target:
    value = value.strip()
    try:
        return Target(str(normalize_ip(value)), "ip", source=value)
    except ValueError:
        pass
    domain = to_ascii_domain(value) if value else None
    if domain is None:
        raise ProbeRefused(400, "target must be an IP address or a domain name")
    return Target(domain, "domain", source=value)


def allowed(engine: Engine, target: Target) -> bool:
    if any(t.value == target.value for t in engine.targets):
        return True
    entries = engine.loaded.raw.probe.allowed_targets
    if not entries:
        return False
    allow = AllowList(entries)
    if target.kind == "ip":
        return allow.allows(str(ipaddress.ip_address(target.value)))
    return allow.allows(target.value)


async def run(engine: Engine, bucket: RateLimit, raw_target: str) -> tuple[Target, dict[str, PairResult]]:
    if engine.loaded.raw.probe.max_per_minute == 0:
        raise ProbeRefused(404, "/probe is turned off (probe.max_per_minute: 0)")
    target = parse_target(raw_target)
    if not allowed(engine, target):
        raise ProbeRefused(403, f"target {target.value} is not allowed (configured targets and probe.allowed_targets)")
    if not bucket.take():
        raise ProbeRefused(429, "too many ad-hoc checks (probe.max_per_minute)")
    return target, await engine.probe(target)


class _One(Collector):
    def __init__(self, engine: Engine, target: Target, results: dict[str, PairResult]):
        self.engine, self.target, self.results = engine, target, results

    def collect(self) -> list[Metric]:
        t = self.target.value
        listed, error, info = families.LISTED.client(), families.LOOKUP_ERROR.client(), families.LISTING_INFO.client()
        for spec in self.engine.specs:
            r = self.results.get(spec.name)
            if r is None:
                continue
            if r.status in ("clean", "listed"):
                listed.add_metric([t, spec.name], 1 if r.status == "listed" else 0)
                error.add_metric([t, spec.name, ""], 0)
                for code in r.codes if r.status == "listed" else []:
                    info.add_metric([t, spec.name, code, code_category(code, spec.profile, spec.code_table)], 1)
            else:
                error.add_metric([t, spec.name, r.reason or "list_down"], 1)
        s = summarize(
            self.target,
            self.engine.specs,
            {(t, k): v for k, v in self.results.items()},
            {k: h for k, h in self.engine.health.items()},
            self.engine.loaded.raw.scoring,
        )
        score, status, coverage = families.SCORE.client(), families.STATUS.client(), families.COVERAGE.client()
        if s.score is not None:
            score.add_metric([t], s.score)
        for st in STATUSES:
            status.add_metric([t, st], 1 if st == s.status else 0)
        coverage.add_metric([t], s.coverage)
        return [listed, error, info, score, status, coverage]


def metrics_text(engine: Engine, target: Target, results: dict[str, PairResult]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_One(engine, target, results))
    return generate_latest(registry)


def json_document(engine: Engine, target: Target, results: dict[str, PairResult]) -> dict[str, Any]:
    s = summarize(
        target,
        engine.specs,
        {(target.value, k): v for k, v in results.items()},
        dict(engine.health),
        engine.loaded.raw.scoring,
    )
    lists = []
    for name, r in results.items():
        spec = engine.spec(name)
        lists.append(
            {
                "list": name,
                "status": r.status,
                "codes": r.codes,
                "categories": r.categories,
                "reasons": r.reasons,
                "reason": r.reason,
                "reason_text": REASONS.get(r.reason, ""),
                "error": r.error,
                "delist_url": spec.delist_url if spec else "",
            }
        )
    return {"target": target.value, "kind": target.kind, "status": s.status, "score": s.score, "lists": lists}
