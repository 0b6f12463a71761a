"""The rule knobs an importer sets (node-mixin / kubernetes-mixin style), checked on the rendered rules.

- `rateInterval`: the window of every rate() of the alerts and the per-service recording rules, and
  part of those rules' names (the overview dashboard follows the names).
- `showMultiCluster` + `clusterLabel`: every aggregation and vector match keeps the cluster label, so
  two clusters' series are never summed together; promtool shows an alert firing for one cluster
  that the summed series would hide.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infrawatch_dev.build import evaluate_snippet
from support.rulefiles import iter_rules, own_rule_files, promtool, write_and_check

ROOT = Path(__file__).resolve().parents[2]

# The window of rate()/irate()/increase(): `rate(metric{...}[w])`.
RATE_WINDOW_RE = re.compile(r"\b(?:rate|irate|increase)\(\s*[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?\s*\[([^\]]+)\]\s*\)")
AGGREGATIONS = r"sum|min|max|avg|group|stddev|stdvar|count|count_values|bottomk|topk|quantile|limitk"
BARE_AGGREGATION_RE = re.compile(rf"\b(?:{AGGREGATIONS})\s*\(")
GROUPING_RE = re.compile(r"\b(by|on)\s*\(([^)]*)\)")


def windows(files: dict[str, Any]) -> list[str]:
    return [w for r in iter_rules(files) for w in RATE_WINDOW_RE.findall(r.body["expr"])]


# --- rateInterval ------------------------------------------------------------------------------


def test_rate_interval_is_the_window_of_every_rule_rate(tmp_path: Path) -> None:
    default = own_rule_files()
    assert len(windows(default)) >= 15 and set(windows(default)) == {"5m"}, "the guard: defaults use 5m"
    files = own_rule_files("{ _config+:: { rateInterval: '10m' } }")
    assert len(windows(files)) == len(windows(default)), "a rate() window was not recognised"
    assert set(windows(files)) == {"10m"}
    records = {r.body["record"] for r in iter_rules(files) if not r.is_alert}
    assert {
        "service:http_requests:rate10m",
        "service:http_requests_errors:ratio_rate10m",
        "service:http_request_duration_seconds:mean10m",
    } <= records
    assert not [n for n in records if n.endswith("5m")]
    every_expr = " ".join(r.body["expr"] for r in iter_rules(files))
    assert "rate5m" not in every_expr, "a rule reads a recording rule of the old name"
    [spike] = [r for r in iter_rules(files) if r.name == "WebSocketConnectionSpike"] or [None]
    if spike is not None:
        assert "over 10m" in spike.body["annotations"]["description"]
    write_and_check(files, tmp_path)


def test_the_overview_dashboard_reads_the_recorded_names() -> None:
    snippet = """
