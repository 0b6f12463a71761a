"""The mixin rendered with another `_config`: selectors, thresholds, a disabled group, tenant labels.

Proves configurability by behaviour: the overridden rules pass promtool and a promtool unit test in
which the lowered HighErrorRate threshold and the other error label make the alert fire.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from infrawatch_dev.build import evaluate_snippet
from support.rulefiles import ROOT, iter_rules, own_rule_files, promtool, write_and_check

OVERRIDE = """{
  _config+:: {
    services: [
      { name: 'api', title: 'Shop API', kind: 'http', probeSelector: 'service="shop-api"',
        appSelector: 'job="shop"', upSelector: 'job="shop"', latencyThresholdSeconds: 0.3 },
      { name: 'db', title: 'Main DB', kind: 'postgres', exporterSelector: 'job="pg"' },
    ],
    highErrorRateThreshold: 0.01,
    highErrorRateMinRequestsPerSecond: 5,
    httpErrorSelector: 'status=~"5.."',
    disabledAlertGroups: ['infrawatch-node'],
    extraAlertLabels: { tenant: 'acme', cluster: 'eu-1' },
    runbookURLPattern: 'https://runbooks.acme.example/%(alert)s',
    probeSelector: 'env="prod"',
    reputationSelector: 'env="prod"',
  },
}"""


@pytest.fixture(scope="module")
def files() -> dict[str, dict]:
    return own_rule_files(OVERRIDE)


def _alerts(files: dict[str, dict], name: str) -> list[dict]:
    return [r.body for r in iter_rules(files) if r.body.get("alert") == name]


def test_disabled_group_and_unused_kinds_produce_no_file(files: dict[str, dict]) -> None:
    assert "node" not in files  # disabled by name
    assert not {"redis", "smtp", "elasticsearch"} & set(files)  # no service of those kinds
    assert {"api", "database", "services", "tls", "reputation", "pipeline", "recording"} <= set(files)
    assert "node" in own_rule_files()  # and present with the defaults


def test_tenant_labels_and_runbook_pattern_on_every_alert(files: dict[str, dict]) -> None:
    alerts = [r.body for r in iter_rules(files) if r.is_alert]
    assert len(alerts) > 15
    for a in alerts:
        assert a["labels"]["tenant"] == "acme" and a["labels"]["cluster"] == "eu-1", a["alert"]
        assert a["annotations"]["runbook_url"] == f"https://runbooks.acme.example/{a['alert']}"
    assert all("tenant" not in r.body.get("labels", {}) for r in iter_rules({"r": files["recording"]}))


def test_selectors_and_thresholds_reach_the_expressions(files: dict[str, dict]) -> None:
    (err,) = _alerts(files, "HighErrorRate")
    assert 'http_requests_total{job="shop", status=~"5.."}' in err["expr"]
    assert "> 0.01\n" in err["expr"] and err["expr"].rstrip().endswith(">= 5"), "threshold and min traffic"
    assert err["labels"]["service"] == "api" and "Shop API (api)" in err["annotations"]["description"]
    (degraded,) = _alerts(files, "ServiceDegraded")
    assert 'probe_duration_seconds{env="prod", service="shop-api"}' in degraded["expr"]
    assert "> 0.3" in degraded["expr"]
    assert [d["labels"]["service"] for d in _alerts(files, "DatabaseDown")] == ["db"]
    assert 'reputation_listed{env="prod"}' in _alerts(files, "IPListedOnMajorBlacklist")[0]["expr"]
    records = {(r.name, r.body.get("labels", {}).get("service")) for r in iter_rules(files) if not r.is_alert}
    assert ("service:http_requests:rate5m", "api") in records
    assert ("infrawatch:service_status:component", "db") in records
    own = [r for area in ("api", "database", "services", "recording") for r in iter_rules({area: files[area]})]
    assert not [r.where() for r in own if 'job="api-server"' in r.body["expr"] or "oltp" in r.body["expr"]]


def test_overridden_rules_pass_promtool_and_fire_on_the_new_threshold(files: dict[str, dict], tmp_path: Path) -> None:
    write_and_check(files, tmp_path)
    # 2% 5xx on the `status` label: fires with threshold 0.01, would not with the default 0.05.
    test = {
        "rule_files": ["api.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'http_requests_total{job="shop", status="200"}', "values": "0+588x10"},
                    {"series": 'http_requests_total{job="shop", status="502"}', "values": "0+12x10"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "10m",
                        "alertname": "HighErrorRate",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "critical",
                                    "service": "api",
                                    "tenant": "acme",
                                    "cluster": "eu-1",
                                },
                                "exp_annotations": {
                                    "summary": "Many requests fail with server errors.",
                                    "description": "Shop API (api): 2% of requests answered 5xx over the last 5m "
                                    "(threshold 1%).",
                                    "runbook_url": "https://runbooks.acme.example/HighErrorRate",
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "override_test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    res = promtool("test", "rules", "override_test.yaml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mixin_api_exposes_the_same_rules(files: dict[str, dict]) -> None:
    """prometheusAlerts / prometheusRules (monitoring-mixin convention) carry the overrides too."""
    # `slos: []`: the SLO area is the slow part to evaluate and has its own tests.
    no_slos = "{ _config+:: { slos: [] } }"
    out = evaluate_snippet(
        ROOT,
        f"local m = (import 'mixin.libsonnet') + ({OVERRIDE}) + {no_slos}; "
        "{a: m.prometheusAlerts, r: m.prometheusRules}",
    )
    alerts = [r for g in out["a"]["groups"] for r in g["rules"]]
    assert alerts and all("alert" in r and r["labels"]["tenant"] == "acme" for r in alerts)
    assert not any(g["name"] == "infrawatch-node" for g in out["a"]["groups"])
    assert all("record" in r for g in out["r"]["groups"] for r in g["rules"])


def test_bad_severity_is_an_evaluation_error_naming_file_and_line() -> None:
    with pytest.raises(RuntimeError) as exc:
        own_rule_files("{ _config+:: { exporterDownSeverity: 'page' } }")
    msg = str(exc.value)
    assert re.search(r"(InfrawatchExporterDown|TargetsAbsent): bad severity page", msg)
    assert "lib/rules.libsonnet:" in msg
    # Through the mixin the _config schema refuses it first, naming the key.
    with pytest.raises(RuntimeError) as exc:
        evaluate_snippet(
            ROOT, "((import 'mixin.libsonnet') + { _config+:: { exporterDownSeverity: 'page' } }).ruleFiles"
        )
    assert "_config.exporterDownSeverity: 'page' is not one of critical, warning, info" in str(exc.value)
