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


def _helps(text: str) -> dict[str, str]:
    return {line.split(" ", 3)[2]: line.split(" ", 3)[3] for line in text.splitlines() if line.startswith("# HELP ")}


async def test_both_exporters_write_the_same_help_for_a_shared_name(tmp_path: Path) -> None:
    """Regression: ``infrawatch_scheduled_targets`` and ``infrawatch_scheduler_lag_seconds`` had
    different HELP texts in the two exporters' ``/metrics``."""
    from prometheus_client import CollectorRegistry, generate_latest

    from infrawatch.core.server import common_flags
    from infrawatch.probe.exporter import ProbeExporter
    from infrawatch.reputation.config import load_config_text
    from infrawatch.reputation.engine import Engine
    from infrawatch.reputation.metrics import ReputationCollector

    args = common_flags("p", "t", "probe.yml", "127.0.0.1:0").parse_args([])
    probe = ProbeExporter(args)
    for c in probe.collectors():
        probe.registry.register(c)
    probe_helps = _helps(generate_latest(probe.registry).decode())

    engine = Engine(load_config_text("targets: [{ip: 192.0.2.1}]\nlists:\n  - name: spamhaus-zen\n"))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReputationCollector(lambda: engine, lambda: 0.0))
    reputation_helps = _helps(generate_latest(registry).decode())

    shared = set(probe_helps) & set(reputation_helps)
    assert {"infrawatch_scheduled_targets", "infrawatch_scheduler_lag_seconds"} <= shared
    assert {n: (probe_helps[n], reputation_helps[n]) for n in shared if probe_helps[n] != reputation_helps[n]} == {}
    declared = {f.name: f.help for f in EVERY_FAMILY}
    for name, text in {**probe_helps, **reputation_helps}.items():
        if name in declared:
            assert text == declared[name].replace("\\", "\\\\").replace("\n", "\\n")


def test_every_declared_family_is_documented() -> None:
    docs = "".join(p.read_text(encoding="utf-8") for p in (PACKAGE.parents[1] / "docs").glob("*.md"))
    assert [f.name for f in dict.fromkeys(EVERY_FAMILY) if f"`{f.name}" not in docs] == []
