"""The SLO rules and the promtool tests generated for every SLO and tier (real promtool 2.42)."""

from __future__ import annotations

import concurrent.futures
import itertools
import shutil
from pathlib import Path

import pytest
import yaml

from infrawatch_dev.build import evaluate_snippet, render
from support.rulefiles import ROOT, promtool

GENERATED = ROOT / "tests" / "rules" / "generated"
TEST_FILES = sorted(GENERATED.glob("slo-*.yaml"))
RULE_FILES = sorted((ROOT / "rules").glob("slo-*.yaml"))


@pytest.fixture(scope="module")
def mixin_slo() -> dict:
    return evaluate_snippet(
        ROOT,
        """
local m = import 'mixin.libsonnet';
{ rules: { [k]: m.ruleFiles[k] for k in std.objectFields(m.ruleFiles) if std.startsWith(k, 'slo-') },
  tests: { [k]: m.promtoolTests[k] for k in std.objectFields(m.promtoolTests) if std.startsWith(k, 'slo-') },
  slos: m.slos }
""",
    )


def test_generated_files_are_current(mixin_slo: dict) -> None:
    """rules/slo-*.yaml and tests/rules/generated/slo-*.yaml equal what `make build` writes."""
    assert {f"{k}.yaml" for k in mixin_slo["rules"]} == {p.name for p in RULE_FILES}
    assert set(mixin_slo["tests"]) == {p.name for p in TEST_FILES}
    for name, content in mixin_slo["rules"].items():
        assert (ROOT / "rules" / f"{name}.yaml").read_text() == render(f"{name}.yaml", content), name
    for name, content in mixin_slo["tests"].items():
        assert (GENERATED / name).read_text() == render(name, content), name


def test_every_slo_and_tier_has_its_scenarios(mixin_slo: dict) -> None:
    assert len(mixin_slo["slos"]) >= 4
    for slo_id, slo in mixin_slo["slos"].items():
        names = [t["name"] for f, c in mixin_slo["tests"].items() if slo_id in f for t in c["tests"]]
        for tier in (t["name"] for t in slo["tiers"] if t["enabled"]):
            assert f"{slo_id}: {tier} tier: error ratio at 0.95x its threshold stays silent" in names
            assert f"{slo_id}: {tier} tier: error ratio at 1.05x its threshold fires within the long window" in names
        for what in (
            "full outage",
            "recovery",
            "zero traffic",
            "counter reset",
            "steady healthy traffic",
            "budget warning fires",
            "no budget warning",
            "born 6 hours ago: a 10-minute outage raises no budget warning",
            "SLI series stop: SLOMetricAbsent fires",
            "full period: errors of the first",
        ):
            assert any(what in n for n in names), (slo_id, what)


def _minutes(text: str) -> int:
    return int(text[:-1]) * {"m": 1, "h": 60}[text[-1]]


def tiers_without_bracket(slos: dict, tests: dict) -> list[str]:
    """``<slo>: <tier>`` of every enabled tier no generated test brackets: silent at one evaluation and
    firing at most 3 evaluations later in the same test (or, when the tier needs long to detect a full
    outage, within 10% of that detection time: no evaluation within 2% of a threshold is used)."""
    missing = []
    for slo_id, slo in slos.items():
        for t in (t for t in slo["tiers"] if t["enabled"]):
            tier, width = t["name"], 0.1 * (t["outageDetectionSeconds"] + t["forSeconds"]) / 60
            found = False
            for name, content in tests.items():
                if name not in (f"slo-{slo_id}.yaml", f"slo-{slo_id}-slow.yaml"):
                    continue
                step = _minutes(content["evaluation_interval"])
                for test in content["tests"]:
                    firing = sorted(
                        (
                            _minutes(a["eval_time"]),
                            any(x["exp_labels"].get("slo_burn_tier") == tier for x in a["exp_alerts"]),
                        )
                        for a in test.get("alert_rule_test", [])
                        if a["alertname"] == slo["burnAlertName"]
                    )
                    found = found or any(
                        not f1 and f2 and t2 - t1 <= max(3 * step, width)
                        for (t1, f1), (t2, f2) in itertools.pairwise(firing)
                    )
            if not found:
                missing.append(f"{slo_id}: {tier}")
    return missing


