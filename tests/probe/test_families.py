"""Table-driven checks over every prober spec and every metric family it declares."""

from __future__ import annotations

import dataclasses

import pytest

from infrawatch.core.metrics import MetricFamily, check_families
from infrawatch.core.selfmetrics import SELF_FAMILIES
from infrawatch.probe.context import ProbeContext, UndeclaredReason
from infrawatch.probe.failures import FailureReason
from infrawatch.probe.families import COMMON, PROMETHEUS_LABELS, TARGET_LABELS
from infrawatch.probe.sink import MetricSink, SampleError
from infrawatch.probe.table import PROBERS, RESERVED_LABELS, all_families

SPECS = sorted(PROBERS.items())
FAMILIES = [(name, fam) for name, spec in SPECS for fam in spec.all_families]


def test_every_family_is_declared_consistently() -> None:
    assert check_families([*all_families(), *SELF_FAMILIES]) == []


def test_one_help_text_per_metric_name() -> None:
    by_name: dict[str, set[str]] = {}
    for fam in [*all_families(), *SELF_FAMILIES]:
        by_name.setdefault(fam.name, set()).add(fam.help)
    assert {n: h for n, h in by_name.items() if len(h) > 1} == {}


@pytest.mark.parametrize(("prober", "family"), FAMILIES, ids=[f"{p}-{f.name}" for p, f in FAMILIES])
def test_family(prober: str, family: MetricFamily) -> None:
    assert family.name.startswith("probe_"), "probe families are named probe_*"
    assert family.type == "gauge"  # the results store writes gauges only
    assert family.header.startswith(f"# HELP {family.name} ".encode())
    for label in family.labels:
        # A family label is a label no target may set: derived, not listed by hand.
        assert label in RESERVED_LABELS
        assert label not in TARGET_LABELS, "target/module/service are the store's own labels"


@pytest.mark.parametrize(("prober", "spec"), SPECS, ids=[p for p, _ in SPECS])
def test_spec(prober: str, spec) -> None:
    assert dataclasses.is_dataclass(spec.config)
    spec.config()  # every section has defaults for every key (an empty section is valid)
    assert spec.description
    # Every prober extends the common reasons; none drops one.
    assert {r.value for r in FailureReason} <= spec.reason_values
    assert all(r.value == r.value.lower() and " " not in r.value for r in spec.reasons)
    assert all(f in spec.all_families for f in COMMON)
    assert len(set(spec.all_families)) == len(spec.all_families)


def test_reserved_labels_are_derived_from_the_families() -> None:
    from_families = {label for fam in all_families() for label in fam.labels}
    assert from_families | set(TARGET_LABELS) | set(PROMETHEUS_LABELS) == RESERVED_LABELS
    assert {"role", "status", "phase", "check", "reason", "version"} <= RESERVED_LABELS


def test_sink_takes_a_labels_mapping_and_checks_it() -> None:
    fam = MetricFamily("probe_example", "Example", labels=("name", "value"))
    sink = MetricSink([fam])
    sink.set(fam, 2, {"value": "v", "name": "n"})  # names **labels could not take
    assert sink.samples[0].labels == {"name": "n", "value": "v"}  # declared order
    assert sink.get(fam, {"value": "v"}) == 2.0
    with pytest.raises(SampleError):
        sink.set(fam, 1, {"name": "n"})
    with pytest.raises(SampleError):
        sink.set(MetricFamily("probe_other", "Other"), 1)


def test_context_refuses_an_undeclared_reason() -> None:
    ctx = ProbeContext("t", None, 1.0, reasons=PROBERS["tcp"].reason_values)
    assert ctx.fail(FailureReason.PROTOCOL, "x") is False
    with pytest.raises(UndeclaredReason):
        ctx.fail("status_code", "tcp has no status codes")
    assert ProbeContext("t", None, 1.0, reasons=PROBERS["http"].reason_values).fail("status_code", "x") is False


def test_every_failure_reason_is_documented() -> None:
    from pathlib import Path

    import infrawatch

    docs_dir = Path(infrawatch.__file__).parents[2] / "docs"
    docs = "".join(p.read_text(encoding="utf-8") for p in docs_dir.glob("*.md"))
    reasons = {r.value for spec in PROBERS.values() for r in spec.reasons}
    assert sorted(r for r in reasons if f"`{r}`" not in docs) == []
