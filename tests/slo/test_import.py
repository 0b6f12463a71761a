"""Sloth `prometheus/v1` and its CRD, OpenSLO v1 and Pyrra specs imported into the mixin through the
house loader (tests/slo/specs/, written after each project's published schema), down to generated
rules and promtool tests that pass; located, per-SLO refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infrawatch_dev.build import build, evaluate_snippet, render
from infrawatch_dev.slo_import import import_specs, load
from support.rulefiles import ROOT, promtool

SPECS = Path(__file__).parent / "specs"


@pytest.fixture(scope="module")
def imported() -> list[dict]:
    result = import_specs(sorted(SPECS.glob("*.yaml")), ROOT)
    assert result.problems == []
    return result.slos


def by_id(slos: list[dict]) -> dict[str, dict]:
    return {f"{s['service']}-{s['name']}": s for s in slos}


def import_text(tmp_path: Path, text: str, name: str = "bad.yaml") -> tuple[list[dict], list[str]]:
    (tmp_path / name).write_text(text)
    result = import_specs([tmp_path / name], tmp_path)
    return result.slos, [str(p) for p in result.problems]


def test_specs_are_normalised(imported: list[dict]) -> None:
    slos = by_id(imported)
    assert set(slos) == {
        "myservice-requests-availability",
        "home-wifi-good-wifi-client-satisfaction",
        "payments-charge-errors",
        "payments-charge-quiet",
        "web-web-availability-0",
        "checkout-checkout-availability-0",
        "my-service-sloth-slo-my-service-0",
        "shop-api-errors",
        "shop-api-latency",
        "shop-api-latency-native",
        "shop-probe-success",
    }
    sloth = slos["myservice-requests-availability"]
    assert sloth["objective"] == 99.9
    assert sloth["labels"] == {"owner": "myteam", "repo": "myorg/myservice", "tier": "2"}
    assert sloth["alerting"]["pageLabels"] == {"severity": "pageteam", "routing_key": "myteam"}
    assert (
        sloth["sli"]["events"]["errorSelector"]
        == 'http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}'
    )
    assert sloth["file"] == "tests/slo/specs/sloth-getting-started.yaml:10"
    # The CRD in its own camelCase spelling.
    wifi = slos["home-wifi-good-wifi-client-satisfaction"]
    assert wifi["alerting"]["ticket"] is False and wifi["source"] == "sloth.slok.dev/v1"
    assert wifi["sli"]["events"]["errorQuery"].startswith("sum_over_time((count(unifipoller")
    web = slos["web-web-availability-0"]
    assert web["period"] == "28d" and web["objective"] == 99.0 and web["labels"] == {"team": "web,platform"}
    assert web["sli"]["events"]["goodQuery"] == 'sum(rate(http_requests_total{job="web", code!~"5.."}[{{.window}}]))'
    checkout = slos["checkout-checkout-availability-0"]  # through indicatorRef, sum() unwrapped
    assert checkout["objective"] == 99.95
    assert checkout["sli"]["events"]["errorQuery"] == 'sum(rate(checkout_requests_total{status="error"}[{{.window}}]))'


def test_label_values_keep_their_yaml_text(imported: list[dict]) -> None:
    """`tier: 1`, `critical: true` become "1" and "true" (Sloth's map[string]string), not "True"; so do
    annotation values and the info_labels plugin's labels (`escalate: yes` stays "yes")."""
    charge = by_id(imported)["payments-charge-errors"]
    assert charge["labels"] == {"tier": "1", "critical": "true"}
    assert charge["info"]["pci"] == "true"
    assert charge["alerting"]["pageAnnotations"]["escalate"] == "yes"
    assert charge["alerting"]["ticketAnnotations"]["priority"] == "3"


def test_label_values_reach_the_rules_as_yaml_text(generated: Path) -> None:
    """In the written rule file (not only the importer's output): every recorded series of the SLO (its
    alerts take them from the series they read)."""
    rules = rules_of(generated, "payments-charge-errors")
    records = [r for r in rules if "record" in r]
    assert records and all(r["labels"]["critical"] == "true" and r["labels"]["tier"] == "1" for r in records)
    info = next(r for r in rules if r.get("record") == "sloth_slo_info")
    assert info["labels"]["pci"] == "true"
    page = next(r for r in rules if r.get("labels", {}).get("sloth_severity") == "page" and "annotations" in r)
    assert page["annotations"]["escalate"] == "yes"


def test_sloth_raw_sli_plugins_and_annotations(imported: list[dict]) -> None:
    charge = by_id(imported)["payments-charge-errors"]
    assert charge["sli"] == {
        "raw": {
            "errorRatioQuery": "sum(rate(payment_charge_failures_total[{{.window}}]))\n/\n"
            "sum(rate(payment_charges_total[{{.window}}]))\n"
        }
    }
    assert charge["info"] == {"owner": "payments-team", "pci": "true", "sloth_alert_name": "PaymentsChargeErrors"}
    assert charge["alerting"]["pageAnnotations"] == {
        "playbook": "https://wiki.example.com/payments/page",
        "escalate": "yes",
    }
    assert charge["alerting"]["ticketAnnotations"] == {
        "playbook": "https://wiki.example.com/payments/ticket",
        "priority": "3",
    }


@pytest.fixture(scope="module")
def generated(imported: list[dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rules and generated tests of the imported SLOs only, laid out like the repository."""
    return generate(imported, tmp_path_factory.mktemp("imported"))


def generate(slos: list[dict], root: Path, config: str = "{}") -> Path:
    out = evaluate_snippet(
        ROOT,
        f"""
local m = (import 'mixin.libsonnet') + {{ _config+:: {{ slos: [], sloImported: {json.dumps(slos)} }} + {config} }};
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
    return root


def rules_of(root: Path, slo_id: str) -> list[dict]:
    doc = yaml.safe_load((root / "rules" / f"slo-{slo_id}.yaml").read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def test_every_imported_rule_passes_promtool_check(generated: Path) -> None:
    res = promtool("check", "rules", *sorted((generated / "rules").glob("*.yaml")))
    assert res.returncode == 0, res.stdout + res.stderr


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
        "slo:sli_data_since:timestamp",
        "slo:period_data_coverage:ratio",
        "sloth_slo_info",
    } <= records
    page = next(r for g in rules["groups"] for r in g["rules"] if r.get("labels", {}).get("slo_burn_tier") == "page-1h")
    assert page["labels"]["severity"] == "pageteam" and page["labels"]["routing_key"] == "myteam"
    assert page["labels"]["sloth_id"] == "myservice-requests-availability"
    assert page["annotations"]["summary"] == "High error rate on 'myservice' requests responses."
    info = next(r for g in rules["groups"] for r in g["rules"] if r.get("record") == "sloth_slo_info")
    assert info["labels"]["sloth_spec"] == "prometheus/v1" and info["labels"]["sloth_objective"] == "99.9"


def test_disabled_ticket_alert_is_not_generated(generated: Path) -> None:
    tiers = [
        r["labels"]["slo_burn_tier"]
        for r in rules_of(generated, "home-wifi-good-wifi-client-satisfaction")
        if r.get("alert") == "SLOErrorBudgetBurn"
    ]
    assert tiers == ["page-1h", "page-6h"]


def test_both_sloth_alerts_disabled_means_no_alert(generated: Path) -> None:
    rules = rules_of(generated, "payments-charge-quiet")
    assert [r["alert"] for r in rules if "alert" in r] == []
    assert any(r.get("record") == "slo:sli_error:ratio_rate5m" for r in rules)  # the SLO is still recorded


def test_page_and_ticket_annotations_are_applied(generated: Path) -> None:
    alerts = [r for r in rules_of(generated, "payments-charge-errors") if "alert" in r]
    by_severity = {r["labels"]["sloth_severity"]: r for r in alerts if r["alert"] == "SLOErrorBudgetBurn"}
    assert by_severity["page"]["annotations"]["playbook"] == "https://wiki.example.com/payments/page"
    assert by_severity["ticket"]["annotations"]["playbook"] == "https://wiki.example.com/payments/ticket"
    assert by_severity["page"]["annotations"]["summary"] == "Charges are failing."
    assert by_severity["page"]["labels"]["routing"] == "pager"


SNAKE_ALERTS = """\
version: prometheus/v1
service: s
slos:
  - name: annotated
    objective: 99
    sli:
      events:
        error_query: sum(rate(e[{{.window}}]))
        total_query: sum(rate(t[{{.window}}]))
    alerting:
      annotations: {summary: "from alerting"}
      page_alert:
        annotations: {playbook: "https://wiki/page", summary: "page summary"}
      ticket_alert:
        annotations: {playbook: "https://wiki/ticket"}
  - name: silent
    objective: 99
    sli:
      raw:
        error_ratio_query: sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))
    alerting:
      page_alert: {disable: true}
      ticket_alert: {disable: true}
"""


def test_prometheus_v1_alert_annotations_and_disable(tmp_path: Path) -> None:
    """The snake_case spelling (`page_alert` / `ticket_alert`): per-severity annotations on top of
    `alerting.annotations` on the written alerts; both disabled: the SLO has rules but no alert."""
    slos, problems = import_text(tmp_path, SNAKE_ALERTS)
    assert problems == []
    (tmp_path / "out").mkdir()
    root = generate(slos, tmp_path / "out")
    alerts = [r for r in rules_of(root, "s-annotated") if r.get("alert") == "SLOErrorBudgetBurn"]
    assert len(alerts) == 4
    for a in alerts:
        kind = a["labels"]["sloth_severity"]
        assert a["annotations"]["playbook"] == f"https://wiki/{kind}"
        assert a["annotations"]["summary"] == ("page summary." if kind == "page" else "from alerting.")
    silent = rules_of(root, "s-silent")
    assert [r["alert"] for r in silent if "alert" in r] == []
    assert any(r.get("record") == "slo:sli_error:ratio_rate5m" for r in silent)


def test_raw_sli_records_the_ratio_query_per_window(generated: Path) -> None:
    rules = {r["record"]: r for r in rules_of(generated, "payments-charge-errors") if "record" in r}
    assert "slo:sli_total_events:rate5m" not in rules
    assert "payment_charge_failures_total[1h]" in rules["slo:sli_error:ratio_rate1h"]["expr"]
    assert rules["slo:sli_error:ratio_rate30d"]["expr"].startswith("avg_over_time(slo:sli_error:ratio_rate5m{")


def test_openslo_28d_window_gives_exact_factors_and_sloth_window_names(generated: Path) -> None:
    text = (generated / "rules" / "slo-web-web-availability-0.yaml").read_text()
    assert "(13.44 * 0.01)" in text and "(5.6 * 0.01)" in text
    # Sloth names a 28d period window as Prometheus prints 28d: 4w.
    assert "slo:sli_error:ratio_rate4w" in text and "sloth_window: 4w" in text and "ratio_rate28d" not in text


def test_pyrra_indicators(generated: Path) -> None:
    errors = {r.get("record") or r["alert"]: r for r in rules_of(generated, "shop-api-errors")}
    assert errors["slo:sli_error_events:rate5m"]["expr"].startswith("(sum by (handler) (rate(http_requests_total{")
    assert errors["slo:sli_error:ratio_rate4w"]["labels"]["sloth_window"] == "4w"
    assert errors["slo:sli_error:ratio_rate4w"]["labels"]["team"] == "shop"  # pyrra.dev/team
    assert errors["SLOMetricAbsent"]["expr"].startswith("absent(slo:sli_total_events:rate5m{")
    native = {r.get("record") or r["alert"]: r for r in rules_of(generated, "shop-api-latency-native")}
    assert (
        "histogram_fraction(0, 0.25, sum(rate(http_request_duration_seconds{"
        in native["slo:sli_error_events:rate5m"]["expr"]
    )
    probe = [r["alert"] for r in rules_of(generated, "shop-probe-success") if "alert" in r]
    assert probe == ["SLOMetricAbsent"]  # burnrates: false
    gauge = {r.get("record"): r for r in rules_of(generated, "shop-probe-success")}
    assert "count_over_time(probe_success{" in gauge["slo:sli_total_events:rate5m"]["expr"]


def test_spec_alert_names_option(imported: list[dict], tmp_path: Path) -> None:
    root = generate(imported, tmp_path, "{ sloDefaults+: { specAlertNames: true } }")
    assert {r["alert"] for r in rules_of(root, "payments-charge-errors") if "alert" in r} == {
        "PaymentsChargeErrors",
        "SLOErrorBudgetNearlyExhausted",
        "SLOMetricAbsent",
    }
    assert {r["alert"] for r in rules_of(root, "shop-api-latency") if "alert" in r} >= {"ShopAPILatencyBudgetBurn"}
    path = root / "tests" / "rules" / "generated" / "slo-myservice-requests-availability.yaml"
    assert "alertname: MyServiceHighErrorRate" in path.read_text()
    res = promtool("test", "rules", path.name, cwd=path.parent)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]


# The fast (1-minute) generated files: page tiers, outage, recovery, zero traffic, counter reset, a young
# SLO's outage.  The 5-minute files exercise the same generator as the config SLOs' (test_generated.py).
@pytest.mark.parametrize(
    "slo_id",
    [
        "myservice-requests-availability",
        "web-web-availability-0",
        "checkout-checkout-availability-0",
        "shop-api-errors",
        "shop-api-latency",
    ],
)
def test_generated_tests_of_imported_slos_pass(generated: Path, slo_id: str) -> None:
    path = generated / "tests" / "rules" / "generated" / f"slo-{slo_id}.yaml"
    res = promtool("test", "rules", path.name, cwd=path.parent)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]


def test_every_imported_tier_has_a_detection_bracket(imported: list[dict]) -> None:
    """The silent-before / firing-at bracket of test_generated.py, for the imported SLOs' tiers
    (Pyrra's, with their `for`, included) that have generated tests."""
    from slo.test_generated import tiers_without_bracket

    out = evaluate_snippet(
        ROOT,
        f"local m = (import 'mixin.libsonnet') + {{ _config+:: {{ slos: [], sloImported: {json.dumps(imported)} }} }};"
        "{ tests: m.promtoolTests, slos: m.slos }",
    )
    tested = {s: v for s, v in out["slos"].items() if any(n.startswith(f"slo-{s}.") for n in out["tests"])}
    assert {"shop-api-errors", "shop-api-latency", "myservice-requests-availability"} <= set(tested)
    assert tiers_without_bracket(tested, out["tests"]) == []


@pytest.mark.parametrize("slo_id", ["shop-api-errors", "web-web-availability-0"])
def test_full_period_tests_of_imported_slos_pass(generated: Path, slo_id: str) -> None:
    """The 30-minute full-period file of a 28d Pyrra SLO (a budget per `handler`) and a 28d OpenSLO one."""
    path = generated / "tests" / "rules" / "generated" / f"slo-{slo_id}-period.yaml"
    assert "full period: errors of the first" in path.read_text()
    res = promtool("test", "rules", path.name, cwd=path.parent)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]


