"""The JSON view of the engine state (``GET /api/v1/targets``) — the status page renders the same."""

from __future__ import annotations

import time
from typing import Any

from .classify import REASONS
from .engine import Engine


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def targets_document(engine: Engine, volumes: dict[str, float] | None = None) -> dict[str, Any]:
    """``volumes``: messages sent per target over a day (the volume query), when configured."""
    now = time.time()
    out_targets = []
    for s in engine.summaries():
        t = s.target
        listings, errors = [], []
        for spec in engine.specs:
            if not spec.applies(t):
                continue
            r = engine.results.get((t.value, spec.name))
            h = engine.health.get(spec.name)
            if r is None:
                errors.append({"list": spec.name, "error": "not checked yet", "reason": "", "reason_text": ""})
                continue
            if r.status == "listed" and h is not None and h.up:
                listings.append(
                    {
                        "list": spec.name,
                        "zone": spec.public_zone,
                        "tier": spec.tier,
                        "codes": r.codes,
                        "categories": r.categories,
                        "reasons": r.reasons,
                        "delist_url": spec.delist_url,
                        "checked_at": _iso(r.checked_at),
                        "listed_since": _iso(r.listed_since),
                        "listed_for_seconds": None if r.listed_since is None else round(max(0.0, now - r.listed_since)),
                        "restored": r.restored,
                    }
                )
            elif r.status == "error" or h is None or not h.up:
                reason = r.reason or (h.reason_code if h else "") or ("list_down" if h is not None else "")
                errors.append(
                    {
                        "list": spec.name,
                        "error": r.error or (h.reason if h else "list not checked yet"),
                        "reason": reason,
                        "reason_text": REASONS.get(reason, ""),
                    }
                )
        out_targets.append(
            {
                "target": t.value,
                "kind": t.kind,
                "provider": t.provider,
                "pool": t.pool,
                "source": t.source,
                "host": t.host,
                "labels": dict(t.labels),
                "score": s.score,
                "status": s.status,
                "coverage": round(s.coverage, 4),
                "lists_answered": s.evidence,
                "lists_applicable": s.applicable,
                "last_checked": _iso(s.newest_check),
                "result_age_seconds": None if s.oldest_check is None else round(max(0.0, now - s.oldest_check), 1),
                "restored": s.restored,
                "listed_since": min((li["listed_since"] for li in listings if li["listed_since"]), default=None),
                "listed_for_seconds": max(
                    (li["listed_for_seconds"] for li in listings if li["listed_for_seconds"] is not None), default=None
                ),
                "daily_volume": None if volumes is None else volumes.get(t.value),
                "listings": listings,
                "errors": errors,
            }
        )
    lists = []
    for spec in engine.specs:
        h = engine.health.get(spec.name)
        lists.append(
            {
                "name": spec.name,
                "zone": spec.public_zone,
                "kind": spec.kind,
                "tier": spec.tier,
                "weight": spec.weight,
                "delist_url": spec.delist_url,
                "interval_seconds": spec.interval,
                "up": None if h is None else h.up,
                "reason": "" if h is None else h.reason,
                "reason_code": "" if h is None else h.reason_code,
                "checked_at": None if h is None else _iso(h.checked_at),
                "daily_query_budget": spec.daily_query_budget or None,
                "projected_daily_queries": round(engine.projected_daily_packets(spec)),
            }
        )
    state_file = None
    if engine.state_path is not None:
        state_file = {
            "last_write_ok": engine.state_last_write_ok,
            "write_failures": engine.state_write_failures_total,
            "last_error": engine.state_last_error,
        }
    hosts = [
        {"name": h.name, "mx": h.mx, "addresses": [t.value for t in engine.targets if t.source == h.name and t.host]}
        for h in engine.loaded.hosts
    ]
    return {
        "generated_at": _iso(now),
        "volume_column": volumes is not None,
        "history_export": bool(engine.loaded.raw.history.prometheus_url),  # the page links to /export
        "targets": out_targets,
        "lists": lists,
        "hosts": hosts,
        "host_errors": dict(engine.host_errors),
        "state_file": state_file,
    }


def duration_text(seconds: float | None) -> str:
    """``7800`` -> ``2 h 10 min`` (how long a listing has lasted, for people)."""
    if seconds is None:
        return ""
    m = int(seconds // 60)
    d, h, m = m // 1440, m % 1440 // 60, m % 60
    if d:
        return f"{d} d {h} h"
    return f"{h} h {m} min" if h else f"{m} min"
