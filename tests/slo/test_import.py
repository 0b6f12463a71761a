"""Sloth `prometheus/v1` and OpenSLO v1 specs imported into the mixin, on the projects' own examples
(tests/slo/specs/), down to generated rules and promtool tests that pass."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from infrawatch_dev.build import build, evaluate_snippet, render
from infrawatch_dev.slo_import import SpecError, import_specs
from support.rulefiles import ROOT, promtool

SPECS = Path(__file__).parent / "specs"


@pytest.fixture(scope="module")
def imported() -> list[dict]:
    return import_specs(sorted(SPECS.glob("*.yaml")), ROOT)


def by_id(slos: list[dict]) -> dict[str, dict]:
    return {f"{s['service']}-{s['name']}": s for s in slos}


def test_specs_are_normalised(imported: list[dict]) -> None:
    slos = by_id(imported)
    assert set(slos) == {
        "myservice-requests-availability",
        "home-wifi-good-wifi-client-satisfaction",
        "web-web-availability",
        "checkout-checkout-availability",
        "my-service-sloth-slo-my-service",
    }
    sloth = slos["myservice-requests-availability"]
    assert sloth["objective"] == 99.9
    assert sloth["labels"] == {"owner": "myteam", "repo": "myorg/myservice", "tier": "2"}
    assert sloth["alerting"]["pageLabels"] == {"severity": "pageteam", "routing_key": "myteam"}
    assert (
        sloth["sli"]["events"]["errorSelector"]
        == 'http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}'
    )
    assert slos["home-wifi-good-wifi-client-satisfaction"]["alerting"]["ticket"] is False
    web = slos["web-web-availability"]
    assert web["period"] == "28d" and web["objective"] == 99.0 and web["labels"] == {"team": "web,platform"}
    assert web["sli"]["events"]["goodQuery"] == 'sum(rate(http_requests_total{job="web", code!~"5.."}[{{.window}}]))'
    checkout = slos["checkout-checkout-availability"]  # through indicatorRef, sum() unwrapped
    assert checkout["objective"] == 99.95
    assert checkout["sli"]["events"]["errorQuery"] == 'sum(rate(checkout_requests_total{status="error"}[{{.window}}]))'


@pytest.fixture(scope="module")
def generated(imported: list[dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rules and generated tests of the imported SLOs only, laid out like the repository."""
    root = tmp_path_factory.mktemp("imported")
    out = evaluate_snippet(
        ROOT,
        f"""
local m = (import 'mixin.libsonnet') + {{ _config+:: {{ slos: [], sloImported: {json.dumps(imported)} }} }};
{{ rules: {{ [k]: m.ruleFiles[k] for k in std.objectFields(m.ruleFiles) if std.startsWith(k, 'slo-') }},
   tests: m.promtoolTests, slos: m.slos }}
""",
    )
    (root / "rules").mkdir()
    (root / "tests" / "rules" / "generated").mkdir(parents=True)
    for name, content in out["rules"].items():
        (root / "rules" / f"{name}.yaml").write_text(render(f"{name}.yaml", content))
    for name, content in out["tests"].items():
        (root / "tests" / "rules" / "generated" / name).write_text(render(name, content))
    (root / "slos.json").write_text(json.dumps(out["slos"]))
    return root


def test_imported_rules_keep_sloth_names_and_labels(generated: Path) -> None:
    rules = yaml.safe_load((generated / "rules" / "slo-myservice-requests-availability.yaml").read_text())
    assert [g["name"] for g in rules["groups"]] == [
        "sloth-slo-sli-recordings-myservice-requests-availability",
        "sloth-slo-meta-recordings-myservice-requests-availability",
        "sloth-slo-alerts-myservice-requests-availability",
    ]
    records = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    assert {f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")} <= records
    assert {
        "slo:objective:ratio",
        "slo:error_budget:ratio",
        "slo:time_period:days",
        "slo:current_burn_rate:ratio",
        "slo:period_burn_rate:ratio",
        "slo:period_error_budget_remaining:ratio",
        "sloth_slo_info",
    } <= records
    page = next(r for g in rules["groups"] for r in g["rules"] if r.get("labels", {}).get("slo_burn_tier") == "page-1h")
    assert page["labels"]["severity"] == "pageteam" and page["labels"]["routing_key"] == "myteam"
    assert page["labels"]["sloth_id"] == "myservice-requests-availability"
    assert page["annotations"]["summary"] == "High error rate on 'myservice' requests responses."
    info = next(r for g in rules["groups"] for r in g["rules"] if r.get("record") == "sloth_slo_info")
    assert info["labels"]["sloth_spec"] == "prometheus/v1" and info["labels"]["sloth_objective"] == "99.9"
    assert promtool("check", "rules", *sorted((generated / "rules").glob("*.yaml"))).returncode == 0


def test_disabled_ticket_alert_is_not_generated(generated: Path) -> None:
    rules = yaml.safe_load((generated / "rules" / "slo-home-wifi-good-wifi-client-satisfaction.yaml").read_text())
    tiers = [
        r["labels"]["slo_burn_tier"]
        for g in rules["groups"]
        for r in g["rules"]
        if r.get("alert") == "SLOErrorBudgetBurn"
    ]
    assert tiers == ["page-1h", "page-6h"]


def test_openslo_28d_window_gives_exact_factors(generated: Path) -> None:
    text = (generated / "rules" / "slo-web-web-availability.yaml").read_text()
    assert "(13.44 * 0.01)" in text and "(5.6 * 0.01)" in text and "ratio_rate28d" in text


# The fast (1-minute) generated files: page tiers, outage, recovery, zero traffic, counter reset, budget
# warning.  The 5-minute files exercise the same generator as the config SLOs' (tests/slo/test_generated.py).
@pytest.mark.parametrize(
    "slo_id",
    [
        "myservice-requests-availability",
        "web-web-availability",
        "checkout-checkout-availability",
        "my-service-sloth-slo-my-service",
    ],
)
def test_generated_tests_of_imported_slos_pass(generated: Path, slo_id: str) -> None:
    path = generated / "tests" / "rules" / "generated" / f"slo-{slo_id}.yaml"
    res = promtool("test", "rules", path.name, cwd=path.parent)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]


