"""``/metrics`` for the reputation exporter: a custom collector built from the engine's state.

Scraping never triggers lookups.  Label values are bounded: targets, lists, codes and categories
from the configuration and profiles — TXT reasons and delisting pages stay out of labels (except
the static ``delist_url`` of ``reputation_list_info``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..core import selfmetrics
from .engine import Engine
from .score import STATUSES


class ReputationCollector(Collector):
    def __init__(self, engine: Callable[[], Engine | None], scheduler_lag: Callable[[], float]):
        self._engine = engine
        self._lag = scheduler_lag

    def collect(self) -> Iterable[Metric]:
        engine = self._engine()
        if engine is None:
            return
        now = time.time()
        listed = GaugeMetricFamily(
            "reputation_listed",
            "1 if the target is listed on the list, 0 if not; absent when the last lookup gave no definitive answer.",
            labels=["target", "list"],
        )
        error = GaugeMetricFamily(
            "reputation_lookup_error", "1 if the last lookup of this pair failed (unknown).", labels=["target", "list"]
        )
        info = GaugeMetricFamily(
            "reputation_listing_info",
            "1 per return code while the target is listed.",
            labels=["target", "list", "code", "category"],
        )
        up = GaugeMetricFamily(
            "reputation_list_up", "1 if the list passed its RFC 5782 test points in its last check.", labels=["list"]
        )
        for spec in engine.specs:
            h = engine.health.get(spec.name)
            if h is not None:
                up.add_metric([spec.name], 1 if h.up else 0)
            for t in engine.targets:
                if t.kind != spec.kind:
                    continue
                r = engine.results.get((t.value, spec.name))
                if r is None:
                    continue
                definitive = h is not None and h.up and r.status in ("clean", "listed")
                error.add_metric([t.value, spec.name], 0 if definitive else 1)
                if definitive:
                    listed.add_metric([t.value, spec.name], 1 if r.status == "listed" else 0)
                    if r.status == "listed":
                        for code in r.codes:
                            info.add_metric([t.value, spec.name, code, spec.code_table.get(code, "listed")], 1)
        yield from (listed, error, info, up)

        score = GaugeMetricFamily(
            "reputation_score", "Reputation score 0-100 from list weights; absent without evidence.", labels=["target"]
        )
        status = GaugeMetricFamily(
            "reputation_status", "Status state set: good, warning, critical, unknown.", labels=["target", "status"]
        )
        coverage = GaugeMetricFamily(
            "reputation_coverage_ratio",
            "Share of applicable lists that answered definitively and are up.",
            labels=["target"],
        )
        last = GaugeMetricFamily(
            "reputation_last_check_timestamp_seconds",
            "When the target was last looked up on any list.",
            labels=["target"],
        )
        age = GaugeMetricFamily(
            "reputation_result_age_seconds",
            "Age of the oldest result the target's "
            "status is based on (restored results count from their original check).",
            labels=["target"],
        )
        extra_label_names = sorted({k for t in engine.targets for k, _ in t.labels})
        tinfo = GaugeMetricFamily(
            "reputation_target_info",
            "Target metadata and configured labels, always 1.",
            labels=["target", "kind", "provider", "pool", *extra_label_names],
        )
        for s in engine.summaries():
            t = s.target
            if s.score is not None:
                score.add_metric([t.value], s.score)
            for st in STATUSES:
                status.add_metric([t.value, st], 1 if st == s.status else 0)
            coverage.add_metric([t.value], s.coverage)
            labels = dict(t.labels)
            tinfo.add_metric([t.value, t.kind, t.provider, t.pool, *(labels.get(k, "") for k in extra_label_names)], 1)
            if s.newest_check is not None:
                last.add_metric([t.value], s.newest_check)
            if s.oldest_check is not None:
                age.add_metric([t.value], max(0.0, now - s.oldest_check))
        yield from (score, status, coverage, tinfo, last, age)

        linfo = GaugeMetricFamily(
            "reputation_list_info", "List metadata, always 1.", labels=["list", "zone", "tier", "delist_url"]
        )
        budget = GaugeMetricFamily(
            "reputation_daily_query_budget", "Published daily query limit of the list.", labels=["list"]
        )
        projected = GaugeMetricFamily(
            "reputation_projected_daily_queries",
            "Queries a day the configuration needs for the list (targets + test points, before caching).",
            labels=["list"],
        )
        for spec in engine.specs:
            linfo.add_metric([spec.name, spec.public_zone, spec.tier, spec.delist_url], 1)
            if spec.daily_query_budget:
                budget.add_metric([spec.name], spec.daily_query_budget)
            projected.add_metric([spec.name], engine.loaded.projected_daily_queries(spec))
        yield from (linfo, budget, projected)

        q = CounterMetricFamily(
            "reputation_queries",
            "DNS queries sent to the resolver by list and outcome "
            "(noerror, nxdomain, servfail, refused, timeout, error).",
            labels=["list", "result"],
        )
        for (lst, res), n in sorted(engine.queries_total.items()):
            q.add_metric([lst, res], n)
        yield q
        yield GaugeMetricFamily(
            "reputation_check_duration_seconds",
            "Duration of the last full check cycle "
            "(all lists), or of the slowest list check when lists run on their own schedule.",
            value=max([engine.last_cycle_duration, *engine.last_list_duration.values()]),
        )
        yield selfmetrics.SCHEDULED_TARGETS.client(value=len(engine.targets))
        yield selfmetrics.SCHEDULER_LAG.client(value=self._lag())
