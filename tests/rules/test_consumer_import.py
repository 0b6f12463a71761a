"""The mixin imported as kube-prometheus imports mixins: `jsonnet/` vendored alone (jb layout).

Only `jsonnet/` is copied, where `jb install` of the repository's `jsonnet` subdir puts it
(`vendor/github.com/infrawatch/infrawatch/jsonnet/`, plus the `vendor/infrawatch-mixin` link that
the dependency's `name` asks for), next to the consumer's jsonnetfile.json and lock file as jb
writes them (jb itself is not installed here and could not fetch from GitHub anyway).  A consumer
file imports `infrawatch-mixin/mixin.libsonnet` with ordinary overrides (kubernetes-mixin's `%s`
runbook pattern, Watchdog dropped because kube-prometheus has its own, the multi-cluster, rate,
title and folder knobs) and reads every output, evaluated by jrsonnet (the build's engine) and by
go-jsonnet (the `gojsonnet` binding; no go-jsonnet binary is installable here); both must agree.
The rules it gets pass `promtool check rules`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import _gojsonnet
import pytest
import rjsonnet
import yaml

from infrawatch_dev.build import render
from support.procs import require_binary
from support.rulefiles import promtool

ROOT = Path(__file__).resolve().parents[2]

CONSUMER = """
local infrawatch = (import 'infrawatch-mixin/mixin.libsonnet') + {
  _config+:: %s,
};
{
  prometheusAlerts: infrawatch.prometheusAlerts,
  prometheusRules: infrawatch.prometheusRules,
  dashboards: std.objectFields(infrawatch.grafanaDashboards),
  alertmanager: infrawatch.alertmanagerConfig,
  manifests: std.objectFields(infrawatch.kubernetesManifests),
}
"""

OVERRIDES = """{
  runbookURLPattern: 'https://runbooks.example.org/infrawatch/%s',
  disabledAlerts: ['Watchdog'],
  kubernetes+: { namespace: 'observability' },
}"""


# The consumer's jsonnetfile.json as `jb install github.com/infrawatch/infrawatch/jsonnet@main` writes
# it, with the legacy name kube-prometheus-style imports use.
REMOTE = "https://github.com/infrawatch/infrawatch.git"
DEPENDENCY = {"source": {"git": {"remote": REMOTE, "subdir": "jsonnet"}}, "version": "main", "name": "infrawatch-mixin"}


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("consumer")
    (root / "jsonnetfile.json").write_text(
        json.dumps({"version": 1, "dependencies": [DEPENDENCY], "legacyImports": True}, indent=2)
    )
    locked = {**DEPENDENCY, "version": "0" * 40, "sum": "unused-in-this-test"}
    (root / "jsonnetfile.lock.json").write_text(
        json.dumps({"version": 1, "dependencies": [locked], "legacyImports": True}, indent=2)
    )
    target = root / "vendor" / "github.com" / "infrawatch" / "infrawatch" / "jsonnet"
    shutil.copytree(ROOT / "jsonnet", target)
    (root / "vendor" / "infrawatch-mixin").symlink_to(target.relative_to(root / "vendor"))
    return root


def consume(vendor: Path, overrides: str) -> dict[str, Any]:
    return json.loads(
        _gojsonnet.evaluate_snippet("main.jsonnet", CONSUMER % overrides, jpathdir=[str(vendor / "vendor")])
    )


def test_jsonnetfile_is_there_for_jb() -> None:
    doc = json.loads((ROOT / "jsonnet" / "jsonnetfile.json").read_text())
    assert doc["version"] == 1 and isinstance(doc["dependencies"], list)


def test_vendored_jsonnet_alone_builds_every_output(vendor: Path, tmp_path: Path) -> None:
    out = consume(vendor, OVERRIDES)
    alerts = [r for g in out["prometheusAlerts"]["groups"] for r in g["rules"]]
    assert len(alerts) > 30
    assert "Watchdog" not in {a["alert"] for a in alerts}, "disabledAlerts drops Watchdog alone"
    assert "InfrawatchExporterDown" in {a["alert"] for a in alerts}, "the rest of its group stays"
    for a in alerts:
        if a["alert"].startswith("SLO"):
            continue  # the SLO area (jsonnet/slo/) builds its own runbook links
        assert a["annotations"]["runbook_url"] == f"https://runbooks.example.org/infrawatch/{a['alert']}"
    assert out["prometheusRules"]["groups"] and out["dashboards"] and out["manifests"]
    assert out["alertmanager"]["route"]["receiver"]
    for name, doc in (("alerts.yaml", out["prometheusAlerts"]), ("rules.yaml", out["prometheusRules"])):
        (tmp_path / name).write_text(render(name, doc))
    res = promtool("check", "rules", str(tmp_path / "alerts.yaml"), str(tmp_path / "rules.yaml"))
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_consumer_typo_is_named(vendor: Path) -> None:
    with pytest.raises(RuntimeError) as exc:
        consume(vendor, "{ runbookURLPatern: 'https://x/%s' }")
    assert "_config.runbookURLPatern: unknown field; did you mean 'runbookURLPattern'?" in str(exc.value)


def test_kubernetes_manifests_use_the_vendored_exporter_configs(vendor: Path) -> None:
    snippet = "(import 'infrawatch-mixin/mixin.libsonnet').kubernetesManifests"
    manifests = json.loads(_gojsonnet.evaluate_snippet("m", snippet, jpathdir=[str(vendor / "vendor")]))
    config_maps = [o for objs in manifests.values() for o in objs if o.get("kind") == "ConfigMap"]
    assert config_maps and all(yaml.safe_load(next(iter(cm["data"].values()))) for cm in config_maps)


# kube-prometheus' addMixin reads mixin.grafanaDashboards and mixin.grafanaDashboardFolder.
DASHBOARD_CONSUMER = """
local infrawatch = (import 'infrawatch-mixin/mixin.libsonnet') + {
  _config+:: {
    showMultiCluster: true,
    clusterLabel: 'cluster_id',
    dashboards+: { titlePrefix: 'Infrawatch / ', rateInterval: '5m', tenantLabel: 'tenant',
                   grafanaFolder: 'Infrawatch' },
  },
};
{ folder: infrawatch.grafanaDashboardFolder, dashboards: infrawatch.grafanaDashboards }
"""


def test_consumer_dashboard_knobs(vendor: Path) -> None:
    """The dashboard knobs from a vendored copy: cluster variable and matcher, tenant variable on the
    service-health dashboards, fixed rate window, title prefix, folder (tests/dashboards/test_knobs.py
    checks every selector)."""
    out = json.loads(_gojsonnet.evaluate_snippet("main.jsonnet", DASHBOARD_CONSUMER, jpathdir=[str(vendor / "vendor")]))
    assert out["folder"] == "Infrawatch"
    assert len(out["dashboards"]) >= 5
    for name, d in out["dashboards"].items():
        assert d["title"].startswith("Infrawatch / "), name
        variables = {v["name"]: v for v in d["templating"]["list"]}
        assert variables["cluster"]["query"] == "label_values(up, cluster_id)", name
        assert ("tenant" in variables) == (name in {"infrawatch-overview.json", "infrawatch-probes.json"}), name
        exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
        assert exprs and all('cluster_id=~"$cluster"' in e for e in exprs), name
        assert not any("$__rate_interval" in e for e in exprs), name
    overview = out["dashboards"]["infrawatch-overview.json"]
    assert any('tenant=~"$tenant"' in t["expr"] for p in overview["panels"] for t in p.get("targets", []))


# --- the knobs an importer sets, seen in alerts, dashboards and routes, with both engines ----------

KNOBS_CONSUMER = """
local infrawatch = (import 'infrawatch-mixin/mixin.libsonnet') + {
  _config+:: {
    showMultiCluster: true,
    clusterLabel: 'k8s_cluster',
    rateInterval: '10m',
    runbookURLPattern: 'https://runbooks.example.org/infrawatch/%s',
    disabledAlerts: ['Watchdog'],
    dashboards+: { titlePrefix: 'Platform / ', grafanaFolder: 'Platform monitoring' },
  },
};
{
  alerts: infrawatch.prometheusAlerts,
  rules: infrawatch.prometheusRules,
  folder: infrawatch.grafanaDashboardFolder,
  provisioning: infrawatch.grafanaProvisioning,
  dashboards: infrawatch.grafanaDashboards,
  alertmanager: infrawatch.alertmanagerConfig,
}
"""
RATE_WINDOW_RE = re.compile(r"\b(?:rate|increase)\(\s*[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?\s*\[([^\]]+)\]\s*\)")
GROUPING_RE = re.compile(r"\b(?:by|on)\s*\(([^)]*)\)")


@pytest.fixture(scope="module")
def knobbed(vendor: Path) -> dict[str, Any]:
    main = vendor / "main.jsonnet"
    main.write_text(KNOBS_CONSUMER)
    jpath = [str(vendor / "vendor")]
    by_jrsonnet = json.loads(rjsonnet.evaluate_file(str(main), jpathdir=jpath))
    by_go = json.loads(_gojsonnet.evaluate_file(str(main), jpathdir=jpath))
    assert by_jrsonnet == by_go, "jrsonnet and go-jsonnet disagree on the consumer's outputs"
    return by_go


def test_consumer_knobs_show_in_the_alerts(knobbed: dict[str, Any], tmp_path: Path) -> None:
    alerts = [r for g in knobbed["alerts"]["groups"] for r in g["rules"]]
    names = {a["alert"] for a in alerts}
    assert "Watchdog" not in names and "HighErrorRate" in names
    own = [a for a in alerts if not a["alert"].startswith("SLO")]  # the SLO area keeps its own windows
    for a in own:
        assert a["annotations"]["runbook_url"] == f"https://runbooks.example.org/infrawatch/{a['alert']}"
        for labels in GROUPING_RE.findall(a["expr"]):
            assert "k8s_cluster" in [x.strip() for x in labels.split(",")], f"{a['alert']}: {a['expr']}"
    windows = [w for a in own for w in RATE_WINDOW_RE.findall(a["expr"])]
    assert len(windows) >= 10 and set(windows) == {"10m"}
    [high] = [a for a in alerts if a["alert"] == "HighErrorRate"]
    assert "and on (k8s_cluster)" in high["expr"]
    records = {r["record"] for g in knobbed["rules"]["groups"] for r in g["rules"]}
    assert "service:http_requests:rate10m" in records and "service:http_requests:rate5m" not in records
    for name, doc in (("alerts.yaml", knobbed["alerts"]), ("rules.yaml", knobbed["rules"])):
        (tmp_path / name).write_text(render(name, doc))
    res = promtool("check", "rules", str(tmp_path / "alerts.yaml"), str(tmp_path / "rules.yaml"))
    assert res.returncode == 0, res.stdout + res.stderr


def test_consumer_knobs_show_in_the_dashboards(knobbed: dict[str, Any]) -> None:
    assert knobbed["folder"] == "Platform monitoring"
    folders = {p["folder"] for p in knobbed["provisioning"]["dashboards.yaml"]["providers"]}
    assert folders == {"Platform monitoring"}, "provisioning and grafanaDashboardFolder agree"
    for name, d in knobbed["dashboards"].items():
        assert d["title"].startswith("Platform / "), name
        variables = {v["name"]: v for v in d["templating"]["list"]}
        assert variables["cluster"]["query"] == "label_values(up, k8s_cluster)", name
    overview = knobbed["dashboards"]["infrawatch-overview.json"]
    exprs = " ".join(t["expr"] for p in overview["panels"] for t in p.get("targets", []))
    assert "service:http_requests:rate10m" in exprs and "rate5m" not in exprs


def test_a_folder_set_on_the_mixin_reaches_the_provisioning(vendor: Path) -> None:
    snippet = """
local m = (import 'infrawatch-mixin/mixin.libsonnet') + { grafanaDashboardFolder: 'Set on the mixin' };
[p.folder for p in m.grafanaProvisioning['dashboards.yaml'].providers]
"""
    assert json.loads(_gojsonnet.evaluate_snippet("m", snippet, jpathdir=[str(vendor / "vendor")])) == [
        "Set on the mixin"
    ]


def test_consumer_knobs_show_in_the_routes(knobbed: dict[str, Any], tmp_path: Path) -> None:
    am = knobbed["alertmanager"]
    assert am["route"]["group_by"] == ["alertname", "service", "k8s_cluster"]
    # The SLO area's rules (equal: sloth_id) are left out: SLO rules span clusters (docs/rules.md).
    own = [r for r in am["inhibit_rules"] if r["equal"] != ["sloth_id"]]
    assert len(own) >= 5 and all("k8s_cluster" in r["equal"] for r in own)
    path = tmp_path / "alertmanager.yml"
    path.write_text(render("alertmanager.yml", am))
    (tmp_path / "templates").mkdir()  # amtool check-config resolves `templates:` against the file
    res = subprocess.run([require_binary("amtool"), "check-config", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