local m = (import 'mixin.libsonnet') + { _config+:: { rateInterval: '10m' } };
{
  exprs: [t.expr for p in m.grafanaDashboards['infrawatch-overview.json'].panels for t in std.get(p, 'targets', [])],
  records: [r.record for f in std.objectValues(m.ruleFiles) for g in f.groups for r in g.rules
            if std.objectHas(r, 'record')],
}
"""
    out = evaluate_snippet(ROOT, snippet)
    used = {m for e in out["exprs"] for m in re.findall(r"service:http_[a-z_]+:[a-z_0-9]+", e)}
    assert "service:http_requests:rate10m" in used
    assert used <= set(out["records"]), f"dashboard reads series no rule records: {used - set(out['records'])}"


@pytest.mark.parametrize(
    "override,message",
    [
        ("{ rateInterval: '30s' }", "_config.rateInterval: 30s is shorter than 4 x scrapeInterval (15s)"),
        ("{ rateInterval: '5 min' }", "_config.rateInterval: '5 min' is not a Prometheus duration"),
    ],
)
def test_a_bad_rate_interval_is_refused_naming_the_key(override: str, message: str) -> None:
    with pytest.raises(RuntimeError) as exc:
        evaluate_snippet(ROOT, f"((import 'mixin.libsonnet') + {{ _config+:: {override} }}).prometheusAlerts")
    assert message in str(exc.value)


# --- showMultiCluster / clusterLabel -------------------------------------------------------------

MULTI = "{ _config+:: { showMultiCluster: true, clusterLabel: 'cluster_id' } }"


def test_multi_cluster_rules_keep_the_cluster_label_through_every_aggregation(tmp_path: Path) -> None:
    default = own_rule_files()
    assert any(BARE_AGGREGATION_RE.search(r.body["expr"]) for r in iter_rules(default)), "the guard"
    files = own_rule_files(MULTI)
    checked = 0
    for r in iter_rules(files):
        expr = r.body["expr"]
        assert not BARE_AGGREGATION_RE.search(expr), f"{r.where()}: aggregation without by (...): {expr}"
        for word, labels in GROUPING_RE.findall(expr):
            assert "cluster_id" in [x.strip() for x in labels.split(",")], f"{r.where()}: {word} ({labels})"
            checked += 1
    assert checked >= 30
    write_and_check(files, tmp_path)


def two_clusters_test(cluster_label: str, exp_alerts: list[dict[str, Any]], ratio: list[dict[str, Any]]) -> dict:
    """Cluster a: 2 req/s, 10% 5xx; cluster b: 38 req/s, no errors (summed: 0.5%, below 5%)."""
    series = [
        (f'http_requests_total{{job="api-server", code="200", {cluster_label}="a"}}', "0+108x20"),
        (f'http_requests_total{{job="api-server", code="500", {cluster_label}="a"}}', "0+12x20"),
        (f'http_requests_total{{job="api-server", code="200", {cluster_label}="b"}}', "0+2280x20"),
    ]
    return {
        "rule_files": ["api.yaml", "recording.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series],
                "alert_rule_test": [{"eval_time": "10m", "alertname": "HighErrorRate", "exp_alerts": exp_alerts}],
                "promql_expr_test": [
                    {
                        "expr": 'service:http_requests_errors:ratio_rate5m{service="api"}',
                        "eval_time": "10m",
                        "exp_samples": ratio,
                    }
                ],
            }
        ],
    }


@pytest.mark.parametrize("multi", [True, False], ids=["multi-cluster", "single-cluster"])
def test_one_failing_cluster_pages_only_with_multi_cluster(multi: bool, tmp_path: Path) -> None:
    files = own_rule_files(MULTI if multi else "{}")
    write_and_check({k: v for k, v in files.items() if k in ("api", "recording")}, tmp_path)
    if multi:
        alerts = [{"exp_labels": {"severity": "critical", "service": "api", "cluster_id": "a"}}]
        ratio = [
            {"labels": 'service:http_requests_errors:ratio_rate5m{service="api", cluster_id="a"}', "value": 0.1},
            {"labels": 'service:http_requests_errors:ratio_rate5m{service="api", cluster_id="b"}', "value": 0},
        ]
    else:  # summed over both clusters: 12 / 2400 per minute
        alerts = []
        ratio = [{"labels": 'service:http_requests_errors:ratio_rate5m{service="api"}', "value": 0.005}]
    test = two_clusters_test("cluster_id", alerts, ratio)
    # Annotations are not compared when exp_annotations is absent... except promtool compares them
    # always; take them from the rendered alert with the label values filled in.
    if multi:
        [rule] = [r for r in iter_rules(files) if r.name == "HighErrorRate"]
        desc = rule.body["annotations"]["description"].replace("{{ $value | humanizePercentage }}", "10%")
        alerts[0]["exp_annotations"] = {**rule.body["annotations"], "description": desc}
    (tmp_path / "two_clusters_test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    res = promtool("test", "rules", "two_clusters_test.yaml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr


# --- dashboards.tenantLabel: per-tenant traffic lights (seed 001) ----------------------------------

TENANT = "{ _config+:: { dashboards+: { tenantLabel: 'tenant' } } }"


def test_per_tenant_recording_rules_keep_the_tenant_label_alerts_do_not() -> None:
    files = own_rule_files(TENANT)
    recording = [r for r in iter_rules(files) if r.file == "recording"]
    assert len(recording) >= 10
    for r in recording:
        assert not BARE_AGGREGATION_RE.search(r.body["expr"]), r.where()
        for _, labels in GROUPING_RE.findall(r.body["expr"]):
            assert "tenant" in [x.strip() for x in labels.split(",")], r.where()
    # One page per alert, not per tenant: the alert areas are unchanged.
    default = own_rule_files()
    assert {k: v for k, v in files.items() if k != "recording"} == {
        k: v for k, v in default.items() if k != "recording"
    }


def test_one_tenant_failing_turns_only_its_traffic_light_red(tmp_path: Path) -> None:
    files = own_rule_files(TENANT)
    write_and_check({"recording": files["recording"]}, tmp_path)
    series = [  # acme: 10% 5xx; other: none (summed: 0.5%, below errorRatioDegraded)
        ('http_requests_total{job="api-server", code="200", tenant="acme"}', "0+108x20"),
        ('http_requests_total{job="api-server", code="500", tenant="acme"}', "0+12x20"),
        ('http_requests_total{job="api-server", code="200", tenant="other"}', "0+2280x20"),
    ]

    def status(tenant: str, value: float) -> dict[str, Any]:
        return {
            "expr": f'infrawatch:service_status{{service="api", tenant="{tenant}"}}',
            "eval_time": "10m",
            "exp_samples": [
                {"labels": f'infrawatch:service_status{{service="api", tenant="{tenant}"}}', "value": value}
            ],
        }

    test = {
        "rule_files": ["recording.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series],
                "promql_expr_test": [status("acme", 0), status("other", 2)],
            }
        ],
    }
    (tmp_path / "tenant_test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    res = promtool("test", "rules", "tenant_test.yaml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
