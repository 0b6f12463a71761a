"""The seeds' error-budget policies (jsonnet/slo/policies.libsonnet) as ready configuration.

Seed 002: "burn-rate threshold 0.5, investigate within 1 h" -> ticket-3d with factor 0.5.
Seed 003: "slow burn: 10 % of the budget in 6 h" -> page-6h with 10 % of the budget.
The default tiers stay the SRE workbook's (pinned by test_budget.py, test_pyrra_alerts.py and the
generated tests of rules/slo-*.yaml); here the policies are built, their rules checked by promtool
and their generated promtool tests (jsonnet/slo/tests.libsonnet) run: each changed tier silent at
0.95x its threshold and firing at 1.05x, and the same tests failing on the default tiers.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

import pytest
import yaml

from infrawatch_dev.build import evaluate_snippet, render
from support.rulefiles import ROOT, promtool

SLO = "api-requests-availability"  # seed 002's 99.9 % over 30 days


def with_policy(policy: str, what: str) -> Any:
    return evaluate_snippet(
        ROOT,
        f"""
local p = import 'slo/policies.libsonnet';
local m = (import 'mixin.libsonnet')
  + {{ _config+:: {{ sloTestRulesDir: '', sloDefaults+: {{ tiers: p.{policy} }} }} }};
{what}
""",
    )


def tiers(policy: str) -> dict[str, dict[str, dict[str, Any]]]:
    slos = with_policy(policy, "m.slos")
    return {s: {t["name"]: t for t in slo["tiers"]} for s, slo in slos.items()}


def test_seed_002_adds_a_burn_rate_0_5_ticket() -> None:
    got = tiers("seed002Tiers")
    avail, latency28 = got[SLO], got["api-requests-latency-1s-28d"]
    # A burn rate is the same factor whatever the period.
    assert avail["ticket-3d"]["factorStr"] == latency28["ticket-3d"]["factorStr"] == "0.5"
    assert avail["ticket-3d"]["thresholdExpr"] == "(0.5 * 0.001)"
    assert (avail["ticket-3d"]["long"], avail["ticket-3d"]["short"], avail["ticket-3d"]["severity"]) == (
        "3d",
        "6h",
        "ticket",
    )
    # Only that tier differs from the workbook's.
    assert [avail[n]["factorStr"] for n in ("page-1h", "page-6h", "ticket-1d")] == ["14.4", "6", "3"]


def test_seed_003_pages_on_10_percent_of_the_budget_in_6_hours() -> None:
    got = tiers("seed003Tiers")
    assert got[SLO]["page-6h"]["factorStr"] == "12"  # 10 % x 30 d / 6 h
    assert got["api-requests-latency-1s-28d"]["page-6h"]["factorStr"] == "11.2"
    assert got[SLO]["page-6h"]["severity"] == "page"
    assert [got[SLO][n]["factorStr"] for n in ("page-1h", "ticket-1d", "ticket-3d")] == ["14.4", "3", "1"]


def test_both_policies_together_keep_the_tier_names() -> None:
    got = tiers("tiers")
    assert [got[SLO][n]["factorStr"] for n in ("page-1h", "page-6h", "ticket-1d", "ticket-3d")] == [
        "14.4",
        "12",
        "3",
        "0.5",
    ]
    # The latency SLO's `alerting.tiers: {'ticket-3d': false}` still applies (names kept).
    assert not got["api-requests-latency"]["ticket-3d"]["enabled"]


def test_the_ready_overlay_gives_every_slo_both_policies() -> None:
    """`(import 'mixin.libsonnet') + policies.seedPolicy`, as docs/slo.md shows it."""
    slos = evaluate_snippet(
        ROOT, "((import 'mixin.libsonnet') + (import 'slo/policies.libsonnet').seedPolicy).slos"
    )
    for slo in slos.values():
        factors = {t["name"]: t["factorStr"] for t in slo["tiers"]}
        assert factors["ticket-3d"] == "0.5", slo["id"]
    assert {t["name"]: t["factorStr"] for t in slos[SLO]["tiers"]}["page-6h"] == "12"


@pytest.fixture(scope="module")
def policy_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The availability SLO's rules and generated tests with both seeds' tiers (seedPolicy's list)."""
    out = with_policy(
        "tiers",
        f"""{{ rules: m.ruleFiles['slo-{SLO}'],
   tests: {{ [k]: m.promtoolTests[k] for k in ['slo-{SLO}.yaml', 'slo-{SLO}-slow.yaml'] }},
   alerts: m.prometheusAlerts }}""",
    )
    d = tmp_path_factory.mktemp("seed-policy")
    (d / f"slo-{SLO}.yaml").write_text(render("x.yaml", out["rules"]))
    for name, content in out["tests"].items():
        (d / f"test-{name}").write_text(render(name, content))
    return {"dir": d, **out}


