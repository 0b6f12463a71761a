"""Import SLO specs teams already have into the mixin's SLO model (spec -> model -> generator).

Formats (schemas in ``slo_schema``, read by ``infrawatch.core.config`` like every other loader):
Sloth ``prometheus/v1`` and its ``PrometheusServiceLevel`` CRD (camelCase), OpenSLO ``openslo/v1``
(and the ``openslo/v1alpha`` Sloth reads), Pyrra ``ServiceLevelObjective``.

Jsonnet cannot list a folder, so ``make build`` reads ``slos/*.yaml`` here and hands the normalised
list to ``jsonnet/build.jsonnet`` as the ext code ``sloImported``.  A problem refuses only the SLO it
belongs to (or the document, when the document itself is broken): it is reported as
``file:line: key.path: message`` and ``infrawatch build`` exits 2 after writing the other SLOs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infrawatch.core.config import ConfigError, Context, Locator, Problem, from_yaml, load_yaml_documents

from . import slo_schema as s

SPEC_DIR = "slos"
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}")
PLAIN_SELECTOR = re.compile(r"^\s*[a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{[^{}]*\})?\s*$")
WINDOW = s.WINDOW
LABEL_SAFE = re.compile(r"[^a-zA-Z0-9_]")
NAME_SAFE = re.compile(r"^[a-zA-Z0-9_.-]+$")

# Sloth SLO plugins that change nothing infrawatch generates (the defaults, which infrawatch's own
# generator replaces, and debugging aids) and those that are plain rule transformations it applies.
SLOTH_NOOP_PLUGINS = {
    "sloth.dev/core/debug/v1",
    "sloth.dev/core/noop/v1",
    "sloth.dev/core/validate/v1",
    "sloth.dev/core/sli_rules/v1",
    "sloth.dev/core/metadata_rules/v1",
    "sloth.dev/core/alert_rules/v1",
}
SLOTH_INFO_LABELS_PLUGIN = "sloth.dev/contrib/info_labels/v1"


@dataclass
class Imported:
    """The SLOs that imported and the problems of those that did not."""

    slos: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Doc:
    value: Any
    loc: Locator
    texts: dict[tuple, str]
    where: str

    def at(self, path: tuple) -> str:
        """``file:line`` of a key path (the SLO's position, carried into jsonnet's messages)."""
        line = self.loc.line(path)
        return f"{self.where}:{line}" if line else self.where

    def text(self, path: tuple, value: Any) -> str:
        """A label value as written in YAML (``true``, ``2``, ``1.10``), never Python's ``True``."""
        if isinstance(value, list):
            return ",".join(self.text((*path, i), v) for i, v in enumerate(value))
        return self.texts.get(path, str(value))


