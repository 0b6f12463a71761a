"""The mixin imported as kube-prometheus imports mixins: `jsonnet/` vendored alone (jb layout).

Only `jsonnet/` is copied to `vendor/infrawatch-mixin/` (what `jb install` of the `jsonnet` subdir
writes); a consumer file imports `infrawatch-mixin/mixin.libsonnet` with ordinary overrides
(kubernetes-mixin's `%s` runbook pattern, Watchdog dropped because kube-prometheus has its own) and
reads every output.  The rules it gets pass `promtool check rules`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import _gojsonnet
import pytest
import yaml

from infrawatch_dev.build import render
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


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("consumer")
    shutil.copytree(ROOT / "jsonnet", root / "vendor" / "infrawatch-mixin")
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
