"""Helpers for the rule tests: the generated rule files, the mixin's own areas, promtool runs."""

from __future__ import annotations

import ast
import operator
import re
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


# ---- hand-written promtool tests that read the configured thresholds ----------------------------
# A hand-written test file (tests/rules/*.yaml) may write `{{ expr }}` where a value follows from a
# `_config` knob: `{{ 60 * (1 - between(cpuUsageThreshold, cpuUsageCriticalThreshold)) }}`.  expr is
# arithmetic over the top-level knobs (numbers and strings) and the functions below; the file is
# rendered with the configuration under test before promtool runs it, so changing a threshold does
# not break a test that is still right.
_PLACEHOLDER = re.compile(r"\{\{\s*(.+?)\s*\}\}")
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _num(x: float) -> str:
    """A number as the tests write it: 90, 0.975, 1e-05 (no float noise)."""
    return f"{round(x, 9):g}" if abs(x) < 1e15 else str(int(x))


def _pct(x: float) -> str:
    """As Prometheus' humanizePercentage prints a ratio (4 significant digits): 0.9 -> 90%."""
    return f"{x * 100:.4g}%"


# What a placeholder may call.  between(lo, hi): halfway between a warning and a critical threshold
# (hi = 0: no critical tier, halfway to 1); below(x): halfway to 0.
_FUNCTIONS: dict[str, Any] = {
    "between": lambda lo, hi: (lo + (hi if hi > 0 else 1)) / 2,
    "below": lambda x: x / 2,
    "pct": _pct,
    "int": lambda x: str(round(x)),
}


def _eval(node: ast.AST, knobs: dict[str, Any], where: str) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body, knobs, where)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in knobs:
            raise KeyError(f"{where}: unknown knob {node.id!r}")
        return knobs[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left, knobs, where), _eval(node.right, knobs, where))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand, knobs, where)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
        return _FUNCTIONS[node.func.id](*(_eval(a, knobs, where) for a in node.args))
    raise ValueError(f"{where}: not allowed in a placeholder: {ast.dump(node)}")


def render_hand_test(text: str, knobs: dict[str, Any], where: str = "test") -> str:
    """Fill in the `{{ expr }}` placeholders of a hand-written test with the knobs' values."""

    def fill(m: re.Match[str]) -> str:
        value = _eval(ast.parse(m.group(1), mode="eval"), knobs, f"{where}: {{{{ {m.group(1)} }}}}")
        return value if isinstance(value, str) else _num(value)

    return _PLACEHOLDER.sub(fill, text)


def config_knobs(overrides: str = "{}") -> dict[str, Any]:
    """The top-level `_config` knobs (numbers and strings) with a Jsonnet object merged on top."""
    cfg = evaluate_snippet(ROOT, f"((import 'config.libsonnet') + ({overrides}))._config")
    return {k: v for k, v in cfg.items() if isinstance(v, int | float | str) and not isinstance(v, bool)}


def rendered_hand_test(path: Path, out_dir: Path, knobs: dict[str, Any], rules_dir: Path = RULES) -> Path:
    """``path`` rendered with ``knobs`` into ``out_dir``, its rule_files pointing into ``rules_dir``."""
    text = render_hand_test(path.read_text(), knobs, path.name).replace("../../rules/", f"{rules_dir}/")
    out = out_dir / path.name
    out.write_text(text)
    return out
