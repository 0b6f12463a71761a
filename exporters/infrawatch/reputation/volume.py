"""The "Daily volume" column: messages sent per sending IP, from the Prometheus that scrapes the MTA.

Metric contract (docs/reputation.md): the MTA side exports ``email_sent_total{status,source_ip}``
(the demo app does); the default query sums a day of successful messages per IP into a series with
label ``target``.  Any PromQL giving one series per target works (``volume.query``).  A failed query
gives an empty table (the column shows "-"), never an error page.
"""

from __future__ import annotations

import logging
import math

import aiohttp

from .config import VolumeConfig

log = logging.getLogger("infrawatch.reputation.volume")


async def fetch(cfg: VolumeConfig) -> dict[str, float]:
    url = cfg.prometheus_url.rstrip("/") + "/api/v1/query"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=float(cfg.timeout))) as session,
            session.get(url, params={"query": cfg.query}) as r,
        ):
            body = await r.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("daily volume query failed", extra={"err": str(exc) or type(exc).__name__})
        return {}
    if not isinstance(body, dict) or body.get("status") != "success":
        log.warning(
            "daily volume query failed", extra={"err": str(body.get("error") if isinstance(body, dict) else "")}
        )
        return {}
    out: dict[str, float] = {}
    for s in body.get("data", {}).get("result", []):
        try:
            target, value = s["metric"]["target"], float(s["value"][1])
        except (KeyError, TypeError, ValueError, IndexError):
            continue
        if math.isfinite(value):
            out[target] = value
    return out
