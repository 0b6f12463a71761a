"""Helpers for the rule tests: the generated rule files, the mixin's own areas, promtool runs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infrawatch_dev.build import evaluate_snippet
from infrawatch_dev.devstack.mixin import mixin_rule_files  # noqa: F401 - re-exported for the rule tests

from .procs import require_binary

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
HAND_WRITTEN_TESTS = ROOT / "tests" / "rules"

# The mixin-rules part on its own (config + alerts/ + rules/): quick to evaluate, and independent of
# the SLO/dashboards/alertmanager areas.  The SLO area has its own generated tests.
OWN_MIXIN = "(import 'config.libsonnet') + (import 'alerts/alerts.libsonnet') + (import 'rules/rules.libsonnet')"


def own_areas() -> list[str]:
    return evaluate_snippet(ROOT, f"std.objectFields(({OWN_MIXIN}).ruleFiles)")


def own_rule_files(overrides: str = "{}") -> dict[str, Any]:
    """ruleFiles (area -> {groups}) of alerts/ and rules/, optionally with a Jsonnet object merged on top."""
    return evaluate_snippet(
        ROOT,
        f"""
local m = {OWN_MIXIN} + ({overrides});
{{ [a]: m.ruleFiles[a] for a in std.objectFields(m.ruleFiles) }}
""",
    )


def generated_rule_files() -> list[Path]:
    return sorted(RULES.glob("*.yaml"))


@dataclass
class Rule:
    file: str
    group: str
    index: int
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return self.body.get("alert") or self.body["record"]

    @property
    def is_alert(self) -> bool:
        return "alert" in self.body

    def where(self) -> str:
        return f"{self.file} group {self.group!r} rule #{self.index} ({self.name})"


def iter_rules(files: dict[str, dict[str, Any]]) -> Iterator[Rule]:
    for fname, content in files.items():
        for g in content.get("groups", []):
            for i, r in enumerate(g.get("rules", [])):
                yield Rule(fname, g["name"], i, r)


def load_yaml_files(paths: list[Path]) -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text()) for p in paths}


def write_and_check(files: dict[str, dict[str, Any]], directory: Path) -> list[Path]:
    """Write ruleFiles (area -> {groups}) as ``<area>.yaml`` in ``directory``; promtool must accept them."""
    from infrawatch_dev.build import render

    paths = []
    for area, content in files.items():
        p = directory / f"{area}.yaml"
        p.write_text(render(p.name, content))
        paths.append(p)
    res = promtool("check", "rules", *paths)
    assert res.returncode == 0 and "FAILED" not in res.stderr, res.stdout + res.stderr
    return paths


def promtool(*args: str | Path, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run promtool; the timeout only stops a hung run (a 30-day SLO test file takes ~35 s of CPU,
    several times that on a loaded shared machine), it is no speed check."""
    return subprocess.run(
        [require_binary("promtool"), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )
