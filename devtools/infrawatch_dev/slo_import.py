"""Import SLO specs written for Sloth (``prometheus/v1``, ``PrometheusServiceLevel``) and OpenSLO
(``openslo/v1``, and the ``openslo/v1alpha`` that Sloth reads) into the mixin's SLO format.

Jsonnet cannot list a folder, so ``make build`` reads ``slos/*.yaml`` here and hands the
normalised list to ``jsonnet/build.jsonnet`` as the ext code ``sloImported``; the mixin then
validates each SLO like the ones in ``config.libsonnet`` (errors name the SLO and the file).
Only what can be computed event-weighted is accepted: ratio SLIs on counters.  Raw ratios,
threshold metrics, Sloth plugins and time-slice budgeting are refused with a message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

SPEC_DIR = "slos"
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}")
PLAIN_SELECTOR = re.compile(r"^\s*[a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{[^{}]*\})?\s*$")
WINDOW = re.compile(r"\{\{\s*\.window\s*\}\}")
LABEL_NAME = re.compile(r"[^a-zA-Z0-9_]")
OPENSLO_UNITS = {"m": "m", "h": "h", "d": "d", "w": "w"}


class SpecError(RuntimeError):
    """A spec that cannot be imported; the message names the file and the SLO."""


def _selector(query: str) -> str | None:
    """The one selector a rate query reads (used to synthesise test input series), if it has one."""
    found = SELECTOR.findall(query)
    if len(found) == 1:
        return f"{found[0][0]}{{{found[0][1]}}}"
    bare = re.fullmatch(r"\s*sum\s*\(\s*rate\s*\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\[[^\]]*\]\s*\)\s*\)\s*", query)
    return f"{bare.group(1)}{{}}" if bare else None


def _labels(raw: Any) -> dict[str, str]:
    """Label maps as Prometheus label names and string values (OpenSLO allows lists)."""
    out: dict[str, str] = {}
    for k, v in (raw or {}).items():
        value = ",".join(str(x) for x in v) if isinstance(v, list) else str(v)
        out[LABEL_NAME.sub("_", str(k))] = value
    return out


def _events(error_query: str | None, good_query: str | None, total_query: str) -> dict[str, Any]:
    events: dict[str, Any] = {"totalQuery": total_query}
    if error_query is not None:
        events["errorQuery"] = error_query
    else:
        events["goodQuery"] = good_query
    # Selectors only feed the generated tests' input series.
    for key, query in (("totalSelector", total_query), ("errorSelector", error_query), ("goodSelector", good_query)):
        sel = _selector(query) if query else None
        if sel:
            events[key] = sel
    if "totalSelector" not in events or ("errorSelector" not in events and "goodSelector" not in events):
        for key in ("totalSelector", "errorSelector", "goodSelector"):
            events.pop(key, None)
    return events


# ---- Sloth ----------------------------------------------------------------------------------
def _sloth(doc: dict[str, Any], where: str) -> list[dict[str, Any]]:
    spec = doc.get("spec", doc) if doc.get("kind") == "PrometheusServiceLevel" else doc
    service = spec.get("service")
    if not service:
        raise SpecError(f"{where}: Sloth spec without `service`")
    out = []
    for slo in spec.get("slos") or []:
        name = slo.get("name", "?")
        slo_id = f"{service}-{name}"
        sli = slo.get("sli") or {}
        if "events" not in sli:
            kind = next(iter(sli), "nothing")
            raise SpecError(
                f'SLO "{slo_id}" ({where}): sli.{kind} is not supported; only sli.events '
                "(error_query/total_query) can be computed event-weighted"
            )
        ev = sli["events"]
        for key in ("error_query", "total_query"):
            if not WINDOW.search(ev.get(key, "")):
                raise SpecError(f'SLO "{slo_id}" ({where}): sli.events.{key} needs a {{{{.window}}}} placeholder')
        alerting = slo.get("alerting") or {}
        page = alerting.get("page_alert") or {}
        ticket = alerting.get("ticket_alert") or {}
        out.append(
            {
                "service": service,
                "name": name,
                "objective": slo.get("objective"),
                "description": slo.get("description", ""),
                "labels": _labels(spec.get("labels")) | _labels(slo.get("labels")),
                "sli": {"events": _events(ev["error_query"], None, ev["total_query"])},
                "alerting": {
                    "page": not page.get("disable", False),
                    "ticket": not ticket.get("disable", False),
                    "labels": _labels(alerting.get("labels")),
                    "annotations": {str(k): str(v) for k, v in (alerting.get("annotations") or {}).items()},
                    "pageLabels": _labels(page.get("labels")),
                    "ticketLabels": _labels(ticket.get("labels")),
                },
                "info": {"sloth_alert_name": alerting["name"]} if alerting.get("name") else {},
                "source": "prometheus/v1",
                "file": where,
            }
        )
    return out


# ---- OpenSLO --------------------------------------------------------------------------------
def _openslo_query(side: dict[str, Any] | None, slo_id: str, where: str, what: str) -> str | None:
    if side is None:
        return None
    source = side.get("metricSource") or {}
    kind = str(source.get("type", "prometheus")).lower()
    if kind != "prometheus":
        raise SpecError(f'SLO "{slo_id}" ({where}): {what} metric source type {source.get("type")!r} is not Prometheus')
    query = (source.get("spec") or {}).get("query") or side.get("query")
    if not query:
        raise SpecError(f'SLO "{slo_id}" ({where}): {what} has no spec.query')
    return _counter_query(query, slo_id, where, what)


def _counter_query(query: str, slo_id: str, where: str, what: str) -> str:
    """A counter query as a per-window rate: templates pass through, selectors are rated."""
    query = query.strip()
    if WINDOW.search(query):
        return query
    inner = re.match(r"^sum\s*\((.*)\)$", query, re.S)
    selector = inner.group(1) if inner else query
    if PLAIN_SELECTOR.match(selector):
        return f"sum(rate({selector.strip()}[{{{{.window}}}}]))"
    raise SpecError(
        f'SLO "{slo_id}" ({where}): {what} query {query!r} must be a counter selector '
        "(optionally inside sum()) or use a {{.window}} placeholder"
    )


def _openslo_duration(tw: dict[str, Any], slo_id: str, where: str) -> str:
    if "duration" in tw:  # v1
        d = str(tw["duration"])
        if tw.get("calendar") or tw.get("isRolling") is False:
            raise SpecError(f'SLO "{slo_id}" ({where}): calendar-aligned time windows are not supported')
    else:  # v1alpha: count + unit
        unit = {"day": "d", "week": "w", "hour": "h", "minute": "m"}.get(str(tw.get("unit", "")).lower())
        if unit is None or tw.get("isRolling") is False or tw.get("calendar"):
            raise SpecError(f'SLO "{slo_id}" ({where}): time window {tw} is not a rolling window in days/weeks')
        d = f"{tw.get('count')}{unit}"
    if not re.fullmatch(r"\d+[mhdw]", d):
        raise SpecError(f'SLO "{slo_id}" ({where}): time window {d!r} must be a rolling duration like 28d or 4w')
    return d


def _openslo(doc: dict[str, Any], slis: dict[str, dict[str, Any]], where: str) -> list[dict[str, Any]]:
    meta = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    service = spec.get("service")
    base_name = meta.get("name", "?")
    slo_id = f"{service}-{base_name}"
    if not service:
        raise SpecError(f'SLO "{base_name}" ({where}): OpenSLO spec without spec.service')
    method = spec.get("budgetingMethod", "Occurrences")
    if method != "Occurrences":
        raise SpecError(f'SLO "{slo_id}" ({where}): budgetingMethod {method} is not supported (only Occurrences)')
    windows = spec.get("timeWindow") or spec.get("timeWindows") or []
    period = _openslo_duration(windows[0], slo_id, where) if windows else None

    objectives = spec.get("objectives") or []
    if doc["apiVersion"] == "openslo/v1alpha":
        pairs = []
        for obj in objectives:
            rm = obj.get("ratioMetrics")
            if not rm:
                raise SpecError(f'SLO "{slo_id}" ({where}): only ratioMetrics objectives are supported')
            pairs.append((obj, rm))
    else:
        indicator = spec.get("indicator")
        if indicator is None and spec.get("indicatorRef"):
            indicator = slis.get(spec["indicatorRef"])
            if indicator is None:
                raise SpecError(f'SLO "{slo_id}" ({where}): indicatorRef {spec["indicatorRef"]!r} not found')
        rm = ((indicator or {}).get("spec") or {}).get("ratioMetric")
        if not rm:
            raise SpecError(
                f'SLO "{slo_id}" ({where}): only ratioMetric indicators are supported '
                "(thresholdMetric cannot be computed event-weighted)"
            )
        if "raw" in rm:
            raise SpecError(
                f'SLO "{slo_id}" ({where}): ratioMetric.raw is not supported: a precomputed ratio '
                "cannot be event-weighted; give good/bad and total"
            )
        if rm.get("counter") is False:
            raise SpecError(f'SLO "{slo_id}" ({where}): ratioMetric.counter false is not supported (counters only)')
        pairs = [(obj, rm) for obj in objectives]

    out = []
    for i, (obj, rm) in enumerate(pairs):
        name = base_name
        if len(pairs) > 1:
            name = f"{base_name}-" + re.sub(r"[^a-z0-9]+", "-", str(obj.get("displayName") or i).lower()).strip("-")
        this_id = f"{service}-{name}"
        if "targetPercent" in obj:
            objective = obj["targetPercent"]
        elif "target" in obj:
            objective = round(float(obj["target"]) * 100, 10)
        else:
            raise SpecError(f'SLO "{this_id}" ({where}): objective without target or targetPercent')
        good = _openslo_query(rm.get("good"), this_id, where, "good")
        bad = _openslo_query(rm.get("bad"), this_id, where, "bad")
        total = _openslo_query(rm.get("total"), this_id, where, "total")
        if total is None or (good is None and bad is None):
            raise SpecError(f'SLO "{this_id}" ({where}): ratioMetric needs total and good or bad')
        slo = {
            "service": service,
            "name": name,
            "objective": objective,
            "description": spec.get("description", "") or meta.get("displayName", ""),
            "labels": _labels(meta.get("labels")),
            "sli": {"events": _events(bad, good if bad is None else None, total)},
            "info": {"openslo_display_name": meta["displayName"]} if meta.get("displayName") else {},
            "source": doc["apiVersion"],
            "file": where,
        }
        if period:
            slo["period"] = period
        out.append(slo)
    return out


def load_docs(path: Path, root: Path) -> list[tuple[dict[str, Any], str]]:
    where = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    except yaml.YAMLError as exc:
        raise SpecError(f"{where}: not valid YAML: {exc}") from exc
    return [(d, where) for d in docs]


def import_specs(paths: list[Path], root: Path) -> list[dict[str, Any]]:
    """Normalised SLOs of every spec document in ``paths`` (multi-document YAML allowed)."""
    docs = [dw for p in paths for dw in load_docs(p, root)]
    slis = {
        (d.get("metadata") or {}).get("name"): d
        for d, _ in docs
        if str(d.get("apiVersion", "")).startswith("openslo/") and d.get("kind") == "SLI"
    }
    out: list[dict[str, Any]] = []
    for doc, where in docs:
        if not isinstance(doc, dict):
            raise SpecError(f"{where}: a spec document must be a mapping")
        api = str(doc.get("apiVersion", doc.get("version", "")))
        kind = doc.get("kind")
        if api == "prometheus/v1" or kind == "PrometheusServiceLevel":
            out += _sloth(doc, where)
        elif api in ("openslo/v1", "openslo/v1alpha") and kind == "SLO":
            out += _openslo(doc, slis, where)
        elif api.startswith("openslo/") and kind in (
            "SLI",
            "DataSource",
            "Service",
            "AlertPolicy",
            "AlertCondition",
            "AlertNotificationTarget",
        ):
            continue  # referenced objects; alerting comes from the mixin's tiers
        else:
            raise SpecError(
                f"{where}: unknown spec (version/apiVersion {api!r}, kind {kind!r}); "
                "expected Sloth prometheus/v1 or OpenSLO v1 SLO"
            )
    return out


def load_folder(root: Path, folder: str = SPEC_DIR) -> list[dict[str, Any]]:
    d = root / folder
    if not d.is_dir():
        return []
    return import_specs(sorted([*d.glob("*.yaml"), *d.glob("*.yml")]), root)