def test_every_tier_has_a_silent_before_firing_at_bracket(mixin_slo: dict) -> None:
    """Issue 16: for every SLO and tier, some generated test expects the tier silent at one evaluation
    and firing at most 3 evaluations later under the same errors (a wrong long window, factor or `for`
    moves the firing evaluation out of it).  Tiers whose full outage fires at the first evaluation get
    their own bracket test."""
    assert tiers_without_bracket(mixin_slo["slos"], mixin_slo["tests"]) == []


def test_zero_traffic_test_pins_the_budget_to_one(mixin_slo: dict) -> None:
    """The zero-traffic scenario asserts exact values: no NaN can pass an exact comparison."""
    tests = mixin_slo["tests"]["slo-api-requests-availability.yaml"]["tests"]
    zero = next(t for t in tests if "zero traffic" in t["name"])
    exprs = {e["expr"].split("{")[0]: e["exp_samples"][0]["value"] for e in zero["promql_expr_test"]}
    assert exprs["slo:period_error_budget_remaining:ratio"] == 1
    assert exprs["slo:sli_error:ratio_rate5m"] == 0
    # ... and the constants the thresholds are made of (issue 16: a changed objective or period fails).
    assert (exprs["slo:objective:ratio"], exprs["slo:error_budget:ratio"], exprs["slo:time_period:days"]) == (
        0.999,
        0.001,
        30,
    )


def test_outage_detection_times_match_the_worked_example(mixin_slo: dict) -> None:
    """99.9%/30d, 1m evaluations, outage at 360m after 6h of healthy traffic (docs/slo.md):
    page-1h needs 52 s of errors (fires at 361m), page-6h 130 s (silent at 362m, fires at 363m)."""
    tests = mixin_slo["tests"]["slo-api-requests-availability.yaml"]["tests"]
    outage = next(t for t in tests if "full outage" in t["name"])
    firing = {
        a["eval_time"]: sorted(x["exp_labels"]["slo_burn_tier"] for x in a["exp_alerts"])
        for a in outage["alert_rule_test"]
    }
    assert "page-1h" in firing["361m"] and "page-6h" not in firing["361m"]
    assert "page-6h" not in firing["362m"]
    assert "page-6h" in firing["363m"]


def _run(path: Path) -> tuple[Path, int, str]:
    res = promtool("test", "rules", path.name, cwd=path.parent)
    return path, res.returncode, res.stdout + res.stderr


@pytest.mark.timeout(1800)  # 8 files of 30-day SLO tests, ~2-4 min of promtool CPU in all
def test_generated_promtool_tests_pass() -> None:
    """Every generated test file passes; two at a time (the machine has two cores)."""
    assert TEST_FILES
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_run, TEST_FILES))
    failed = [f"{p.name}:\n{out[-3000:]}" for p, rc, out in results if rc != 0]
    assert not failed, "\n".join(failed)


def test_generated_tests_catch_a_wrong_threshold(tmp_path: Path) -> None:
    """The generated tests can fail: with page-1h's factor 14.4 changed to 16 the outage test breaks."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests" / "rules" / "generated").mkdir(parents=True)
    rules = (ROOT / "rules" / "slo-api-requests-availability.yaml").read_text()
    assert "(14.4 * 0.001)" in rules
    broken = rules.replace("(14.4 * 0.001)", "(16 * 0.001)")
    (tmp_path / "rules" / "slo-api-requests-availability.yaml").write_text(broken)
    test = yaml.safe_load((GENERATED / "slo-api-requests-availability.yaml").read_text())
    test["tests"] = [t for t in test["tests"] if "page-1h tier: error ratio at 1.05x" in t["name"]]
    target = tmp_path / "tests" / "rules" / "generated" / "t.yaml"
    target.write_text(yaml.safe_dump(test))
    _, rc, out = _run(target)
    assert rc != 0 and "page-1h" in out, out[-2000:]
    # ... and the unmodified rules pass the same test.
    shutil.copy(ROOT / "rules" / "slo-api-requests-availability.yaml", tmp_path / "rules")
    _, rc, out = _run(target)
    assert rc == 0, out[-2000:]
