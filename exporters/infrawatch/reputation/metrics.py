"""``/metrics`` for the reputation exporter: a custom collector built from the engine's state.

Scraping never triggers lookups.  Label values are bounded: targets, lists, codes and categories
from the configuration and profiles — TXT reasons and delisting pages stay out of labels (except
the static ``delist_url`` of ``reputation_list_info``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from ..core import selfmetrics
from . import families
from .classify import code_category
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
        listed = families.LISTED.client()
        error = families.LOOKUP_ERROR.client()
        info = families.LISTING_INFO.client()
        since = families.LISTED_SINCE.client()
        up = families.LIST_UP.client()
        for spec in engine.specs:
            h = engine.health.get(spec.name)
            if h is not None:
                up.add_metric([spec.name], 1 if h.up else 0)
            table = spec.code_table
            for t in engine.targets:
                if not spec.applies(t):
                    continue
                r = engine.results.get((t.value, spec.name))
                if r is None:
                    continue
                definitive = h is not None and h.up and r.status in ("clean", "listed")
                if definitive:
                    error.add_metric([t.value, spec.name, ""], 0)
                else:
                    why = r.reason or (h.reason_code if h is not None else "") or "list_down"
                    error.add_metric([t.value, spec.name, why], 1)
                if definitive:
                    listed.add_metric([t.value, spec.name], 1 if r.status == "listed" else 0)
                    if r.status == "listed":
                        for code in r.codes:
                            info.add_metric([t.value, spec.name, code, code_category(code, spec.profile, table)], 1)
                        if r.listed_since is not None:
                            since.add_metric([t.value, spec.name], r.listed_since)
        yield from (listed, error, since, info, up)

        score = families.SCORE.client()
        status = families.STATUS.client()
        coverage = families.COVERAGE.client()
        last = families.LAST_CHECK.client()
        age = families.RESULT_AGE.client()
        extra_label_names = sorted({k for t in engine.targets for k, _ in t.labels})
        tinfo = families.TARGET_INFO.client([*families.TARGET_INFO.labels, *extra_label_names])
        for s in engine.summaries():
            t = s.target
            if s.score is not None:
                score.add_metric([t.value], s.score)
            for st in STATUSES:
                status.add_metric([t.value, st], 1 if st == s.status else 0)
            coverage.add_metric([t.value], s.coverage)
            labels = dict(t.labels)
            tinfo.add_metric(
                [t.value, t.kind, t.provider, t.pool, t.host, *(labels.get(k, "") for k in extra_label_names)], 1
            )
            if s.newest_check is not None:
                last.add_metric([t.value], s.newest_check)
            if s.oldest_check is not None:
                age.add_metric([t.value], max(0.0, now - s.oldest_check))
        yield from (score, status, coverage, tinfo, last, age)

        linfo = families.LIST_INFO.client()
        budget = families.DAILY_QUERY_BUDGET.client()
        projected = families.PROJECTED_DAILY_QUERIES.client()
        for spec in engine.specs:
            linfo.add_metric([spec.name, spec.public_zone, spec.tier, spec.delist_url], 1)
            if spec.daily_query_budget:
                budget.add_metric([spec.name], spec.daily_query_budget)
            projected.add_metric([spec.name], engine.projected_daily_packets(spec))
        yield from (linfo, budget, projected)

        q = families.QUERIES.client()
        for (lst, res), n in sorted(engine.queries_total.items()):
            q.add_metric([lst, res], n)
        yield q
        yield families.CHECK_DURATION.client(
            value=max([engine.last_cycle_duration, *engine.last_list_duration.values()])
        )
        yield families.STATE_WRITE_FAILURES.client(value=engine.state_write_failures_total)
        if engine.state_last_write_ok is not None:
            yield families.STATE_LAST_WRITE_OK.client(value=1 if engine.state_last_write_ok else 0)
        yield selfmetrics.SCHEDULED_TARGETS.client(value=len(engine.targets))
        yield selfmetrics.SCHEDULER_LAG.client(value=self._lag())