def test_unsynthesisable_sli_gets_no_generated_tests(generated: Path) -> None:
    """Subquery SLIs (home-wifi) have no selector to synthesise input series from."""
    assert not list((generated / "tests" / "rules" / "generated").glob("slo-home-wifi-*"))


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {
                "version": "prometheus/v1",
                "service": "s",
                "slos": [{"name": "raw", "objective": 99, "sli": {"raw": {"error_ratio_query": "x"}}}],
            },
            'SLO "s-raw" (bad.yaml): sli.raw is not supported',
        ),
        (
            {
                "version": "prometheus/v1",
                "service": "s",
                "slos": [{"name": "plug", "objective": 99, "sli": {"plugin": {"id": "x"}}}],
            },
            'SLO "s-plug" (bad.yaml): sli.plugin is not supported',
        ),
        (
            {
                "version": "prometheus/v1",
                "service": "s",
                "slos": [
                    {
                        "name": "nowin",
                        "objective": 99,
                        "sli": {
                            "events": {"error_query": "sum(rate(e[5m]))", "total_query": "sum(rate(t[{{.window}}]))"}
                        },
                    }
                ],
            },
            'SLO "s-nowin" (bad.yaml): sli.events.error_query needs a {{.window}} placeholder',
        ),
        (
            {
                "apiVersion": "openslo/v1",
                "kind": "SLO",
                "metadata": {"name": "ts"},
                "spec": {"service": "s", "budgetingMethod": "Timeslices", "objectives": [{"target": 0.9}]},
            },
            'SLO "s-ts" (bad.yaml): budgetingMethod Timeslices is not supported',
        ),
        (
            {
                "apiVersion": "openslo/v1",
                "kind": "SLO",
                "metadata": {"name": "thr"},
                "spec": {
                    "service": "s",
                    "budgetingMethod": "Occurrences",
                    "indicator": {"spec": {"thresholdMetric": {}}},
                    "objectives": [{"target": 0.9}],
                },
            },
            'SLO "s-thr" (bad.yaml): only ratioMetric indicators are supported',
        ),
        (
            {
                "apiVersion": "openslo/v1",
                "kind": "SLO",
                "metadata": {"name": "dd"},
                "spec": {
                    "service": "s",
                    "budgetingMethod": "Occurrences",
                    "indicator": {
                        "spec": {
                            "ratioMetric": {
                                "counter": True,
                                "good": {"metricSource": {"type": "Datadog", "spec": {"query": "a"}}},
                                "total": {"metricSource": {"type": "Datadog", "spec": {"query": "b"}}},
                            }
                        }
                    },
                    "objectives": [{"target": 0.9}],
                },
            },
            "good metric source type 'Datadog' is not Prometheus",
        ),
        (
            {
                "apiVersion": "openslo/v1",
                "kind": "SLO",
                "metadata": {"name": "cal"},
                "spec": {
                    "service": "s",
                    "timeWindow": [{"duration": "1M", "calendar": {"startTime": "2020-01-01 00:00:00"}}],
                    "objectives": [{"target": 0.9}],
                },
            },
            'SLO "s-cal" (bad.yaml): calendar-aligned time windows are not supported',
        ),
        ({"apiVersion": "v2", "kind": "Thing"}, "bad.yaml: unknown spec"),
    ],
)
def test_unsupported_specs_are_refused_with_the_slo_named(tmp_path: Path, doc: dict, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError) as exc:
        import_specs([tmp_path / "bad.yaml"], tmp_path)
    assert message in str(exc.value)


def test_objective_of_an_imported_spec_is_validated_by_the_mixin(imported: list[dict]) -> None:
    bad = dict(imported[0], objective=100)
    with pytest.raises(RuntimeError) as exc:
        evaluate_snippet(
            ROOT,
            f"(import 'mixin.libsonnet') + {{ _config+:: {{ slos: [], sloImported: "
            f"{json.dumps([bad])} }} }} + {{ x: std.objectFields(self.ruleFiles) }}",
        )
    assert f'SLO "{bad["service"]}-{bad["name"]}" ({bad["file"]}): objective 100% must be above 0' in str(exc.value)


def test_make_build_reads_the_slos_folder(tmp_path: Path) -> None:
    """`infrawatch build` on a tree whose slos/ holds Sloth's example writes that SLO's rules and tests."""
    os.symlink(ROOT / "jsonnet", tmp_path / "jsonnet")
    os.symlink(ROOT / "examples", tmp_path / "examples")  # the Kubernetes ConfigMaps importstr these
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "getting-started.yaml").write_text((SPECS / "sloth-getting-started.yaml").read_text())
    changed = build(tmp_path)
    assert "rules/slo-myservice-requests-availability.yaml" in changed
    assert "tests/rules/generated/slo-myservice-requests-availability.yaml" in changed
    assert (tmp_path / "rules" / "slo-api-requests-availability.yaml").exists()  # config SLOs stay
