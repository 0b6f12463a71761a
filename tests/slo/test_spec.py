"""SLO spec validation (build-time errors naming the SLO), factor derivation and exact printing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infrawatch_dev.build import evaluate_snippet, render
from support.rulefiles import ROOT, promtool

EVENTS = {
    "events": {
        "errorSelector": 'http_requests_total{job="x", code=~"5.."}',
        "totalSelector": 'http_requests_total{job="x"}',
    }
}


def slo(**over: object) -> dict:
    return {"service": "svc", "name": "avail", "objective": 99.9, "sli": EVENTS} | over


def evaluate(slos: list[dict], what: str = "m.ruleFiles", extra: str = "{}") -> object:
    return evaluate_snippet(
        ROOT,
        f"""
local m = (import 'mixin.libsonnet') + {{ _config+:: {{ slos: {json.dumps(slos)} }} }} + ({extra});
{what}
""",
    )


def error_of(slos: list[dict], extra: str = "{}") -> str:
    with pytest.raises(RuntimeError) as exc:
        evaluate(slos, extra=extra)
    return str(exc.value)


@pytest.mark.parametrize("objective", [100, 100.5, 0, -1])
def test_objective_out_of_range_is_rejected(objective: float) -> None:
    msg = error_of([slo(objective=objective)])
    assert 'SLO "svc-avail"' in msg and "must be above 0 and below 100" in msg


def test_short_window_must_be_long_over_12() -> None:
    tiers = [{"name": "fast", "severity": "page", "budgetPercent": 2, "long": "1h", "short": "10m"}]
    msg = error_of([slo(tiers=tiers)])
    assert 'SLO "svc-avail"' in msg and "short window 10m must be the long window 1h / 12" in msg


def test_unknown_latency_bucket_is_rejected() -> None:
    latency = {
        "latency": {
            "metric": "http_request_duration_seconds",
            "selector": 'job="x"',
            "threshold": 0.2,
            "buckets": [0.1, 0.25, 0.5, 1],
        }
    }
    msg = error_of([slo(name="latency", objective=95, sli=latency)])
    assert 'SLO "svc-latency"' in msg and "threshold 0.2 is not one of the histogram buckets [0.1, 0.25, 0.5, 1]" in msg


@pytest.mark.parametrize(
    ("over", "text"),
    [
        ({"period": "thirty days"}, 'period "thirty days" is not a duration'),
        ({"alerting": {"tiers": {"page-2h": False}}}, "alerting.tiers names unknown tiers"),
        ({"sli": {}}, 'sli needs exactly one of "events", "latency", "raw"'),
        ({"sli": {"events": {"totalSelector": "x"}}}, "errorSelector/errorQuery or goodSelector/goodQuery"),
        ({"name": "has space"}, "name must be a non-empty label-safe name"),
    ],
)
def test_other_bad_specs_name_the_slo(over: dict, text: str) -> None:
    msg = error_of([slo(**over)])
    assert 'SLO "svc-' in msg and text in msg, msg


def test_duplicate_slo_is_rejected() -> None:
    assert 'SLO "svc-avail": defined more than once' in error_of([slo(), slo(objective=99)])


def test_a_valid_spec_builds() -> None:
    files = evaluate([slo()], "std.objectFields(m.ruleFiles)")
    assert "slo-svc-avail" in files


def tiers_of(period: str, objective: float = 99.9) -> dict[str, dict]:
    slos = evaluate([slo(period=period, objective=objective)], "m.slos")
    return {t["name"]: t for t in slos["svc-avail"]["tiers"]}


@pytest.mark.parametrize(
    ("period", "factors"),
    [
        ("30d", ["14.4", "6", "3", "1"]),
        ("28d", ["13.44", "5.6", "2.8", "0.9333333333"]),
        ("4w", ["13.44", "5.6", "2.8", "0.9333333333"]),
        ("7d", ["3.36", "1.4", "0.7", "0.2333333333"]),
        ("90d", ["43.2", "18", "9", "3"]),
    ],
)
def test_factors_are_derived_from_budget_share_period_and_window(period: str, factors: list[str]) -> None:
    tiers = tiers_of(period)
    assert [tiers[n]["factorStr"] for n in ("page-1h", "page-6h", "ticket-1d", "ticket-3d")] == factors


@pytest.mark.parametrize(
    ("objective", "budget"),
    [
        (99.9, "0.001"),
        (99.99, "0.0001"),
        (99.95, "0.0005"),
        (99.5, "0.005"),
        (95, "0.05"),
        (99.999, "0.00001"),
    ],
)
def test_thresholds_are_printed_without_float_artefacts(objective: float, budget: str) -> None:
    rules = evaluate([slo(objective=objective, period="28d")], "m.ruleFiles['slo-svc-avail']")
    text = json.dumps(rules)
    assert f"(13.44 * {budget})" in text
    assert f"vector({budget})" in text
    # Sloth writes 0.0009999999999999432 / 0.9990000000000001; nothing like that here.
    assert not re.search(r"\d\.\d*(?:0{6,}|9{6,})\d", text), re.findall(r"\d\.\d*(?:0{6,}|9{6,})\d", text)


def test_latency_matches_both_le_spellings() -> None:
    latency = {"latency": {"metric": "h", "selector": 'job="x"', "threshold": 1, "buckets": [0.5, 1, 2]}}
    rules = evaluate([slo(name="lat", objective=99, sli=latency)], "m.ruleFiles['slo-svc-lat']")
    expr = rules["groups"][0]["rules"][0]["expr"]
    assert 'h_bucket{job="x", le=~"1|1\\\\.0"}' in expr
    assert 'h_count{job="x"}' in expr


def test_inhibit_rules_mute_ticket_tiers_of_the_same_slo() -> None:
    rules = evaluate_snippet(ROOT, "(import 'mixin.libsonnet').sloInhibitRules")
    assert rules == [
        {
            "source_matchers": ['alertname="SLOErrorBudgetBurn"', 'sloth_severity="page"'],
            "target_matchers": ['alertname="SLOErrorBudgetBurn"', 'sloth_severity="ticket"'],
            "equal": ["sloth_id"],
        }
    ]


def test_explicit_test_series_drive_the_generated_tests(tmp_path: Path) -> None:
    """Query-template SLIs have no selectors to derive input series from; `test:` supplies them."""
    spec = slo(
        name="jobs",
        objective=99,
        sli={
            "events": {
                "errorQuery": 'sum(rate(jobs_total{result="failed"}[{{.window}}]))',
                "totalQuery": "sum(rate(jobs_total[{{.window}}]))",
            }
        },
        test={"good": ['jobs_total{result="done"}'], "bad": ['jobs_total{result="failed"}']},
    )
    out = evaluate(
        [spec],
        "{ rules: m.ruleFiles['slo-svc-jobs'], tests: m.promtoolTests }",
        extra="{ _config+:: { sloTestRulesDir: '' } }",
    )
    assert set(out["tests"]) == {"slo-svc-jobs.yaml", "slo-svc-jobs-slow.yaml", "slo-svc-jobs-period.yaml"}
    (tmp_path / "slo-svc-jobs.yaml.rules").write_text(render("x.yaml", out["rules"]))
    test = out["tests"]["slo-svc-jobs.yaml"]
    test["rule_files"] = ["slo-svc-jobs.yaml.rules"]
    assert test["tests"][0]["input_series"][0]["series"] == 'jobs_total{result="done"}'
    (tmp_path / "t.yaml").write_text(render("t.yaml", test))
    res = promtool("test", "rules", "t.yaml", cwd=tmp_path)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]


@pytest.mark.parametrize(
    ("period", "window"),
    [("30d", "30d"), ("28d", "4w"), ("4w", "4w"), ("7d", "1w"), ("14d", "2w"), ("90d", "90d")],
)
def test_period_window_is_named_as_sloth_names_it(period: str, window: str) -> None:
    """Sloth (and Prometheus) print 28d as 4w and 7d as 1w: the record, its sloth_window label and the
    period burn rate read it by that name, so dashboards written against Sloth's names keep working."""
    rules = evaluate([slo(period=period)], "m.ruleFiles['slo-svc-avail']")
    by_name = {r.get("record"): r for g in rules["groups"] for r in g["rules"]}
    record = by_name[f"slo:sli_error:ratio_rate{window}"]
    assert record["labels"]["sloth_window"] == window
    assert f"slo:sli_error:ratio_rate{window}{{" in by_name["slo:period_burn_rate:ratio"]["expr"]
    if window != period:
        assert f"ratio_rate{period}" not in json.dumps(rules)
