"""Samples a probe records, set by metric family and a labels mapping.

``MetricSink.set(FAMILY, value, {"phase": "connect"})``: the family carries name, help, type and
label names; the labels are a mapping, never ``**labels``, so any label name (``value``,
``name``, ``help`` ...) can be set.  A sink made for one prober refuses families its spec did not
list and labels its family does not declare: such a probe fails with reason ``internal`` in
tests instead of exporting a metric nobody declared.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ..core.metrics import MetricFamily


class SampleError(ValueError):
    """A sample that does not fit its family (a prober bug)."""


class Sample:
    """One value of one family with its labels (in the family's declared order)."""

    __slots__ = ("family", "labels", "value")

    def __init__(self, family: MetricFamily, value: float, labels: dict[str, str] | None = None):
        self.family = family
        self.value = value
        self.labels = labels if labels is not None else {}

    @property
    def name(self) -> str:
        return self.family.name

    @property
    def help(self) -> str:
        return self.family.help

    @property
    def type(self) -> str:
        return self.family.type

    def __repr__(self) -> str:
        return f"Sample({self.family.name}, {self.value!r}, {self.labels!r})"


def _labels(family: MetricFamily, labels: Mapping[str, object] | None) -> dict[str, str]:
    if family.dynamic_labels:
        return {str(k): str(v) for k, v in (labels or {}).items()}
    if not family.labels:
        if labels:
            raise SampleError(f"{family.name} has no labels, got {sorted(labels)}")
        return {}
    if labels is None or len(labels) != len(family.labels):
        raise SampleError(f"{family.name} needs labels {family.labels}, got {sorted(labels or ())}")
    try:
        return {k: str(labels[k]) for k in family.labels}
    except KeyError:
        raise SampleError(f"{family.name} needs labels {family.labels}, got {sorted(labels)}") from None


class MetricSink:
    """Samples recorded by one probe, in the order they were set (the exposition keeps it)."""

    def __init__(self, families: Collection[MetricFamily] | None = None) -> None:
        self.samples: list[Sample] = []
        # The families this sink accepts (a prober's spec); None accepts any declared family.
        self.families = frozenset(families) if families is not None else None

    def set(self, family: MetricFamily, value: float, labels: Mapping[str, object] | None = None) -> None:
        if self.families is not None and family not in self.families:
            raise SampleError(f"{family.name} is not among the families this prober's spec lists")
        self.samples.append(Sample(family, float(value), _labels(family, labels)))

    def get(self, family: MetricFamily | str, labels: Mapping[str, str] | None = None) -> float | None:
        """The last value set for ``family`` whose labels include ``labels``."""
        name = family if isinstance(family, str) else family.name
        for s in reversed(self.samples):
            if s.family.name == name and all(s.labels.get(k) == v for k, v in (labels or {}).items()):
                return s.value
        return None
