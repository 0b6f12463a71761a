"""The period budget: weighted by the data's coverage of the period (a young SLO's first incident is not
a month's budget), computed over the whole period (a 30-day test), and SLOMetricAbsent; plus the SRE
workbook's constants pinned by hand so the generator cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from support.rulefiles import ROOT, promtool

HERE = Path(__file__).parent
RULES = ROOT / "rules" / "slo-api-requests-availability.yaml"
YOUNG = HERE / "young-slo-and-absent.yaml"
PERIOD = HERE / "period-budget.yaml"


def run_against(tmp_path: Path, test: Path, rules_text: str) -> str:
    """Run ``test`` against a changed copy of the availability SLO's rules; returns promtool's output."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / RULES.name).write_text(rules_text)
    (tmp_path / "tests" / "slo").mkdir(parents=True)
    (tmp_path / "tests" / "slo" / test.name).write_text(test.read_text())
    res = promtool("test", "rules", test.name, cwd=tmp_path / "tests" / "slo")
    assert res.returncode != 0
    return res.stdout + res.stderr


@pytest.mark.parametrize("path", [YOUNG, PERIOD], ids=lambda p: p.name)
def test_hand_written_budget_tests_pass(path: Path) -> None:
    res = promtool("test", "rules", path.name, cwd=path.parent)
    assert res.returncode == 0, res.stdout + res.stderr


def test_young_slo_fails_without_the_coverage_weight(tmp_path: Path) -> None:
    """Regression: remaining = 1 - period burn rate (the previous rule) fires on a 6-hour-old SLO."""
    text = RULES.read_text()
    weighted = re.search(
        r"\n\s*\* on\(sloth_id, sloth_service, sloth_slo\) group_left\n\s*slo:period_data_coverage:ratio\{[^}]*\}", text
    )
    assert weighted, "the remaining-budget rule is weighted by coverage"
    out = run_against(tmp_path, YOUNG, text.replace(weighted.group(0), ""))
    assert "a 6-hour-old SLO's 10-minute outage raises no budget warning" in out
    assert 'alertname="SLOErrorBudgetNearlyExhausted"' in out


def test_period_ratio_over_7_days_fails_the_30_day_test(tmp_path: Path) -> None:
    out = run_against(tmp_path, PERIOD, RULES.read_text().replace("[30d]", "[7d]"))
    assert "SLOErrorBudgetNearlyExhausted, time: 29d23h" in out


def test_absent_alert_test_fails_when_the_alert_is_missing(tmp_path: Path) -> None:
    out = run_against(tmp_path, YOUNG, RULES.read_text().replace("alert: SLOMetricAbsent", "alert: SomethingElse"))
    assert "SLOMetricAbsent, time: 1h16m" in out


# ---- SRE workbook constants (chapter 5, "Multiwindow, Multi-Burn-Rate Alerts") ----------------
# For a 30-day SLO: page at 14.4x over 1h (5m short window) and 6x over 6h (30m), ticket at 3x over
# 1d (2h) and 1x over 3d (6h); 2%, 5%, 10% and 10% of the budget.
WORKBOOK = [
    ("page-1h", "page", "1h", "5m", "14.4"),
    ("page-6h", "page", "6h", "30m", "6"),
    ("ticket-1d", "ticket", "1d", "2h", "3"),
    ("ticket-3d", "ticket", "3d", "6h", "1"),
]


def test_workbook_burn_rates_are_pinned() -> None:
    doc = yaml.safe_load(RULES.read_text())
    alerts = {
        r["labels"]["slo_burn_tier"]: r
        for g in doc["groups"]
        for r in g["rules"]
        if r.get("alert") == "SLOErrorBudgetBurn"
    }
    assert list(alerts) == [t[0] for t in WORKBOOK]
    for tier, severity, long, short, factor in WORKBOOK:
        rule = alerts[tier]
        assert rule["labels"]["sloth_severity"] == severity
        assert (
            f"slo:sli_error:ratio_rate{long}{{" in rule["expr"] and f"slo:sli_error:ratio_rate{short}{{" in rule["expr"]
        )
        assert rule["expr"].count(f"> ({factor} * 0.001)") == 2, rule["expr"]
    records = {r["record"]: r for g in doc["groups"] for r in g["rules"] if "record" in r}
    assert records["slo:objective:ratio"]["expr"] == "vector(0.999)"
    assert records["slo:error_budget:ratio"]["expr"] == "vector(0.001)"
    assert records["slo:time_period:days"]["expr"] == "vector(30)"