def _scalar_texts(node: yaml.Node, path: tuple, out: dict[tuple, str]) -> None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            _scalar_texts(v, (*path, str(k.value)), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _scalar_texts(v, (*path, i), out)
    elif isinstance(node, yaml.ScalarNode):
        out[path] = node.value


def _documents(path: Path, root: Path, result: Imported) -> list[_Doc]:
    where = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        result.problems.append(Problem(where, None, (), f"cannot read spec file: {exc}"))
        return []
    docs: list[_Doc] = []
    try:
        # The house loader: located errors, duplicate keys refused, size/nesting/alias bounds.
        for node, value, loc in load_yaml_documents(text, where):
            texts: dict[tuple, str] = {}
            _scalar_texts(node, (), texts)
            docs.append(_Doc(value, loc, texts, where))
    except ConfigError as exc:
        result.problems.extend(exc.problems)
    return docs


def _labels(doc: _Doc, path: tuple, labels: dict[str, Any], sanitise: bool = False) -> dict[str, str]:
    out = {}
    for k, v in labels.items():
        name = LABEL_SAFE.sub("_", str(k)) if sanitise else str(k)
        out[name] = doc.text((*path, k), v)
    return out


def _strings(d: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in d.items()}


def window_query(selector: str, grouping: list[str] | tuple[str, ...] = (), function: str = "rate") -> str:
    """``sum[ by (grouping)] (function(selector[{{.window}}]))``: the per-window query of a selector
    (OpenSLO's counters, Pyrra's indicators)."""
    by = f"sum by ({', '.join(grouping)}) " if grouping else "sum"
    return f"{by}({function}({selector.strip()}[{{{{.window}}}}]))"


_BARE = re.compile(
    r"\s*sum\s*(?:by\s*\([^)]*\)\s*)?\(\s*rate\s*\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\[[^\]]*\]\s*\)\s*\)\s*"
)


def _selector(query: str) -> str | None:
    """The one selector a rate query reads (used to synthesise test input series), if it has one."""
    found = SELECTOR.findall(query)
    if len(found) == 1:
        return f"{found[0][0]}{{{found[0][1]}}}"
    bare = _BARE.fullmatch(query)
    return f"{bare.group(1)}{{}}" if bare else None


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


def _check_names(ctx: Context, service: str, name: str, service_path: tuple, name_path: tuple) -> None:
    if not NAME_SAFE.match(service):
        ctx.error(service_path, f"service {service!r} must be a non-empty name of letters, digits, '-', '_', '.'")
    if not NAME_SAFE.match(name):
        ctx.error(name_path, f"name {name!r} must be a non-empty name of letters, digits, '-', '_', '.'")


def parse(cls: type, doc: _Doc, result: Imported) -> tuple[Any, Context] | None:
    """``doc`` read with the schema ``cls``; ``None`` (its problems recorded) when the document itself
    is broken, so none of its SLOs can be built."""
    ctx = Context(doc.loc)
    obj = from_yaml(cls, doc.value, ctx)
    if ctx.problems:
        result.problems.extend(ctx.problems)
        return None
    return obj, ctx


def _prefixed(problems: list[Problem], slo_id: str) -> list[Problem]:
    return [Problem(p.file, p.line, p.path, f'SLO "{slo_id}": {p.message}') for p in problems]


# ---- Sloth ----------------------------------------------------------------------------------
def _sloth_plugins(
    doc: _Doc, plugins: s.SlothPlugins | None, ctx: Context, path: tuple, info: dict[str, str], key: str
) -> None:
    if plugins is None:
        return
    for i, p in enumerate(plugins.chain):
        where = (*path, key, "chain", i, "id")
        if p.id in SLOTH_NOOP_PLUGINS:
            continue
        if p.id == SLOTH_INFO_LABELS_PLUGIN:
            cfg = p.config if isinstance(p.config, dict) else {}
            labels = cfg.get("labels")
            if not isinstance(labels, dict) or set(cfg) - {"labels"}:
                ctx.error(
                    where, f"plugin {p.id}: config needs `labels` (a mapping) and nothing else (metricName unsupported)"
                )
                continue
            info.update(_labels(doc, (*path, key, "chain", i, "config", "labels"), labels, sanitise=True))
            continue
        ctx.error(
            where,
            f"Sloth plugin {p.id!r} is not supported (infrawatch applies "
            f"{', '.join(sorted(SLOTH_NOOP_PLUGINS | {SLOTH_INFO_LABELS_PLUGIN}))}); remove it or "
            "express it in the mixin",
        )


def _sloth(doc: _Doc, crd: bool, result: Imported) -> None:
    ctx = Context(doc.loc)
    if crd:
        from_yaml(s.SlothCRD, doc.value, ctx)
        base: tuple = ("spec",)
        spec_raw = doc.value.get("spec") if isinstance(doc.value, dict) else None
        body = from_yaml(s.camel_variant(s.SlothSpecBody), spec_raw, ctx, base)
        slo_cls = s.camel_variant(s.SlothSLO)
        group_key, slo_key, page_key, ticket_key = "sloPlugins", "plugins", "pageAlert", "ticketAlert"
        source = "sloth.slok.dev/v1"
    else:
        body = from_yaml(s.SlothSpec, doc.value, ctx)
        base = ()
        slo_cls = s.SlothSLO
        group_key, slo_key, page_key, ticket_key = "slo_plugins", "plugins", "page_alert", "ticket_alert"
        source = "prometheus/v1"
    group_info: dict[str, str] = {}
    if not ctx.problems:
        _sloth_plugins(doc, body.slo_plugins, ctx, base, group_info, group_key)
    if ctx.problems:  # the document itself is broken: none of its SLOs can be built
        result.problems.extend(ctx.problems)
        return
    spec_labels = _labels(doc, (*base, "labels"), body.labels)
    for i, raw in enumerate(body.slos):
        path = (*base, "slos", i)
        sctx = Context(doc.loc)
        slo = from_yaml(slo_cls, raw, sctx, path)
        name = getattr(slo, "name", "") or "?"
        slo_id = f"{body.service}-{name}"
        if sctx.problems:
            result.problems.extend(_prefixed(sctx.problems, slo_id))
            continue
        _check_names(sctx, body.service, slo.name, (*base, "service"), (*path, "name"))
        info = dict(group_info)
        _sloth_plugins(doc, slo.plugins, sctx, path, info, slo_key)
        if slo.sli.plugin is not None:
            sctx.error(
                (*path, "sli", "plugin", "id"),
                f"Sloth SLI plugin {slo.sli.plugin.id!r} is not supported: infrawatch does not run Sloth's "
                "Go plugins; write the queries it generates as sli.events (or sli.raw)",
            )
        if sctx.problems:
            result.problems.extend(_prefixed(sctx.problems, slo_id))
            continue
        if slo.sli.events is not None:
            ev = slo.sli.events
            sli: dict[str, Any] = {"events": _events(ev.error_query, None, ev.total_query)}
        else:
            assert slo.sli.raw is not None
            sli = {"raw": {"errorRatioQuery": slo.sli.raw.error_ratio_query}}
        al = slo.alerting
        apath = (*path, "alerting")
        page, ticket = al.page_alert, al.ticket_alert
        if al.name:
            info["sloth_alert_name"] = al.name
        result.slos.append(
            {
                "service": body.service,
                "name": slo.name,
                "objective": slo.objective,
                "description": slo.description,
                "labels": spec_labels | _labels(doc, (*path, "labels"), slo.labels),
                "sli": sli,
                "alerting": {
                    "page": not page.disable,
                    "ticket": not ticket.disable,
                    # Both Sloth alerts disabled: no alert at all for this SLO.
                    "nearlyExhausted": not ticket.disable,
                    "absent": not (page.disable and ticket.disable),
                    "labels": _labels(doc, (*apath, "labels"), al.labels),
                    "annotations": _labels(doc, (*apath, "annotations"), al.annotations),
                    "pageLabels": _labels(doc, (*apath, page_key, "labels"), page.labels),
                    "ticketLabels": _labels(doc, (*apath, ticket_key, "labels"), ticket.labels),
                    "pageAnnotations": _labels(doc, (*apath, page_key, "annotations"), page.annotations),
                    "ticketAnnotations": _labels(doc, (*apath, ticket_key, "annotations"), ticket.annotations),
                    **({"name": al.name} if al.name else {}),
                },
                "info": info,
                "source": source,
                "file": doc.at(path),
            }
        )


# ---- OpenSLO --------------------------------------------------------------------------------
def _counter_query(query: str, ctx: Context, path: tuple) -> str | None:
    """A counter query as a per-window rate: templates pass through, selectors are rated."""
    query = query.strip()
    if WINDOW.search(query):
        return query
    inner = re.match(r"^sum\s*\((.*)\)$", query, re.S)
    selector = inner.group(1) if inner else query
    if PLAIN_SELECTOR.match(selector):
        return window_query(selector)
    ctx.error(
        path,
        f"query {query!r} must be a counter selector (optionally inside sum()) or use a {{{{.window}}}} placeholder",
    )
    return None


def _openslo_metric(m: s.OpenSLOMetric | None, ctx: Context, path: tuple) -> str | None:
    if m is None:
        return None
    src = m.metricSource
    spath = (*path, "metricSource")
    if src.type.lower() != "prometheus":
        ctx.error((*spath, "type"), f"metric source type {src.type!r} is not Prometheus")
        return None
    query = src.spec.get("query")
    if not isinstance(query, str) or not query:
        ctx.error((*spath, "spec"), "a Prometheus metric source needs spec.query")
        return None
    return _counter_query(query, ctx, (*spath, "spec", "query"))


def _openslo_window(spec: s.OpenSLOSpec, ctx: Context, path: tuple) -> str | None:
    if not spec.timeWindow:
        return None
    if len(spec.timeWindow) > 1:
        ctx.error((*path, "timeWindow"), "only one time window is supported")
    tw = spec.timeWindow[0]
    wpath = (*path, "timeWindow", 0)
    if tw.calendar is not None or not tw.isRolling:
        ctx.error(wpath, "calendar-aligned time windows are not supported (rolling windows only)")
    elif not re.fullmatch(r"\d+[mhdw]", tw.duration):
        ctx.error((*wpath, "duration"), f"time window {tw.duration!r} must be a rolling duration like 28d or 4w")
    return tw.duration


def _openslo_v1(doc: _Doc, slis: dict[str, tuple[_Doc, s.OpenSLOSLI]], result: Imported) -> None:
    parsed = parse(s.OpenSLOSLO, doc, result)
    if parsed is None:
        return
    slo, ctx = parsed
    spec, meta = slo.spec, slo.metadata
    sp = ("spec",)
    _check_names(ctx, spec.service, meta.name, (*sp, "service"), ("metadata", "name"))
    if spec.budgetingMethod != "Occurrences":
        ctx.error(
            (*sp, "budgetingMethod"),
            f"budgetingMethod {spec.budgetingMethod} is not supported "
            "(only Occurrences: time slices cannot be event-weighted)",
        )
    period = _openslo_window(spec, ctx, sp)
    base_id = f"{spec.service}-{meta.name}"
    if ctx.problems:
        result.problems.extend(_prefixed(ctx.problems, base_id))
        return
    for i, obj in enumerate(spec.objectives):
        opath = (*sp, "objectives", i)
        octx = Context(doc.loc)
        name = f"{meta.name}-{i}"  # Sloth's scheme: <service>-<name>-<index>
        slo_id = f"{spec.service}-{name}"
        indicator, ipath, idoc = obj.indicator or spec.indicator, (*opath, "indicator"), doc
        if obj.indicator is None:
            ipath = (*sp, "indicator")
        ref = obj.indicatorRef or spec.indicatorRef
        if indicator is None and ref:
            if ref not in slis:
                octx.error((*sp, "indicatorRef"), f"indicatorRef {ref!r}: no SLI document of that name")
            else:
                idoc, sli_obj = slis[ref]
                indicator, ipath = sli_obj, ()  # type: ignore[assignment]
        if indicator is None and not octx.problems:
            octx.error(sp, "needs an indicator or an indicatorRef")
        rm = indicator.spec.ratioMetric if indicator is not None else None
        ictx = Context(idoc.loc) if idoc is not doc else octx
        if indicator is not None and rm is None:
            ictx.error(
                (*ipath, "spec"),
                "only ratioMetric indicators are supported (a thresholdMetric cannot be computed event-weighted)",
            )
        good = bad = total = None
        if rm is not None:
            rpath = (*ipath, "spec", "ratioMetric")
            if rm.raw is not None:
                ictx.error((*rpath, "raw"), "ratioMetric.raw is not supported: give good or bad and total counters")
            if not rm.counter:
                ictx.error((*rpath, "counter"), "ratioMetric.counter false is not supported (counters only)")
            good = _openslo_metric(rm.good, ictx, (*rpath, "good"))
            bad = _openslo_metric(rm.bad, ictx, (*rpath, "bad"))
            total = _openslo_metric(rm.total, ictx, (*rpath, "total"))
            if not ictx.problems and (total is None or (good is None) == (bad is None)):
                ictx.error(rpath, "ratioMetric needs total and exactly one of good and bad")
        problems = octx.problems + (ictx.problems if ictx is not octx else [])
        if problems:
            result.problems.extend(_prefixed(problems, slo_id))
            continue
        assert total is not None
        objective = obj.targetPercent if obj.targetPercent is not None else round(float(obj.target or 0) * 100, 10)
        info = {"openslo_display_name": meta.displayName} if meta.displayName else {}
        if obj.displayName:
            info["openslo_objective"] = obj.displayName
        out: dict[str, Any] = {
            "service": spec.service,
            "name": name,
            "objective": objective,
            "description": spec.description or meta.displayName,
            "labels": _labels(doc, ("metadata", "labels"), meta.labels, sanitise=True),
            "sli": {"events": _events(bad, good if bad is None else None, total)},
            "info": info,
            "source": "openslo/v1",
            "file": doc.at(opath),
        }
        if period:
            out["period"] = period
        result.slos.append(out)


def _openslo_v1alpha(doc: _Doc, result: Imported) -> None:
    parsed = parse(s.OpenSLOAlphaSLO, doc, result)
    if parsed is None:
        return
    slo, ctx = parsed
    spec, meta, sp = slo.spec, slo.metadata, ("spec",)
    _check_names(ctx, spec.service, meta.name, (*sp, "service"), ("metadata", "name"))
    if spec.budgetingMethod != "Occurrences":
        ctx.error(
            (*sp, "budgetingMethod"), f"budgetingMethod {spec.budgetingMethod} is not supported (only Occurrences)"
        )
    period = None
    if spec.timeWindows:
        tw = spec.timeWindows[0]
        unit = {"day": "d", "week": "w", "hour": "h", "minute": "m"}.get(tw.unit.lower())
        if unit is None or not tw.isRolling or tw.calendar:
            ctx.error(
                (*sp, "timeWindows", 0), f"time window {tw.count} {tw.unit} is not a rolling window in days/weeks"
            )
        period = f"{tw.count}{unit}"
    if ctx.problems:
        result.problems.extend(_prefixed(ctx.problems, f"{spec.service}-{meta.name}"))
        return
    for i, obj in enumerate(spec.objectives):
        opath = (*sp, "objectives", i)
        octx = Context(doc.loc)
        name = f"{meta.name}-{i}"
        rm = obj.ratioMetrics
        if rm is None:
            octx.error(opath, "only ratioMetrics objectives are supported")
        else:
            rpath = (*opath, "ratioMetrics")
            queries = {}
            for key in ("good", "bad", "total"):
                q = getattr(rm, key)
                if q is not None:
                    if q.source.lower() != "prometheus":
                        octx.error((*rpath, key, "source"), f"source {q.source!r} is not prometheus")
                    queries[key] = _counter_query(q.query, octx, (*rpath, key, "query"))
            if ("good" in queries) == ("bad" in queries):
                octx.error(rpath, "ratioMetrics needs exactly one of good and bad")
        if octx.problems:
            result.problems.extend(_prefixed(octx.problems, f"{spec.service}-{name}"))
            continue
        out: dict[str, Any] = {
            "service": spec.service,
            "name": name,
            "objective": round(obj.target * 100, 10),
            "description": spec.description or meta.displayName,
            "labels": _labels(doc, ("metadata", "labels"), meta.labels, sanitise=True),
            "sli": {"events": _events(queries.get("bad"), queries.get("good"), queries["total"])},
            "info": {"openslo_display_name": meta.displayName} if meta.displayName else {},
            "source": "openslo/v1alpha",
            "file": doc.at(opath),
        }
        if period:
            out["period"] = period
        result.slos.append(out)


# ---- Dispatch -------------------------------------------------------------------------------
OPENSLO_REFERENCED_KINDS = ("DataSource", "Service", "AlertPolicy", "AlertCondition", "AlertNotificationTarget")


def import_specs(paths: list[Path], root: Path) -> Imported:
    """Normalised SLOs of every spec document in ``paths`` (multi-document YAML allowed), and the
    located problems of those that could not be imported."""
    result = Imported()
    docs = [d for p in paths for d in _documents(p, root, result)]
    slis: dict[str, tuple[_Doc, s.OpenSLOSLI]] = {}
    for d in docs:
        v = d.value
        if isinstance(v, dict) and v.get("apiVersion") == "openslo/v1" and v.get("kind") == "SLI":
            ctx = Context(d.loc)
            sli = from_yaml(s.OpenSLOSLI, v, ctx)
            result.problems.extend(ctx.problems)
            if not ctx.problems:
                slis[sli.metadata.name] = (d, sli)
    for d in docs:
        v = d.value
        if not isinstance(v, dict):
            result.problems.append(Problem(d.where, d.loc.line(()), (), "a spec document must be a mapping"))
            continue
        api, kind = str(v.get("apiVersion", v.get("version", ""))), v.get("kind")
        if "version" in v and "apiVersion" not in v:
            _sloth(d, crd=False, result=result)
        elif kind == "PrometheusServiceLevel":
            _sloth(d, crd=True, result=result)
        elif api == "openslo/v1" and kind == "SLO":
            _openslo_v1(d, slis, result)
        elif api == "openslo/v1alpha" and kind == "SLO":
            _openslo_v1alpha(d, result)
        elif kind == "ServiceLevelObjective" and api.startswith("pyrra.dev/"):
            from .slo_pyrra import pyrra

            pyrra(d, result)
        elif api.startswith("openslo/") and kind in ("SLI", *OPENSLO_REFERENCED_KINDS):
            continue  # SLIs are read above; alerting comes from the mixin's tiers
        else:
            result.problems.append(
                Problem(
                    d.where,
                    d.loc.line(()),
                    (),
                    f"unknown spec (version/apiVersion {api!r}, kind {kind!r}); expected Sloth prometheus/v1 or "
                    "sloth.slok.dev/v1 PrometheusServiceLevel, OpenSLO v1 SLO/SLI, or Pyrra ServiceLevelObjective",
                )
            )
    seen: dict[str, str] = {}
    unique = []
    for slo in result.slos:
        sid = f"{slo['service']}-{slo['name']}"
        if sid in seen:
            result.problems.append(_located(slo, (), f"already defined at {seen[sid]}"))
            continue
        seen[sid] = slo["file"]
        unique.append(slo)
    result.slos = unique
    return result


def spec_files(root: Path, folder: str = SPEC_DIR) -> list[Path]:
    d = root / folder
    return sorted([*d.glob("*.yaml"), *d.glob("*.yml")]) if d.is_dir() else []


_QUERY_KEYS = (
    ("sli", "events", "errorQuery"),
    ("sli", "events", "goodQuery"),
    ("sli", "events", "totalQuery"),
    ("sli", "raw", "errorRatioQuery"),
)
_TEMPLATE_KEYS = ("labels", "alerting.labels", "alerting.pageLabels", "alerting.ticketLabels")
_TEMPLATE_KEYS += ("alerting.annotations", "alerting.pageAnnotations", "alerting.ticketAnnotations")
_PROMTOOL_PROBLEM = re.compile(r'group "(?P<group>[^"]*)", rule (?P<rule>\d+), "[^"]*": (?P<detail>.*)$')


def _located(slo: dict[str, Any], key: tuple, message: str) -> Problem:
    file, _, line = slo["file"].rpartition(":")
    sid = f"{slo['service']}-{slo['name']}"
    return Problem(file, int(line) if line.isdigit() else None, key, f'SLO "{sid}": {message}')


def _get(d: dict[str, Any], dotted: str) -> Any:
    for k in dotted.split("."):
        d = d.get(k, {}) if isinstance(d, dict) else {}
    return d


def precheck(slos: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """``promtool check rules`` on what each imported SLO brings of its own (its queries, alone and in
    parentheses, and its label and annotation templates), before the mixin generates anything from
    it: a refused SLO reaches no rule file, PrometheusRule object or combined manifest.  One promtool
    run for all SLOs (a group per SLO); without promtool nothing is refused here (``check_rules``
    reports it)."""
    promtool = shutil.which("promtool")
    if promtool is None or not slos:
        return slos, []
    groups, keys = [], {}
    for slo in slos:
        sid = f"{slo['service']}-{slo['name']}"
        rules: list[dict[str, Any]] = []
        keys[sid] = []
        for key in _QUERY_KEYS:
            query = _get(slo, ".".join(key))
            if isinstance(query, str) and query:
                text = WINDOW.sub("5m", query)
                for expr in (text, f"({text})"):
                    rules.append({"record": "slo_spec:check", "expr": expr})
                    keys[sid].append(key)
        labels: dict[str, str] = {}
        annotations: dict[str, str] = {}
        for dotted in _TEMPLATE_KEYS:
            (annotations if "nnotations" in dotted else labels).update(_strings(_get(slo, dotted) or {}))
        rules.append({"alert": "SLOSpecCheck", "expr": "vector(1)", "labels": labels, "annotations": annotations})
        keys[sid].append(("alerting",))
        groups.append({"name": sid, "rules": rules})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "slo-specs.yaml"
        path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        res = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    if res.returncode == 0:
        return slos, []
    by_id = {f"{s['service']}-{s['name']}": s for s in slos}
    refused: dict[str, Problem] = {}
    for line in (res.stdout + res.stderr).splitlines():
        m = _PROMTOOL_PROBLEM.search(line)
        if m and m["group"] in by_id and m["group"] not in refused:
            key = keys[m["group"]][int(m["rule"]) - 1]
            refused[m["group"]] = _located(by_id[m["group"]], key, f"promtool: {m['detail']}")
    if not refused:  # an output this parser does not know: refuse nothing silently, say it
        return slos, [Problem(SPEC_DIR, None, (), f"promtool: {(res.stdout + res.stderr).strip()[-500:]}")]
    kept = [s for s in slos if f"{s['service']}-{s['name']}" not in refused]
    return kept, list(refused.values())


_LOADED: dict[tuple, Imported] = {}


def load(root: Path, folder: str = SPEC_DIR) -> Imported:
    """The SLOs of ``folder`` that import and pass ``precheck``, and the problems of the others
    (kept per file state: the build reads it several times)."""
    files = spec_files(root, folder)
    state = (str(root), *((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    if state not in _LOADED:
        result = import_specs(files, root)
        result.slos, problems = precheck(result.slos)
        result.problems.extend(problems)
        _LOADED[state] = result
    return _LOADED[state]


def load_folder(root: Path, folder: str = SPEC_DIR) -> list[dict[str, Any]]:
    """The SLOs of ``slos/`` that imported (``load`` also gives the problems)."""
    return load(root, folder).slos


def check_rules(root: Path, slos: list[dict[str, Any]]) -> list[Problem]:
    """``promtool check rules`` on the rule files of the imported SLOs (their queries are the spec's,
    so a function Prometheus does not have is caught at build, not when Prometheus loads the file).
    A failing SLO's rule file is removed, so a half-valid file never reaches Prometheus."""
    files = {f"{s['service']}-{s['name']}": root / "rules" / f"slo-{s['service']}-{s['name']}.yaml" for s in slos}
    files = {k: v for k, v in files.items() if v.exists()}
    if not files:
        return []
    promtool = shutil.which("promtool")
    if promtool is None:
        return [Problem(SPEC_DIR, None, (), "promtool not found: the imported SLOs' rules cannot be checked")]
    problems = []
    for sid, path in files.items():
        res = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
        if res.returncode == 0:
            continue
        slo = next(s for s in slos if f"{s['service']}-{s['name']}" == sid)
        errors = [x.strip() for x in (res.stdout + res.stderr).splitlines() if "could not parse" in x or "error" in x]
        detail = (errors[0] if errors else res.stderr.strip()).replace(str(path) + ": ", "")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        problems.append(_located(slo, ("sli",), f"promtool: {detail}{more}"))
        # Neither the rule file, its PrometheusRule manifest nor its generated tests are kept.
        for stale in (
            path,
            root / "rules" / "kubernetes" / path.name,
            *(root / "tests/rules/generated").glob(f"slo-{sid}*.yaml"),
        ):
            stale.unlink(missing_ok=True)
    return problems
