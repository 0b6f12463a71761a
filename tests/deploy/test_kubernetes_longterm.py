"""deploy/kubernetes with `_config.kubernetes.longTermStorage.enabled`: VictoriaMetrics + remoteWrite.

The option is off in the committed manifests (their output is unchanged); here it is built with an
override.  Core objects (PersistentVolumeClaim, Deployment, Service) are validated against the
Kubernetes OpenAPI schemas of kubernetes-validate (strict), the ServiceMonitor against the operator's
CRD; then Debian's VictoriaMetrics runs with exactly the container's args (only the data path and the
listen address moved to a tmp dir and a free loopback port), a real Prometheus remote_writes to the
URL of the generated `spec.remoteWrite` patch (host moved to loopback, path kept) while scraping
VictoriaMetrics at the ServiceMonitor's path, and the samples are read back from VictoriaMetrics.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from infrawatch_dev.build import evaluate_snippet
from support.deploycheck import CORE_KINDS, core_errors, crd_errors, kubernetes_versions, selector_matches
from support.victoriametrics import VictoriaMetrics

ROOT = Path(__file__).resolve().parents[2]
ENABLED = "{ longTermStorage+: { enabled: true, storageClassName: 'fast-ssd' } }"


def _build(overrides: str) -> dict[str, Any]:
    return evaluate_snippet(
        ROOT,
        f"""
local m = (import 'mixin.libsonnet') + {{ _config+:: {{ kubernetes+: {overrides} }} }};
{{ manifests: m.kubernetesManifests, patches: m.kubernetesPatches, config: m._config.kubernetes }}
""",
    )


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    return _build(ENABLED)


def _one(objs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (o,) = [o for o in objs if o["kind"] == kind]
    return o


def _args(dep: dict[str, Any]) -> list[str]:
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    return c["args"]


def test_off_by_default_and_the_committed_manifests_have_none() -> None:
    default = _build("{}")
    assert "victoria-metrics.yaml" not in default["manifests"] and default["patches"] == {}
    assert not (ROOT / "deploy" / "kubernetes" / "victoria-metrics.yaml").exists()
    assert not (ROOT / "deploy" / "kubernetes" / "patches").exists()


@pytest.mark.parametrize("version", kubernetes_versions())
def test_core_objects_match_kubernetes_schema(built: dict[str, Any], version: str) -> None:
    objs = built["manifests"]["victoria-metrics.yaml"]
    core = [o for o in objs if o["kind"] in CORE_KINDS.get(o["apiVersion"], set())]
    assert sorted(o["kind"] for o in core) == ["Deployment", "PersistentVolumeClaim", "Service"]
    errors = [f"{o['kind']}/{o['metadata']['name']}: {e}" for o in core for e in core_errors(o, version)]
    assert errors == [], "\n".join(errors)
    assert crd_errors(_one(objs, "ServiceMonitor")) == []


def test_objects_are_wired_together(built: dict[str, Any]) -> None:
    lts = built["config"]["longTermStorage"]
    ns = built["config"]["namespace"]
    objs = built["manifests"]["victoria-metrics.yaml"]
    assert {o["metadata"]["namespace"] for o in objs} == {ns}
    pvc, dep, svc, sm = (_one(objs, k) for k in ("PersistentVolumeClaim", "Deployment", "Service", "ServiceMonitor"))
    assert pvc["spec"]["resources"]["requests"]["storage"] == lts["storageSize"]
    assert pvc["spec"]["storageClassName"] == "fast-ssd"
    assert (
        "storageClassName"
        not in _one(
            _build("{ longTermStorage+: { enabled: true } }")["manifests"]["victoria-metrics.yaml"],
            "PersistentVolumeClaim",
        )["spec"]
    ), "'' = the cluster's default class"
    pod = dep["spec"]["template"]
    (c,) = pod["spec"]["containers"]
    assert c["image"] == lts["image"] and dep["spec"]["strategy"]["type"] == "Recreate"
    (vol,) = pod["spec"]["volumes"]
    assert vol["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    (mount,) = c["volumeMounts"]
    assert mount["name"] == vol["name"] and f"-storageDataPath={mount['mountPath']}" in c["args"]
    assert f"-retentionPeriod={lts['retention']}" in c["args"]
    (port,) = c["ports"]
    assert f"-httpListenAddr=:{port['containerPort']}" in c["args"]
    assert selector_matches(svc["spec"]["selector"], pod["metadata"]["labels"])
    assert svc["spec"]["ports"][0]["targetPort"] == port["name"]
    assert selector_matches(sm["spec"]["selector"]["matchLabels"], svc["metadata"]["labels"])
    assert sm["spec"]["endpoints"][0]["port"] == svc["spec"]["ports"][0]["name"]
    assert not svc["metadata"]["name"].startswith("infrawatch"), "outside infrawatchSelector's exporter jobs"
    (rw,) = built["patches"]["prometheus-remote-write.yaml"]["spec"]["remoteWrite"]
    url = urllib.parse.urlsplit(rw["url"])
    assert url.hostname == f"{svc['metadata']['name']}.{ns}.svc" and url.port == svc["spec"]["ports"][0]["port"]
    assert url.path == "/api/v1/write"


def _local_args(args: list[str]) -> list[str]:
    """The container args without the two VictoriaMetrics (the test class) sets to tmp dir / loopback."""
    moved = [a for a in args if a.startswith(("-storageDataPath=", "-httpListenAddr="))]
    assert len(moved) == 2, args
    return [a for a in args if a not in moved]


@pytest.mark.slow
def test_prometheus_remote_write_with_the_patch_lands_in_victoria_metrics(
    built: dict[str, Any], tmp_path: Path, prometheus_factory
) -> None:
    objs = built["manifests"]["victoria-metrics.yaml"]
    vm = VictoriaMetrics(tmp_path / "vm", _local_args(_args(_one(objs, "Deployment"))))
    try:
        (rw,) = built["patches"]["prometheus-remote-write.yaml"]["spec"]["remoteWrite"]
        url = urllib.parse.urlsplit(rw["url"])._replace(netloc=f"127.0.0.1:{vm.port}").geturl()
        sm = _one(objs, "ServiceMonitor")
        job = _one(objs, "Service")["metadata"]["name"]  # the operator names the job after the Service
        prometheus_factory(
            {
                "global": {"scrape_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": job,
                        "metrics_path": sm["spec"]["endpoints"][0]["path"],
                        "static_configs": [{"targets": [f"127.0.0.1:{vm.port}"]}],
                    }
                ],
                "remote_write": [{**rw, "url": url}],
            }
        )
        # /api/v1/export returns the raw samples (queries hide the last 30 s: -search.latencyOffset).
        query = urllib.parse.urlencode({"match[]": f'up{{job="{job}"}}'})
        deadline = time.monotonic() + 60
        samples: list[float] = []
        while time.monotonic() < deadline and len(samples) < 3:
            with urllib.request.urlopen(f"{vm.url}/api/v1/export?{query}", timeout=10) as r:
                lines = [json.loads(x) for x in r.read().decode().splitlines() if x.strip()]
            samples = [v for line in lines for v in line["values"]]
            time.sleep(1)
        assert len(samples) >= 3 and set(samples) == {1}, samples
    finally:
        vm.stop()
