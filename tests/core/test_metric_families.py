"""Metric families are declared once across both exporters: one declaration (and so one HELP
text) per metric name, and no exporter builds a client_python family from literals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import infrawatch
from infrawatch.core.metrics import MetricFamily, check_families
from infrawatch.core.selfmetrics import SELF_FAMILIES
from infrawatch.probe.table import all_families
from infrawatch.reputation.families import FAMILIES as REPUTATION_FAMILIES

EVERY_FAMILY = [*all_families(), *REPUTATION_FAMILIES, *SELF_FAMILIES]
PACKAGE = Path(infrawatch.__file__).parent
CLIENT_FAMILIES = {"GaugeMetricFamily", "CounterMetricFamily", "Metric", "InfoMetricFamily", "SummaryMetricFamily"}


def test_every_family_is_valid_and_declared_once() -> None:
    assert check_families(EVERY_FAMILY) == []
    names = [f.name for f in dict.fromkeys(EVERY_FAMILY)]
    assert len(names) == len(set(names)), "a metric name is declared twice"


def test_one_help_text_per_metric_name_across_both_exporters() -> None:
    helps: dict[str, set[str]] = {}
    for fam in EVERY_FAMILY:
        helps.setdefault(fam.name, set()).add(fam.help)
    assert {name: h for name, h in helps.items() if len(h) > 1} == {}


@pytest.mark.parametrize("family", REPUTATION_FAMILIES, ids=[f.name for f in REPUTATION_FAMILIES])
def test_reputation_family(family: MetricFamily) -> None:
    assert family.name.startswith("reputation_")
    assert family.client().documentation == family.help


@pytest.mark.parametrize("family", SELF_FAMILIES, ids=[f.name for f in SELF_FAMILIES])
def test_self_family(family: MetricFamily) -> None:
    assert family.name.startswith("infrawatch_")


def _sources() -> list[Path]:
    # devstack and the console are not exporters (the console has no /metrics of its own).
    skip = {"devstack", "console"}
    return [p for p in PACKAGE.rglob("*.py") if not skip & set(p.relative_to(PACKAGE).parts)]


def test_no_family_is_built_from_literals_outside_the_declarations() -> None:
    """A HELP text lives in a ``MetricFamily`` declaration at module level, nowhere else."""
    offenders = []
    for path in _sources():
        rel = path.relative_to(PACKAGE)
        if rel == Path("core/metrics.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_function = {
            id(n)
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
            for n in ast.walk(fn)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in CLIENT_FAMILIES:
                offenders.append(f"{rel}:{node.lineno}: {name}(...)")
            elif name == "MetricFamily" and id(node) in in_function:
                offenders.append(f"{rel}:{node.lineno}: MetricFamily(...) inside a function")
    assert offenders == []
