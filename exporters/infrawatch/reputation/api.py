"""The JSON view of the engine state (``GET /api/v1/targets``) — the status page renders the same."""

from __future__ import annotations

import time
from typing import Any

from .engine import Engine


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def targets_document(engine: Engine) -> dict[str, Any]:
    now = time.time()
    out_targets = []
    for s in engine.summaries():
        t = s.target
        listings, errors = [], []
        for spec in engine.specs:
            if spec.kind != t.kind:
                continue
            r = engine.results.get((t.value, spec.name))
            h = engine.health.get(spec.name)
            if r is None:
                errors.append({"list": spec.name, "error": "not checked yet"})
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
                        "restored": r.restored,
                    }
                )
            elif r.status == "error" or h is None or not h.up:
                errors.append({"list": spec.name, "error": r.error or (h.reason if h else "list not checked yet")})
        out_targets.append(
            {
                "target": t.value,
                "kind": t.kind,
                "provider": t.provider,
                "pool": t.pool,
                "source": t.source,
                "labels": dict(t.labels),
                "score": s.score,
                "status": s.status,
                "coverage": round(s.coverage, 4),
                "lists_answered": s.evidence,
                "lists_applicable": s.applicable,
                "last_checked": _iso(s.newest_check),
                "result_age_seconds": None if s.oldest_check is None else round(max(0.0, now - s.oldest_check), 1),
                "restored": s.restored,
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
                "checked_at": None if h is None else _iso(h.checked_at),
                "daily_query_budget": spec.daily_query_budget or None,
                "projected_daily_queries": round(engine.loaded.projected_daily_queries(spec)),
            }
        )
    return {"generated_at": _iso(now), "targets": out_targets, "lists": lists}
