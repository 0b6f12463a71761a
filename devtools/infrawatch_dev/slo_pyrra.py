"""Pyrra ``pyrra.dev/v1alpha1`` ``ServiceLevelObjective`` -> the mixin's SLO model.

Indicators as Pyrra computes them, each as error and total event rates per window:
``ratio`` (errors / total counters), ``latency`` (a classic histogram: total ``_count`` and the
``_bucket{le=...}`` of good requests), ``latencyNative`` (a native histogram: ``histogram_fraction``
below the latency, times ``histogram_count``) and ``bool_gauge`` (samples at 0 out of all samples).
``grouping`` keeps those labels on every rule, so each label value has its own budget and alerts.

Alerts as Pyrra's (``slo/rules.go``, ``Windows``): four multiwindow burn-rate tiers whose windows are
fixed fractions of the objective's window, rounded to the minute, with fixed factors and ``for``
durations, and the labels ``long``, ``short`` and ``exhaustion`` (``sloDefaults.specTiers: false``
gives the mixin's workbook tiers instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infrawatch.core.config import Duration

from . import slo_schema as s

if TYPE_CHECKING:
    from .slo_import import Imported, _Doc

LABEL_PREFIX = "pyrra.dev/"
# Pyrra's burn-rate windows as divisors of the objective window (for 28d: 1h/5m for 2m, 6h/30m for
# 15m, 1d/2h for 1h, 4d/6h for 3h), each rounded to the minute, its factor and Pyrra's severity
# (critical -> page, warning -> ticket).
PYRRA_WINDOWS = (
    # severity, factor, long, short, for
    ("page", 14, 28 * 24, 28 * 24 * 12, 28 * 24 * 30),
    ("page", 7, 28 * 4, 28 * 24 * 2, 28 * 24 * 4),
    ("ticket", 2, 28, 28 * 12, 28 * 24),
    ("ticket", 1, 7, 28 * 4, 28 * 8),
)
_NS, _MINUTE_NS = 10**9, 60 * 10**9
_PROM_UNITS = (("y", 31536000, True), ("w", 604800, True), ("d", 86400, False), ("h", 3600, False))
_PROM_UNITS += (("m", 60, False), ("s", 1, False))


def prom_duration(seconds: int) -> str:
    """A duration as Prometheus prints it (``model.Duration``): ``2w``, ``4d``, ``6h26m``, ``90d``."""
    out, rest = "", seconds
    for unit, size, exact in _PROM_UNITS:
        if exact and rest % size:
            continue
        if rest >= size:
            out, rest = out + f"{rest // size}{unit}", rest % size
    return out or "0s"


def _single_unit(seconds: int) -> str:
    """A duration in one unit (the mixin's window names and ``[range]``s): ``4d``, ``6h``, ``386m``."""
    return next(f"{seconds // n}{u}" for u, n in (("d", 86400), ("h", 3600), ("m", 60)) if seconds % n == 0)


def pyrra_tiers(window_seconds: int) -> list[dict[str, Any]]:
    """Pyrra's four burn-rate tiers for an objective window, in the mixin's tier form.

    Durations are the window's nanoseconds divided by each divisor and rounded to the minute, half
    away from zero, as Go's ``time.Duration.Round``; ``exhaustion`` is the window / factor in whole
    seconds (Pyrra's ``Exhausts``).  Raises ``ValueError`` for a window too short to have them.
    """
    window_ns = window_seconds * _NS

    def minutes(divisor: int) -> int:
        return (window_ns // divisor + _MINUTE_NS // 2) // _MINUTE_NS * 60

    tiers = []
    for severity, factor, long_div, short_div, for_div in PYRRA_WINDOWS:
        long, short, hold = minutes(long_div), minutes(short_div), minutes(for_div)
        if short == 0:
            raise ValueError(f"window {prom_duration(window_seconds)} is too short for Pyrra's burn-rate windows")
        name = f"{severity}-{prom_duration(long)}"
        tiers.append(
            {
                "name": name,
                "severity": severity,
                "factor": factor,
                "long": _single_unit(long),
                "short": _single_unit(short),
                **({"for": _single_unit(hold)} if hold else {}),
                "labels": {
                    "long": prom_duration(long),
                    "short": prom_duration(short),
                    "exhaustion": prom_duration(int(window_seconds / factor)),
                },
            }
        )
    return tiers


def pyrra(doc: _Doc, result: Imported) -> None:
    from .slo_import import _check_names, _events, _labels, _prefixed, parse, window_query

    parsed = parse(s.PyrraSLO, doc, result)
    if parsed is None:
        return
    obj, ctx = parsed
    meta, spec = obj.metadata, obj.spec
    service = meta.namespace or meta.name
    slo_id = f"{service}-{meta.name}"
    _check_names(ctx, service, meta.name, ("metadata", "namespace"), ("metadata", "name"))
    ind, ipath = spec.indicator, ("spec", "indicator")
    events: dict[str, Any]
    if ind.ratio is not None:
        r = ind.ratio
        events = _events(window_query(r.errors.metric, r.grouping), None, window_query(r.total.metric, r.grouping))
    elif ind.latency is not None:
        lat = ind.latency
        if "le=" not in lat.success.metric.replace(" ", ""):
            ctx.error(
                (*ipath, "latency", "success", "metric"), "the success metric needs an le matcher (a histogram bucket)"
            )
        good = window_query(lat.success.metric, lat.grouping)
        events = _events(None, good, window_query(lat.total.metric, lat.grouping))
    elif ind.latencyNative is not None:
        n = ind.latencyNative
        try:
            seconds = float(Duration.parse(n.latency))
        except ValueError as exc:
            ctx.error((*ipath, "latencyNative", "latency"), str(exc))
            seconds = 0.0
        hist = window_query(n.total.metric, n.grouping)
        count = f"histogram_count({hist})"
        events = {
            "goodQuery": f"(histogram_fraction(0, {seconds:g}, {hist}) * {count})",
            "totalQuery": count,
        }
    else:
        assert ind.bool_gauge is not None
        b = ind.bool_gauge
        total = window_query(b.metric, b.grouping, "count_over_time")
        events = {"goodQuery": window_query(b.metric, b.grouping, "sum_over_time"), "totalQuery": total}
    tiers: list[dict[str, Any]] = []
    try:
        tiers = pyrra_tiers(int(Duration.parse(spec.window)))
    except ValueError as exc:
        ctx.error(("spec", "window"), str(exc))
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
        "labels": {"slo": meta.name},  # Pyrra's label on its alerts
        "name": al.name or "ErrorBudgetBurn",  # Pyrra's alert name (with sloDefaults.specAlertNames)
    }
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
            "specTiers": tiers,
            "info": {},
            "source": "pyrra.dev/v1alpha1",
            "file": doc.at(()),
        }
    )
