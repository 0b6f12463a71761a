"""The data of the page's three panels, each built on its own so one unreachable upstream only blanks
the panels that need it (``Panel.error`` says which upstream and why)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from .services import ServiceCard
from .sources import Alertmanager, Prometheus, SourceError

STATUS = {2: ("healthy", "Healthy"), 1: ("degraded", "Degraded"), 0: ("down", "Down")}
# Alert severity -> the seed's feed severities.
FEED_SEVERITY = {"critical": "ERROR", "error": "ERROR", "warning": "WARNING", "info": "INFO"}


@dataclass
class Panel:
    data: Any = None
    error: str = ""


def _value(series: list[dict[str, Any]]) -> float | None:
    for s in series:
        try:
            v = float(s["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if v == v:  # NaN (0/0 ratios) is "no data"
            return v
    return None


# ---- Service Health Grid ------------------------------------------------------------------------
@dataclass
class CardView:
    card: ServiceCard
    state: str  # healthy | degraded | down | nodata
    label: str
    details: list[tuple[str, str, str]]  # (title, formatted value, colour)


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "No data"
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if unit == "s":
        if value < 1:
            return f"{value * 1000:.0f} ms"
        return f"{value:.2f} s"
    if unit == "reqps":
        return f"{value:.2f} req/s"
    if unit == "bytes":
        for suffix in ("B", "KiB", "MiB", "GiB", "TiB"):
            if abs(value) < 1024 or suffix == "TiB":
                return f"{value:.0f} {suffix}" if suffix == "B" else f"{value:.1f} {suffix}"
            value /= 1024
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


async def service_grid(prom: Prometheus, cards: list[ServiceCard]) -> Panel:
    exprs = [c.status_expr for c in cards] + [d.expr for c in cards for d in c.details]
    results = await asyncio.gather(*(prom.query(e) for e in exprs), return_exceptions=True)
    errors = [r for r in results if isinstance(r, SourceError)]
    if errors and len(errors) == len(results):
        return Panel(error=str(errors[0]))
    values = [None if isinstance(r, BaseException) else _value(r) for r in results]
    it = iter(values[len(cards) :])
    views = []
    for c, status in zip(cards, values[: len(cards)], strict=True):
        state, label = STATUS.get(int(status), ("down", "Down")) if status is not None else ("nodata", "No data")
        details = []
        for d in c.details:
            v = next(it)
            details.append((d.title, fmt(v, d.unit), d.colour(v)))
        views.append(CardView(c, state, label, details))
    counts = {s: sum(1 for v in views if v.state == s) for s in ("healthy", "degraded", "down", "nodata")}
    return Panel(data={"cards": views, "counts": counts, "all_green": counts["healthy"] == len(views)})


# ---- Infrastructure Alerts Feed -----------------------------------------------------------------
@dataclass
class FeedRow:
    fingerprint: str
    since: float
    severity: str  # ERROR | WARNING | INFO
    service: str
    alertname: str
    message: str
    state: str  # firing | resolved | acknowledged | inhibited
    labels: dict[str, str]
    runbook: str
    acknowledged: dict[str, str] = field(default_factory=dict)  # by, comment, until

    @property
    def since_iso(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.since))


def _parse_time(text: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _identity(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k not in ("alertstate",)))


def fired_in_range(rng: str) -> str:
    """Alerts that fired within ``rng``, valued by the time they became active (as the Grafana feed's
    query in jsonnet/dashboards/overview.libsonnet): an alert that was only ever pending is left out,
    so it is neither listed while pending nor shown as "resolved" after it clears."""
    return (
        f"max_over_time(ALERTS_FOR_STATE[{rng}])"
        f' and ignoring (alertstate) max_over_time(ALERTS{{alertstate="firing"}}[{rng}])'
    )


async def alerts_feed(
    prom: Prometheus, am: Alertmanager, feed_range: float, runbook_pattern: str
) -> tuple[Panel, dict[str, dict[str, Any]]]:
    """Rows newest first, and the active Alertmanager alerts by fingerprint (for the actions)."""
    rng = f"{int(feed_range)}s"
    am_res, sil_res, hist_res, now_res, rules_res = await asyncio.gather(
        am.alerts(),
        am.silences(),
        prom.query(fired_in_range(rng)),
        prom.query("ALERTS"),
        prom.rules(),
        return_exceptions=True,
    )
    problems = [str(r) for r in (am_res, sil_res, hist_res, rules_res) if isinstance(r, BaseException)]
    # Prometheus' own current state of each alert (pending | firing), by labels without alertstate
    in_prometheus: dict[tuple, str] = {}
    if not isinstance(now_res, BaseException):
        for s in now_res:
            m = {k: v for k, v in s["metric"].items() if k != "__name__"}
            in_prometheus[_identity(m)] = m.get("alertstate", "")
    active: list[dict[str, Any]] = [] if isinstance(am_res, BaseException) else am_res
    silences = {} if isinstance(sil_res, BaseException) else {s["id"]: s for s in sil_res}
    summaries: dict[str, str] = {}
    if not isinstance(rules_res, BaseException):
        for r in rules_res:
            summaries.setdefault(r.get("name", ""), r.get("annotations", {}).get("summary", ""))
    if isinstance(am_res, BaseException) and isinstance(hist_res, BaseException):
        return Panel(error="; ".join(dict.fromkeys(problems))), {}
    by_fp = {a["fingerprint"]: a for a in active}
    rows: dict[tuple, FeedRow] = {}
    for a in active:
        labels = a.get("labels", {})
        ann = a.get("annotations", {})
        status = a.get("status", {})
        ack: dict[str, str] = {}
        state = "firing"
        for sid in status.get("silencedBy") or []:
            s = silences.get(sid)
            if s:
                ack = {"by": s.get("createdBy", ""), "comment": s.get("comment", ""), "until": s.get("endsAt", "")}
            state = "acknowledged"
        if state != "acknowledged" and status.get("inhibitedBy"):
            state = "inhibited"
        rows[_identity(labels)] = FeedRow(
            a["fingerprint"],
            _parse_time(a.get("startsAt", "")),
            FEED_SEVERITY.get(labels.get("severity", ""), "INFO"),
            labels.get("service", ""),
            labels.get("alertname", ""),
            ann.get("description") or ann.get("summary") or summaries.get(labels.get("alertname", ""), ""),
            state,
            labels,
            ann.get("runbook_url") or runbook_pattern % {"alert": labels.get("alertname", "")},
            ack,
        )
    active_sets = [set(_identity(a.get("labels", {}))) for a in active]
    if not isinstance(hist_res, BaseException):
        for s in hist_res:
            labels = {k: v for k, v in s["metric"].items() if k != "__name__"}
            key = _identity(labels)
            # Alertmanager's copy carries Prometheus' external labels on top: a superset is the same alert
            if labels.get("alertname") == "Watchdog" or any(set(key) <= a for a in active_sets):
                continue
            # not active in Alertmanager: fired in the window and either firing in Prometheus (not
            # yet sent) or resolved (also when pending again: that firing episode ended)
            rows[key] = FeedRow(
                "",
                float(s["value"][1]),
                FEED_SEVERITY.get(labels.get("severity", ""), "INFO"),
                labels.get("service", ""),
                labels.get("alertname", ""),
                summaries.get(labels.get("alertname", ""), ""),
                "firing" if in_prometheus.get(key) == "firing" else "resolved",
                labels,
                runbook_pattern % {"alert": labels.get("alertname", "")},
            )
    feed = sorted((r for r in rows.values() if r.alertname != "Watchdog"), key=lambda r: -r.since)
    summary = {
        sev: sum(1 for r in feed if r.severity == sev and r.state in ("firing", "inhibited"))
        for sev in ("ERROR", "WARNING", "INFO")
    }
    summary["acknowledged"] = sum(1 for r in feed if r.state == "acknowledged")
    return Panel(data={"rows": feed, "summary": summary}, error="; ".join(dict.fromkeys(problems))), by_fp


# ---- IP Reputation Monitor ----------------------------------------------------------------------
@dataclass
class IPRow:
    ip: str
    provider: str
    pool: str
    score: float | None
    lists: list[str]
    volume: float | None
    status: str
    listed_since: float | None

    @property
    def listed_since_text(self) -> str:
        if self.listed_since is None:
            return ""
        ago = max(0, time.time() - self.listed_since)
        h, m = divmod(int(ago // 60), 60)
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.listed_since)) + f" ({h} h {m} min)"


STATUS_ORDER = {"critical": 0, "warning": 1, "unknown": 2, "good": 3}


async def reputation_table(prom: Prometheus, daily_volume_query: str) -> Panel:
    queries = {
        "info": 'reputation_target_info{kind="ip"}',
        "score": "reputation_score",
        "status": "reputation_status == 1",
        "listed": "reputation_listed == 1",
        "since": "min by (target) (reputation_listed_since_timestamp_seconds)",
        "volume": daily_volume_query,
    }
    res = dict(
        zip(
            queries,
            await asyncio.gather(*(prom.query(q) for q in queries.values()), return_exceptions=True),
            strict=True,
        )
    )
    if isinstance(res["info"], BaseException):
        return Panel(error=str(res["info"]))

    def per_target(key: str) -> list[dict[str, Any]]:
        r = res[key]
        return [] if isinstance(r, BaseException) else r

    rows: dict[str, IPRow] = {}
    for s in per_target("info"):
        m = s["metric"]
        rows[m["target"]] = IPRow(
            m["target"], m.get("provider", ""), m.get("pool", ""), None, [], None, "unknown", None
        )
    for s in per_target("score"):
        if s["metric"].get("target") in rows:
            rows[s["metric"]["target"]].score = _value([s])
    for s in per_target("status"):
        if s["metric"].get("target") in rows:
            rows[s["metric"]["target"]].status = s["metric"].get("status", "unknown")
    for s in per_target("listed"):
        if s["metric"].get("target") in rows:
            rows[s["metric"]["target"]].lists.append(s["metric"].get("list", ""))
    for s in per_target("since"):
        if s["metric"].get("target") in rows:
            rows[s["metric"]["target"]].listed_since = _value([s])
    for s in per_target("volume"):
        if s["metric"].get("target") in rows:
            rows[s["metric"]["target"]].volume = _value([s])
    for r in rows.values():
        r.lists.sort()
    table = sorted(rows.values(), key=lambda r: (STATUS_ORDER.get(r.status, 9), r.ip))
    note = "" if not isinstance(res["volume"], BaseException) else f"daily volume: {res['volume']}"
    return Panel(data={"rows": table, "has_since": bool(per_target("since"))}, error=note)