def _tier_tests(files: dict[str, Any], tier: str) -> dict[str, dict[str, Any]]:
    return {
        t["name"].split(": ", 1)[1]: t
        for content in files["tests"].values()
        for t in content["tests"]
        if t["name"].startswith(f"{SLO}: {tier} tier: error ratio at")
    }


@pytest.mark.parametrize("tier", ["page-6h", "ticket-3d"])
def test_the_generated_tests_bracket_the_seed_rate(policy_files: dict[str, Any], tier: str) -> None:
    tests = _tier_tests(policy_files, tier)
    silent = tests[f"{tier} tier: error ratio at 0.95x its threshold stays silent"]
    firing = tests[f"{tier} tier: error ratio at 1.05x its threshold fires within the long window"]
    def fired(test: dict[str, Any]) -> list[str]:
        return [x["exp_labels"]["slo_burn_tier"] for a in test["alert_rule_test"] for x in a["exp_alerts"]]

    # Other (longer) tiers may fire in the silent test; the focused one must not.
    assert tier not in fired(silent)
    assert tier in fired(firing)


def test_policy_rules_pass_promtool_check(policy_files: dict[str, Any]) -> None:
    res = promtool("check", "rules", f"slo-{SLO}.yaml", cwd=policy_files["dir"])
    assert res.returncode == 0, res.stdout + res.stderr
    text = (policy_files["dir"] / f"slo-{SLO}.yaml").read_text()
    assert "(0.5 * 0.001)" in text and "(12 * 0.001)" in text
    assert "(1 * 0.001)" not in text and "(6 * 0.001)" not in text


def _run(path: Path) -> tuple[str, int, str]:
    res = promtool("test", "rules", path.name, cwd=path.parent)
    return path.name, res.returncode, (res.stdout + res.stderr)[-3000:]


@pytest.mark.timeout(900)
def test_policy_generated_promtool_tests_pass(policy_files: dict[str, Any]) -> None:
    """Outage, detection brackets, 0.95x / 1.05x per tier, recovery, healthy traffic (a quarter of the
    budget rate, below the 0.5 tier), counter reset... on the policy's rules."""
    paths = sorted(policy_files["dir"].glob("test-*.yaml"))
    assert len(paths) == 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_run, paths))
    failed = [f"{n}:\n{out}" for n, rc, out in results if rc != 0]
    assert not failed, "\n".join(failed)
    healthy = [t["name"] for c in policy_files["tests"].values() for t in c["tests"] if "steady healthy" in t["name"]]
    assert healthy == [f"{SLO}: steady healthy traffic (0.25x the budget rate): no alert"]


@pytest.mark.parametrize(
    ("tier", "which"),
    [
        # The workbook's ticket-3d (factor 1) stays silent at a burn rate of 0.525.
        ("ticket-3d", "1.05x its threshold fires within the long window"),
        # The workbook's page-6h (5 % in 6 h) already pages at 9.5 % in 6 h.
        ("page-6h", "0.95x its threshold stays silent"),
    ],
)
def test_the_seed_rate_tests_fail_on_the_default_tiers(
    policy_files: dict[str, Any], tier: str, which: str, tmp_path: Path
) -> None:
    """The policy's tests are specific to it: run against the committed (workbook) rules they fail."""
    test = _tier_tests(policy_files, tier)[f"{tier} tier: error ratio at {which}"]
    source = next(c for c in policy_files["tests"].values() if any(t["name"] == test["name"] for t in c["tests"]))
    (tmp_path / f"slo-{SLO}.yaml").write_text((ROOT / "rules" / f"slo-{SLO}.yaml").read_text())
    target = tmp_path / "t.yaml"
    target.write_text(yaml.safe_dump({**source, "tests": [test]}))
    _, rc, out = _run(target)
    assert rc != 0 and tier in out, out
    # ... and the policy's own rules pass the same test.
    (tmp_path / f"slo-{SLO}.yaml").write_text((policy_files["dir"] / f"slo-{SLO}.yaml").read_text())
    _, rc, out = _run(target)
    assert rc == 0, out
