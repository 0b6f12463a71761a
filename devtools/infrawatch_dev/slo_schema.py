"""Schemas of the SLO spec formats infrawatch imports, as dataclasses for ``infrawatch.core.config``.

``from_yaml`` walks these like every other loader of the project: unknown keys are refused (with a
"did you mean"), missing required keys and wrong types are reported with file, line and key path.
Formats (spec -> model -> generator, as Sloth does it):

- Sloth ``version: prometheus/v1`` (snake_case keys) and its Kubernetes resource
  ``sloth.slok.dev/v1`` ``PrometheusServiceLevel``, whose spec is the same tree in camelCase
  (``errorQuery``, ``pageAlert``, ``sloPlugins`` ...).  The CRD classes are derived from the YAML
  ones by ``camel_variant`` so the two cannot drift apart.
- OpenSLO ``openslo/v1`` (``SLO`` and ``SLI`` documents) and ``openslo/v1alpha`` as Sloth reads it.
- Pyrra ``pyrra.dev/v1alpha1`` ``ServiceLevelObjective``.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

from infrawatch.core.config import Context, KeyPath, required

WINDOW = re.compile(r"\{\{\s*\.window\s*\}\}")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _labels_ok(labels: dict[str, Any], ctx: Context, path: KeyPath, lists: bool = False) -> None:
    for k, v in labels.items():
        if not LABEL_NAME.match(str(k)):
            ctx.error((*path, k), f"{k!r} is not a Prometheus label name")
        if isinstance(v, dict) or (isinstance(v, list) and not lists) or v is None:
            ctx.error((*path, k), f"label value must be a scalar, got {v!r}")


def _window_ok(query: str, ctx: Context, path: KeyPath) -> None:
    if not WINDOW.search(query):
        ctx.error(path, "query needs Sloth's {{.window}} placeholder (e.g. rate(x[{{.window}}]))")


# ---- Sloth prometheus/v1 ----------------------------------------------------------------------
@dataclass
class SlothAlert:
    disable: bool = False
    labels: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)

    def validate(self, ctx: Context, path: KeyPath) -> None:
        _labels_ok(self.labels, ctx, (*path, "labels"))


@dataclass
class SlothAlerting:
    name: str = ""
    labels: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    page_alert: SlothAlert = field(default_factory=SlothAlert)
    ticket_alert: SlothAlert = field(default_factory=SlothAlert)

    def validate(self, ctx: Context, path: KeyPath) -> None:
        _labels_ok(self.labels, ctx, (*path, "labels"))


@dataclass
class SlothEvents:
    error_query: str = required(default="")
    total_query: str = required(default="")

    def validate(self, ctx: Context, path: KeyPath) -> None:
        for f in dataclasses.fields(self):
            _window_ok(getattr(self, f.name), ctx, (*path, f.metadata.get("key", f.name)))


@dataclass
class SlothRaw:
    error_ratio_query: str = required(default="")

    def validate(self, ctx: Context, path: KeyPath) -> None:
        f = dataclasses.fields(self)[0]
        _window_ok(self.error_ratio_query, ctx, (*path, f.metadata.get("key", f.name)))


@dataclass
class SlothSLIPlugin:
    id: str = required(default="")
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class SlothSLI:
    events: SlothEvents | None = None
    raw: SlothRaw | None = None
    plugin: SlothSLIPlugin | None = None

    def validate(self, ctx: Context, path: KeyPath) -> None:
        given = [f.name for f in dataclasses.fields(self) if getattr(self, f.name) is not None]
        if len(given) != 1:
            ctx.error(path, f"exactly one of events, raw, plugin is needed (got {', '.join(given) or 'none'})")


@dataclass
class SlothPlugin:
    id: str = required(default="")
    priority: int = 0
    config: Any = None


@dataclass
class SlothPlugins:
    chain: list[SlothPlugin] = field(default_factory=list)
    override_previous: bool = False


@dataclass
class SlothSLO:
    name: str = required(default="")
    objective: float = required(default=0.0)
    description: str = ""
    labels: dict[str, Any] = field(default_factory=dict)
    sli: SlothSLI = required(default_factory=SlothSLI)
    alerting: SlothAlerting = field(default_factory=SlothAlerting)
    plugins: SlothPlugins | None = None

    def validate(self, ctx: Context, path: KeyPath) -> None:
        _labels_ok(self.labels, ctx, (*path, "labels"))
        if not 0 < self.objective < 100:
            ctx.error((*path, "objective"), f"objective {self.objective} must be above 0 and below 100 (percent)")


@dataclass
class SlothSpecBody:
    """What a ``prometheus/v1`` file and the CRD's ``spec`` share; ``slos`` are converted one by one
    (a bad SLO is refused alone)."""

    service: str = required(default="")
    labels: dict[str, Any] = field(default_factory=dict)
    slo_plugins: SlothPlugins | None = None
    slos: list[Any] = field(default_factory=list)

    def validate(self, ctx: Context, path: KeyPath) -> None:
        _labels_ok(self.labels, ctx, (*path, "labels"))


@dataclass
class SlothSpec(SlothSpecBody):
    version: Literal["prometheus/v1"] = required(default="prometheus/v1")


# ---- camelCase variants (Sloth's Kubernetes CRD) ------------------------------------------------
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


_VARIANTS: dict[type, type] = {}


def camel_variant(cls: type) -> type:
    """``cls`` with every YAML key in camelCase, nested dataclasses included (validate() is kept)."""
    if cls in _VARIANTS:
        return _VARIANTS[cls]
    hints = typing.get_type_hints(cls)

    def mapped(tp: Any) -> Any:
        if dataclasses.is_dataclass(tp):
            return camel_variant(tp)  # type: ignore[arg-type]
        origin = get_origin(tp)
        if origin is None:
            return tp
        args = tuple(mapped(a) for a in get_args(tp))
        if origin is list:
            return list[args[0]]  # type: ignore[valid-type]
        if origin is dict:
            return dict[args[0], args[1]]  # type: ignore[valid-type]
        if len(args) == 2 and type(None) in args:  # X | None
            return args[0] | None if args[1] is type(None) else args[1] | None
        return tp

    fields = []
    for f in dataclasses.fields(cls):
        kw: dict[str, Any] = {"metadata": {**f.metadata, "key": _camel(f.metadata.get("key", f.name))}}
        if f.default is not dataclasses.MISSING:
            kw["default"] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            sub = mapped(hints[f.name])
            kw["default_factory"] = sub if dataclasses.is_dataclass(sub) else f.default_factory
        fields.append((f.name, mapped(hints[f.name]), field(**kw)))
    variant = dataclasses.make_dataclass("K8s" + cls.__name__, fields, bases=(cls,))
    _VARIANTS[cls] = variant
    return variant


@dataclass
class K8sMeta:
    name: str = ""
    namespace: str = ""
    labels: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    # Exported from a cluster (kubectl get -o yaml): read, not used.
    uid: str = ""
    resourceVersion: str = ""
    generation: int = 0
    creationTimestamp: Any = None
    managedFields: Any = None
    finalizers: list[str] = field(default_factory=list)
    displayName: str = ""


@dataclass
class SlothCRD:
    apiVersion: Literal["sloth.slok.dev/v1"] = required(default="sloth.slok.dev/v1")
    kind: Literal["PrometheusServiceLevel"] = required(default="PrometheusServiceLevel")
    metadata: K8sMeta = field(default_factory=K8sMeta)
    spec: Any = None  # camel_variant(SlothSpecBody), converted by the importer
    status: Any = None


# ---- OpenSLO ------------------------------------------------------------------------------------
@dataclass
class OpenSLOMetricSource:
    metricSourceRef: str = ""
    type: str = ""
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass
class OpenSLOMetric:
    metricSource: OpenSLOMetricSource = required(default_factory=OpenSLOMetricSource)


@dataclass
class OpenSLORatio:
    counter: bool = True
    good: OpenSLOMetric | None = None
    bad: OpenSLOMetric | None = None
    total: OpenSLOMetric | None = None
    rawType: str = ""
    raw: OpenSLOMetric | None = None


@dataclass
class OpenSLOSLISpec:
    description: str = ""
    ratioMetric: OpenSLORatio | None = None
    thresholdMetric: OpenSLOMetric | None = None


@dataclass
class OpenSLOInlineSLI:
    metadata: K8sMeta = field(default_factory=K8sMeta)
    spec: OpenSLOSLISpec = required(default_factory=OpenSLOSLISpec)


@dataclass
class OpenSLOCalendar:
    startTime: str = ""
    timeZone: str = ""


@dataclass
class OpenSLOTimeWindow:
    duration: str = required(default="")
    isRolling: bool = True
    calendar: OpenSLOCalendar | None = None


@dataclass
class OpenSLOObjective:
    displayName: str = ""
    op: str = ""
    value: float | None = None
    target: float | None = None
    targetPercent: float | None = None
    timeSliceTarget: float | None = None
    timeSliceWindow: str = ""
    indicator: OpenSLOInlineSLI | None = None
    indicatorRef: str = ""
    compositeWeight: float | None = None

    def validate(self, ctx: Context, path: KeyPath) -> None:
        if (self.target is None) == (self.targetPercent is None):
            ctx.error(path, "an objective needs exactly one of target (0-1) and targetPercent")
        elif self.target is not None and not 0 < self.target < 1:
            ctx.error((*path, "target"), f"target {self.target} must be above 0 and below 1")
        elif self.targetPercent is not None and not 0 < self.targetPercent < 100:
            ctx.error((*path, "targetPercent"), f"targetPercent {self.targetPercent} must be above 0 and below 100")


@dataclass
class OpenSLOSpec:
    description: str = ""
    service: str = required(default="")
    indicator: OpenSLOInlineSLI | None = None
    indicatorRef: str = ""
    timeWindow: list[OpenSLOTimeWindow] = field(default_factory=list)
    budgetingMethod: Literal["Occurrences", "Timeslices", "RatioTimeslices"] = required(default="Occurrences")
    objectives: list[OpenSLOObjective] = required(default_factory=list)
    alertPolicies: list[Any] = field(default_factory=list)


@dataclass
class OpenSLOSLO:
    apiVersion: Literal["openslo/v1"] = required(default="openslo/v1")
    kind: Literal["SLO"] = required(default="SLO")
    metadata: K8sMeta = required(default_factory=K8sMeta)
    spec: OpenSLOSpec = required(default_factory=OpenSLOSpec)


@dataclass
class OpenSLOSLI:
    apiVersion: Literal["openslo/v1"] = required(default="openslo/v1")
    kind: Literal["SLI"] = required(default="SLI")
    metadata: K8sMeta = required(default_factory=K8sMeta)
    spec: OpenSLOSLISpec = required(default_factory=OpenSLOSLISpec)


# openslo/v1alpha as Sloth reads it (examples/openslo-*.yml).
@dataclass
class OpenSLOAlphaQuery:
    source: str = "prometheus"
    queryType: str = "promql"
    query: str = required(default="")
    metadata: Any = None


@dataclass
class OpenSLOAlphaRatio:
    good: OpenSLOAlphaQuery | None = None
    bad: OpenSLOAlphaQuery | None = None
    total: OpenSLOAlphaQuery = required(default_factory=OpenSLOAlphaQuery)
    incremental: bool = False


@dataclass
class OpenSLOAlphaObjective:
    displayName: str = ""
    target: float = required(default=0.0)
    op: str = ""
    value: float | None = None
    ratioMetrics: OpenSLOAlphaRatio | None = None

    def validate(self, ctx: Context, path: KeyPath) -> None:
        if not 0 < self.target < 1:
            ctx.error((*path, "target"), f"target {self.target} must be above 0 and below 1")


@dataclass
class OpenSLOAlphaWindow:
    count: int = required(default=0)
    unit: str = required(default="")
    isRolling: bool = True
    calendar: Any = None


@dataclass
class OpenSLOAlphaSpec:
    service: str = required(default="")
    description: str = ""
    budgetingMethod: str = "Occurrences"
    objectives: list[OpenSLOAlphaObjective] = required(default_factory=list)
    timeWindows: list[OpenSLOAlphaWindow] = field(default_factory=list)


@dataclass
class OpenSLOAlphaSLO:
    apiVersion: Literal["openslo/v1alpha"] = required(default="openslo/v1alpha")
    kind: Literal["SLO"] = required(default="SLO")
    metadata: K8sMeta = required(default_factory=K8sMeta)
    spec: OpenSLOAlphaSpec = required(default_factory=OpenSLOAlphaSpec)


# ---- Pyrra --------------------------------------------------------------------------------------
@dataclass
class PyrraQuery:
    metric: str = required(default="")


@dataclass
class PyrraRatio:
    errors: PyrraQuery = required(default_factory=PyrraQuery)
    total: PyrraQuery = required(default_factory=PyrraQuery)
    grouping: list[str] = field(default_factory=list)


@dataclass
class PyrraLatency:
    success: PyrraQuery = required(default_factory=PyrraQuery)
    total: PyrraQuery = required(default_factory=PyrraQuery)
    grouping: list[str] = field(default_factory=list)


@dataclass
class PyrraLatencyNative:
    latency: str = required(default="")
    total: PyrraQuery = required(default_factory=PyrraQuery)
    grouping: list[str] = field(default_factory=list)


@dataclass
class PyrraBoolGauge:
    metric: str = required(default="")
    grouping: list[str] = field(default_factory=list)


@dataclass
class PyrraIndicator:
    ratio: PyrraRatio | None = None
    latency: PyrraLatency | None = None
    latencyNative: PyrraLatencyNative | None = None
    bool_gauge: PyrraBoolGauge | None = None

    def validate(self, ctx: Context, path: KeyPath) -> None:
        given = [f.name for f in dataclasses.fields(self) if getattr(self, f.name) is not None]
        if len(given) != 1:
            ctx.error(
                path, f"exactly one of ratio, latency, latencyNative, bool_gauge (got {', '.join(given) or 'none'})"
            )


@dataclass
class PyrraAlerting:
    disabled: bool = False
    name: str = ""
    burnrates: bool = True
    absent: bool = True
    absentName: str = ""


@dataclass
class PyrraSpec:
    target: str = required(default="")
    window: str = required(default="")
    description: str = ""
    indicator: PyrraIndicator = required(default_factory=PyrraIndicator)
    alerting: PyrraAlerting = field(default_factory=PyrraAlerting)
    partial_response_strategy: str = ""  # Thanos Ruler only

    def validate(self, ctx: Context, path: KeyPath) -> None:
        try:
            t = float(self.target)
        except ValueError:
            ctx.error((*path, "target"), f"target {self.target!r} must be a percentage such as '99.5'")
            return
        if not 0 < t < 100:
            ctx.error((*path, "target"), f"target {self.target} must be above 0 and below 100 (percent)")
        if not re.fullmatch(r"\d+[mhdwy]", self.window):
            ctx.error((*path, "window"), f"window {self.window!r} must be a duration such as 28d or 4w")


@dataclass
class PyrraSLO:
    apiVersion: Literal["pyrra.dev/v1alpha1"] = required(default="pyrra.dev/v1alpha1")
    kind: Literal["ServiceLevelObjective"] = required(default="ServiceLevelObjective")
    metadata: K8sMeta = required(default_factory=K8sMeta)
    spec: PyrraSpec = required(default_factory=PyrraSpec)
    status: Any = None
