"""Every recording rule is queried by a promtool test (issue 12), and the SLO's hand-written one
(recording-rules.yaml, values worked out by hand in its header) fails when a window is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from support.rulefiles import ROOT, RULES, promtool

from .test_budget import RULES as AVAILABILITY_RULES
from .test_budget import run_against

HERE = Path(__file__).parent
RECORDING = HERE / "recording-rules.yaml"
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def recording_rules() -> dict[str, Path]:
    """Record name -> first rule file recording it (rules/*.yaml; rules/kubernetes holds the same rules)."""
    found: dict[str, Path] = {}
    for path in sorted(RULES.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    found.setdefault(rule["record"], path)
    return found


def queried_names() -> set[str]:
    """Every name appearing in a promql_expr_test of a promtool test file under tests/."""
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("*.yaml"):
        try:
            doc = yaml.safe_load(path.read_text())
        except yaml.YAMLError:
            continue
        if not isinstance(doc, dict) or "rule_files" not in doc:
            continue
        for test in doc.get("tests") or []:
            for expr_test in test.get("promql_expr_test") or []:
                names.update(NAME.findall(expr_test["expr"]))
    return names


def test_every_recording_rule_is_queried_by_a_promtool_test() -> None:
    rules, queried = recording_rules(), queried_names()
    assert len(rules) > 20, "the rule files were found"
    untested = {name: str(path.relative_to(ROOT)) for name, path in rules.items() if name not in queried}
    assert not untested, f"recording rules no promtool test queries: {untested}"


def test_recording_rules_test_passes() -> None:
    res = promtool("test", "rules", RECORDING.name, cwd=HERE)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize(
    ("written", "mutated", "rule"),
    [
        ("[30m]", "[20m]", "slo:sli_error:ratio_rate30m"),
        ("[1h]", "[50m]", "slo:sli_error:ratio_rate1h"),
        ("[2h]", "[90m]", "slo:sli_error:ratio_rate2h"),
        ("[6h]", "[5h]", "slo:sli_error:ratio_rate6h"),
        ("[1d]", "[20h]", "slo:sli_error:ratio_rate1d"),
        ("[3d]", "[2d]", "slo:sli_error:ratio_rate3d"),
        ("vector(0.001)", "vector(0.002)", "slo:current_burn_rate:ratio"),
        ("/ 2592000, 1)", "/ 604800, 1)", "slo:period_data_coverage:ratio"),
    ],
)
def test_a_wrong_rule_fails_the_test(tmp_path: Path, written: str, mutated: str, rule: str) -> None:
    text = AVAILABILITY_RULES.read_text()
    assert written in text
    out = run_against(tmp_path, RECORDING, text.replace(written, mutated))
    assert f"abs({rule}" in out or f'"{rule}{{' in out or f"{rule}{{" in out, out
