"""Pyrra ``pyrra.dev/v1alpha1`` ``ServiceLevelObjective`` -> the mixin's SLO model.

Indicators as Pyrra computes them, each as error and total event rates per window:
``ratio`` (errors / total counters), ``latency`` (a classic histogram: total ``_count`` and the
``_bucket{le=...}`` of good requests), ``latencyNative`` (a native histogram: ``histogram_fraction``
below the latency, times ``histogram_count``) and ``bool_gauge`` (samples at 0 out of all samples).
``grouping`` keeps those labels on every rule, so each label value has its own budget and alerts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infrawatch.core.config import Context, Duration, from_yaml

from . import slo_schema as s

if TYPE_CHECKING:
    from .slo_import import Imported, _Doc

LABEL_PREFIX = "pyrra.dev/"


def _by(grouping: list[str]) -> str:
    return f"sum by ({', '.join(grouping)}) " if grouping else "sum"


def _rate(selector: str, grouping: list[str]) -> str:
    return f"{_by(grouping)}(rate({selector}[{{{{.window}}}}]))"


def pyrra(doc: _Doc, result: Imported) -> None:
    from .slo_import import _check_names, _labels, _prefixed

    ctx = Context(doc.loc)
    obj = from_yaml(s.PyrraSLO, doc.value, ctx)
    if ctx.problems:
        result.problems.extend(ctx.problems)
        return
    meta, spec = obj.metadata, obj.spec
    service = meta.namespace or meta.name
    slo_id = f"{service}-{meta.name}"
    _check_names(ctx, service, meta.name, ("metadata", "namespace"), ("metadata", "name"))
    ind, ipath = spec.indicator, ("spec", "indicator")
    events: dict[str, Any]
    if ind.ratio is not None:
        g = ind.ratio.grouping
        events = {
            "errorQuery": _rate(ind.ratio.errors.metric, g),
            "totalQuery": _rate(ind.ratio.total.metric, g),
            "errorSelector": ind.ratio.errors.metric,
            "totalSelector": ind.ratio.total.metric,
        }
    elif ind.latency is not None:
        g = ind.latency.grouping
        if "le=" not in ind.latency.success.metric.replace(" ", ""):
            ctx.error(
                (*ipath, "latency", "success", "metric"), "the success metric needs an le matcher (a histogram bucket)"
            )
        events = {
            "goodQuery": _rate(ind.latency.success.metric, g),
            "totalQuery": _rate(ind.latency.total.metric, g),
            "goodSelector": ind.latency.success.metric,
            "totalSelector": ind.latency.total.metric,
        }
    elif ind.latencyNative is not None:
        n = ind.latencyNative
        try:
            seconds = float(Duration.parse(n.latency))
        except ValueError as exc:
            ctx.error((*ipath, "latencyNative", "latency"), str(exc))
            seconds = 0.0
        hist = _rate(n.total.metric, n.grouping)
        count = f"histogram_count({hist})"
        events = {
            "goodQuery": f"(histogram_fraction(0, {seconds:g}, {hist}) * {count})",
            "totalQuery": count,
        }
    else:
        assert ind.bool_gauge is not None
        b = ind.bool_gauge
        total = f"{_by(b.grouping)}(count_over_time({b.metric}[{{{{.window}}}}]))"
        good = f"{_by(b.grouping)}(sum_over_time({b.metric}[{{{{.window}}}}]))"
        events = {"goodQuery": good, "totalQuery": total}
    if ctx.problems:
        result.problems.extend(_prefixed(ctx.problems, slo_id))
        return
    al = spec.alerting
    burn = al.burnrates and not al.disabled
    labels = {
        k[len(LABEL_PREFIX) :]: v
        for k, v in _labels(doc, ("metadata", "labels"), meta.labels).items()
        if k.startswith(LABEL_PREFIX)
    }
    alerting: dict[str, Any] = {
        "page": burn,
        "ticket": burn,
        "nearlyExhausted": burn,
        "absent": al.absent and not al.disabled,
    }
    if al.name:
        alerting["name"] = al.name
    if al.absentName:
        alerting["absentName"] = al.absentName
    result.slos.append(
        {
            "service": service,
            "name": meta.name,
            "objective": float(spec.target),
            "period": spec.window,
            "description": spec.description,
            "labels": {k.replace("/", "_").replace(".", "_").replace("-", "_"): v for k, v in labels.items()},
            "sli": {"events": events},
            "alerting": alerting,
            "info": {},
            "source": "pyrra.dev/v1alpha1",
            "file": doc.at(()),
        }
    )