def test_unsynthesisable_sli_gets_no_generated_tests(generated: Path) -> None:
    """Subquery SLIs (home-wifi) and raw ratios have no selector to synthesise input series from."""
    names = [p.name for p in (generated / "tests" / "rules" / "generated").glob("*")]
    assert not [n for n in names if n.startswith(("slo-home-wifi-", "slo-payments-charge-errors"))]


def test_unknown_key_is_refused_with_file_line_and_key(tmp_path: Path) -> None:
    """The issue's example: `ticket_alert: {disabel: true}` no longer imports without a word."""
    text = (
        (SPECS / "sloth-getting-started.yaml")
        .read_text()
        .replace("ticket_alert:\n", "ticket_alert:\n        disabel: true\n")
    )
    assert "disabel" in text
    slos, problems = import_text(tmp_path, text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "disabel" in t)
    assert slos == []
    assert problems == [
        f'bad.yaml:{line}: slos[0].alerting.ticket_alert.disabel: SLO "myservice-requests-availability": '
        "unknown key 'disabel' (valid keys: annotations, disable, labels); did you mean 'disable'?"
    ]


def test_snake_case_keys_in_the_crd_are_refused_with_the_camel_case_name(tmp_path: Path) -> None:
    text = (SPECS / "sloth-k8s-no-ticket.yaml").read_text().replace("errorQuery:", "error_query:")
    _, problems = import_text(tmp_path, text)
    assert any("spec.slos[0].sli.events.error_query" in p and "did you mean 'errorQuery'?" in p for p in problems)


TWO_SLOS = """\
version: prometheus/v1
service: s
slos:
  - name: good
    objective: 99
    sli:
      events:
        error_query: sum(rate(e[{{.window}}]))
        total_query: sum(rate(t[{{.window}}]))
  - name: bad
    objective: 99
    sli:
      events:
        error_query: sum(rate(e[5m]))
        total_query: sum(rate(t[{{.window}}]))
"""


def test_one_refused_slo_keeps_the_others_of_its_file(tmp_path: Path) -> None:
    slos, problems = import_text(tmp_path, TWO_SLOS)
    assert [s["name"] for s in slos] == ["good"]
    assert problems == [
        'bad.yaml:14: slos[1].sli.events.error_query: SLO "s-bad": query needs Sloth\'s {{.window}} placeholder '
        "(e.g. rate(x[{{.window}}]))"
    ]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {
                "version": "prometheus/v1",
                "service": "s",
                "slos": [
                    {"name": "plug", "objective": 99, "sli": {"plugin": {"id": "sloth-common/coredns/availability"}}}
                ],
            },
            "slos[0].sli.plugin.id: SLO \"s-plug\": Sloth SLI plugin 'sloth-common/coredns/availability' "
            "is not supported",
        ),
        (
            {
                "version": "prometheus/v1",
                "service": "s",
                "slo_plugins": {"chain": [{"id": "sloth.dev/contrib/denominator_corrected_rules/v1"}]},
                "slos": [],
            },
            "slo_plugins.chain[0].id: Sloth plugin 'sloth.dev/contrib/denominator_corrected_rules/v1' is not supported",
        ),
        (
            {
                "version": "prometheus/v1",
                "service": "s",
                "slos": [{"name": "o", "objective": 100, "sli": {"raw": {"error_ratio_query": "x[{{.window}}]"}}}],
            },
            'slos[0].objective: SLO "s-o": objective 100.0 must be above 0 and below 100',
        ),
        (
            {
                "apiVersion": "openslo/v1",
                "kind": "SLO",
                "metadata": {"name": "ts"},
                "spec": {"service": "s", "budgetingMethod": "Timeslices", "objectives": [{"target": 0.9}]},
            },
            'spec.budgetingMethod: SLO "s-ts": budgetingMethod Timeslices is not supported',
        ),
        (
            {
                "apiVersion": "openslo/v1",
                "kind": "SLO",
                "metadata": {"name": "thr"},
                "spec": {
                    "service": "s",
                    "budgetingMethod": "Occurrences",
                    "indicator": {"spec": {"thresholdMetric": {"metricSource": {"type": "Prometheus"}}}},
                    "objectives": [{"target": 0.9}],
                },
            },
            'spec.indicator.spec: SLO "s-thr-0": only ratioMetric indicators are supported',
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
            "good.metricSource.type: SLO \"s-dd-0\": metric source type 'Datadog' is not Prometheus",
        ),
        (
            {
                "apiVersion": "openslo/v1",
                "kind": "SLO",
                "metadata": {"name": "cal"},
                "spec": {
                    "service": "s",
                    "budgetingMethod": "Occurrences",
                    "timeWindow": [{"duration": "1M", "calendar": {"startTime": "2020-01-01 00:00:00"}}],
                    "objectives": [{"target": 0.9}],
                },
            },
            'spec.timeWindow[0]: SLO "s-cal": calendar-aligned time windows are not supported',
        ),
        (
            {
                "apiVersion": "pyrra.dev/v1alpha1",
                "kind": "ServiceLevelObjective",
                "metadata": {"name": "p", "namespace": "n"},
                "spec": {"target": "99", "window": "4w", "indicator": {"ratio": {"errors": {"metric": "e"}}}},
            },
            "spec.indicator.ratio.total: missing required key 'total'",
        ),
        ({"apiVersion": "v2", "kind": "Thing"}, "bad.yaml:1: <root>: unknown spec"),
    ],
)
def test_unsupported_specs_are_refused_with_file_line_and_key(tmp_path: Path, doc: dict, message: str) -> None:
    slos, problems = import_text(tmp_path, yaml.safe_dump(doc, sort_keys=False))
    assert slos == []
    assert any(message in p for p in problems), problems
    assert all(p.startswith("bad.yaml:") for p in problems)


def test_objective_of_an_imported_spec_is_validated_by_the_mixin(imported: list[dict]) -> None:
    bad = dict(imported[0], objective=100)
    with pytest.raises(RuntimeError) as exc:
        evaluate_snippet(
            ROOT,
            f"(import 'mixin.libsonnet') + {{ _config+:: {{ slos: [], sloImported: "
            f"{json.dumps([bad])} }} }} + {{ x: std.objectFields(self.ruleFiles) }}",
        )
    assert f'SLO "{bad["service"]}-{bad["name"]}" ({bad["file"]}): objective 100% must be above 0' in str(exc.value)


def build_cli(root: Path) -> subprocess.CompletedProcess[str]:
    """``infrawatch build --root root`` as `make build` runs it (its exit status and messages)."""
    cmd = [str(Path(sys.executable).parent / "infrawatch"), "build", "--root", str(root)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def _tree(tmp_path: Path) -> Path:
    os.symlink(ROOT / "jsonnet", tmp_path / "jsonnet")
    os.symlink(ROOT / "examples", tmp_path / "examples")  # the Kubernetes ConfigMaps importstr these
    (tmp_path / "slos").mkdir()
    return tmp_path


def test_make_build_reads_the_slos_folder(tmp_path: Path) -> None:
    """`infrawatch build` on a tree whose slos/ holds Sloth's example writes that SLO's rules and tests."""
    root = _tree(tmp_path)
    (root / "slos" / "getting-started.yaml").write_text((SPECS / "sloth-getting-started.yaml").read_text())
    changed = build(root)
    assert "rules/slo-myservice-requests-availability.yaml" in changed
    assert "tests/rules/generated/slo-myservice-requests-availability.yaml" in changed
    assert (root / "rules" / "slo-api-requests-availability.yaml").exists()  # config SLOs stay


NO_SUCH_FUNCTION = """\
version: prometheus/v1
service: t
slos:
  - name: nofn
    objective: 99
    sli:
      events:
        error_query: sum(rate_of_change(e[{{.window}}]))
        total_query: sum(rate(t[{{.window}}]))
"""


def test_a_refused_slo_fails_the_build_and_the_others_are_written(tmp_path: Path) -> None:
    """Schema refusals (file:line: key) and promtool refusals (a function Prometheus does not have)."""
    root = _tree(tmp_path)
    (root / "slos" / "two.yaml").write_text(TWO_SLOS)
    (root / "slos" / "nofn.yaml").write_text(NO_SUCH_FUNCTION)
    res = build_cli(root)
    assert res.returncode == 2, res.stderr
    assert 'slos: slos/two.yaml:14: slos[1].sli.events.error_query: SLO "s-bad"' in res.stderr
    assert 'slos: slos/nofn.yaml:4: sli.events.errorQuery: SLO "t-nofn": promtool: ' in res.stderr
    assert 'unknown function with name "rate_of_change"' in res.stderr
    assert (root / "rules" / "slo-s-good.yaml").exists()
    assert not (root / "rules" / "slo-s-bad.yaml").exists()
    assert not (root / "rules" / "slo-t-nofn.yaml").exists()
    assert not (root / "rules" / "kubernetes" / "slo-t-nofn.yaml").exists()


GOOD_AND_REFUSED = """\
version: prometheus/v1
service: t
slos:
  - name: kept
    objective: 99
    sli:
      events:
        error_query: sum(rate(e[{{.window}}]))
        total_query: sum(rate(t[{{.window}}]))
  - name: refused
    objective: 99
    sli:
      events:
        error_query: sum(rate(e[{{.window}}]))
        total_query: sum(rate(t[{{.window}}])
"""


def test_a_refused_slo_leaves_no_rules_anywhere(tmp_path: Path) -> None:
    """One file, one good SLO and one promtool refuses (an unclosed parenthesis): the build exits 2
    naming file, line and key, and the refused SLO is in no rule file, PrometheusRule object, combined
    manifest or generated test; the good one is in all of them."""
    root = _tree(tmp_path)
    (root / "slos" / "two.yaml").write_text(GOOD_AND_REFUSED)
    res = build_cli(root)
    assert res.returncode == 2, res.stderr
    assert 'slos: slos/two.yaml:10: sli.events.totalQuery: SLO "t-refused": promtool: ' in res.stderr
    assert "unclosed left parenthesis" in res.stderr
    generated = [
        p
        for d in ("rules", "deploy", "tests/rules/generated")
        for p in (root / d).rglob("*")
        if p.is_file() and not p.is_symlink()
    ]
    manifest = root / "deploy" / "kubernetes" / "prometheusrules.yaml"
    assert manifest in generated and (root / "rules" / "kubernetes" / "slo-t-kept.yaml") in generated
    assert "t-kept" in manifest.read_text()
    assert [p for p in generated if "t-refused" in p.name or "t-refused" in p.read_text()] == []


def test_precheck_refuses_bad_templates_and_queries_per_slo(tmp_path: Path) -> None:
    """Label and annotation templates are checked too (promtool expands them); each SLO alone (line 16:
    the third SLO)."""
    text = GOOD_AND_REFUSED.replace("t[{{.window}}])\n", "t[{{.window}}]))\n") + (
        "  - name: badtpl\n    objective: 99\n    alerting:\n      annotations:\n"
        '        summary: "{{ $labels.x }"\n    sli:\n      events:\n'
        "        error_query: sum(rate(e[{{.window}}]))\n        total_query: sum(rate(t[{{.window}}]))\n"
    )
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "x.yaml").write_text(text)
    result = load(tmp_path)
    assert [s["name"] for s in result.slos] == ["kept", "refused"]
    assert [str(p) for p in result.problems] == [
        'slos/x.yaml:16: alerting: SLO "t-badtpl": promtool: annotation "summary": template: '
        '__alert_SLOSpecCheck:1: unexpected "}" in operand'
    ]
