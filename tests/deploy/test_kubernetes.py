"""deploy/kubernetes: the generated manifests are valid and wired together.

Prometheus Operator objects (ServiceMonitor, Probe, PrometheusRule) are validated against the
vendored CRD schemas (tests/schemas/prometheus-operator); core objects (ConfigMap, Deployment,
Service) against the Kubernetes OpenAPI schemas of the PyPI package kubernetes-validate (strict:
unknown fields rejected; the oldest and newest Kubernetes versions it ships), plus structural checks
of the fields the wiring depends on.  The exporters' configurations are checked by
the exporters themselves (``--config.check``) inside a copy of the pod's file layout.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infrawatch import __version__
from infrawatch.probe.allowlist import AllowList, target_host
from infrawatch_dev.build import evaluate_snippet
from support.deploycheck import (
    CORE_KINDS,
    config_check,
    core_errors,
    crd_errors,
    iter_files,
    kubernetes_versions,
    load_manifests,
    selector_matches,
)

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
CRD_KINDS = ("ServiceMonitor", "Probe", "PrometheusRule")
# Keys that would hold a secret inline; the Kubernetes configs must use the `*_file` forms.
INLINE_SECRET_KEYS = {"password", "bearer_token", "dqs_key", "api_key", "token", "secret"}
# A syntactically valid Spamhaus DQS key for the materialised Secret (the real one is never in the repo).
DUMMY_SECRET = "0123456789abcdef0123456789"
# `*_file` keys that are not secrets (written by the exporter, on a writable volume).
NOT_SECRET_FILES = {"state_file", "dashboard_file"}  # data, not credentials


def _flatten(manifests: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [o for objs in manifests.values() for o in objs]


def _evaluate(overrides: str = "{}") -> list[dict[str, Any]]:
    """The exporter manifests (probe, reputation, probes) with a Jsonnet `_config` override merged on."""
    files = evaluate_snippet(
        ROOT,
        f"""
local m = (import 'mixin.libsonnet') + {{ _config+:: {{ kubernetes+: {overrides} }} }};
{{ [f]: m.kubernetesManifests[f] for f in std.objectFields(m.kubernetesManifests) if f != 'prometheusrules.yaml' }}
""",
    )
    return _flatten(files)


def _config() -> dict[str, Any]:
    return evaluate_snippet(ROOT, "(import 'mixin.libsonnet')._config.kubernetes")


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return _flatten(load_manifests(MANIFESTS))


def _of(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _pod_labels(dep: dict[str, Any]) -> dict[str, str]:
    return dep["spec"]["template"]["metadata"]["labels"]


def _containers(dep: dict[str, Any]) -> list[dict[str, Any]]:
    return dep["spec"]["template"]["spec"]["containers"]


def _container(dep: dict[str, Any]) -> dict[str, Any]:
    """The exporter container (the first; the reputation pod's unbound comes after it)."""
    c = _containers(dep)[0]
    assert c["name"] == _pod_labels(dep)["app.kubernetes.io/component"]
    return c


def _arg(container: dict[str, Any], flag: str) -> str | None:
    for a in container["args"]:
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def test_every_part_is_generated(objects: list[dict[str, Any]]) -> None:
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for component in ("probe", "reputation", "console"):
        for kind in ("ConfigMap", "Service", "ServiceMonitor"):
            name = f"infrawatch-{component}-config" if kind == "ConfigMap" else f"infrawatch-{component}"
            assert (kind, name) in names
        assert any(k == "Deployment" and n.startswith(f"infrawatch-{component}") for k, n in names)
    assert _of(objects, "Probe"), "no Probe objects for the configured /probe targets"
    rule_areas = sorted(p.stem for p in (ROOT / "rules").glob("*.yaml"))
    assert sorted(o["metadata"]["name"].removeprefix("infrawatch-") for o in _of(objects, "PrometheusRule")) == (
        rule_areas
    )
    namespace = _config()["namespace"]
    assert {o["metadata"]["namespace"] for o in objects} == {namespace}


@pytest.mark.parametrize(
    "kind_name",
    [(o["kind"], o["metadata"]["name"]) for o in _flatten(load_manifests(MANIFESTS)) if o["kind"] in CRD_KINDS],
    ids=lambda kn: f"{kn[0]}/{kn[1]}",
)
def test_operator_objects_match_crd_schema(objects: list[dict[str, Any]], kind_name: tuple[str, str]) -> None:
    (obj,) = [o for o in objects if (o["kind"], o["metadata"]["name"]) == kind_name]
    assert crd_errors(obj) == []


def _broken(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return copy.deepcopy(_of(objects, kind)[0])


def test_validator_rejects_broken_objects(objects: list[dict[str, Any]]) -> None:
    """The validation can fail: a missing required field, a wrong type, a misspelt field, a bad duration."""
    sm = _broken(objects, "ServiceMonitor")
    del sm["spec"]["selector"]
    assert any("'selector' is a required property" in e for e in crd_errors(sm))

    sm = _broken(objects, "ServiceMonitor")
    sm["spec"]["endpoints"][0]["intervall"] = "30s"
    assert any(e.startswith("spec/endpoints/0:") and "intervall" in e for e in crd_errors(sm))

    probe = _broken(objects, "Probe")
    probe["spec"]["interval"] = "half a minute"
    assert any(e.startswith("spec/interval:") for e in crd_errors(probe))

    probe = _broken(objects, "Probe")
    probe["spec"]["targets"]["staticConfig"]["static"] = "https://www.example.com/"
    assert any(e.startswith("spec/targets/staticConfig/static:") for e in crd_errors(probe))

    rule = _broken(objects, "PrometheusRule")
    del rule["spec"]["groups"][0]["rules"][0]["expr"]
    assert any("'expr' is a required property" in e for e in crd_errors(rule))

    rule = _broken(objects, "PrometheusRule")
    rule["apiVersion"] = "monitoring.coreos.com/v1alpha1"
    assert any(e.startswith("apiVersion:") for e in crd_errors(rule))


def _core(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in CORE_KINDS.get(o["apiVersion"], set())]


@pytest.mark.parametrize("version", kubernetes_versions())
@pytest.mark.parametrize(
    "variant", ["{}", "{ probeShards: 3 }", "{ webConfigSecret: 'infrawatch-web' }", "{ unbound+: { enabled: false } }"]
)
def test_core_objects_match_kubernetes_schema(objects: list[dict[str, Any]], version: str, variant: str) -> None:
    """Every core object (committed manifests and the sharded / basic-auth variants) against the
    Kubernetes OpenAPI schema, unknown fields rejected as ``kubectl apply --validate=strict`` does."""
    objs = objects if variant == "{}" else _evaluate(variant)
    core = _core(objs)
    assert {o["kind"] for o in core} >= {"ConfigMap", "Deployment", "Service"}
    assert not [o for o in objs if o["kind"] not in CRD_KINDS and o not in core], "an object of no known kind"
    errors = [f"{o['kind']}/{o['metadata']['name']}: {e}" for o in core for e in core_errors(o, version)]
    assert errors == [], "\n".join(errors)


def test_core_schema_check_rejects_broken_objects(objects: list[dict[str, Any]]) -> None:
    version = kubernetes_versions()[-1]
    dep = copy.deepcopy(_of(objects, "Deployment")[0])
    dep["spec"]["replica"] = 1  # misspelt
    assert core_errors(dep, version)
    dep = copy.deepcopy(_of(objects, "Deployment")[0])
    _container(dep)["ports"][0]["containerPort"] = "9516"  # a string, not an integer
    assert core_errors(dep, version)
    svc = copy.deepcopy(_of(objects, "Service")[0])
    svc["spec"]["ports"][0]["protocol"] = 6
    assert core_errors(svc, version)


def test_core_objects_structure(objects: list[dict[str, Any]]) -> None:
    """The fields the wiring relies on (the schema says what is allowed, not what is needed)."""
    for dep in _of(objects, "Deployment"):
        assert dep["apiVersion"] == "apps/v1"
        assert dep["spec"]["replicas"] == 1, "one pod per exporter (per shard): two would probe twice"
        c = _container(dep)
        assert c["image"] == _config()["image"]
        assert c["command"][0] in ("infrawatch-probe-exporter", "infrawatch-reputation-exporter", "infrawatch-console")
        assert dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        assert {p["name"] for p in c["ports"]} == {"http-metrics"}
        names = [x["name"] for x in _containers(dep)]
        assert names == (["reputation", "unbound"] if names[0] == "reputation" else [names[0]])
        for x in _containers(dep):  # every container, the unbound sidecar too
            assert x["securityContext"]["readOnlyRootFilesystem"] is True, x["name"]
            assert x["securityContext"]["allowPrivilegeEscalation"] is False, x["name"]
            assert x["securityContext"]["capabilities"]["drop"] == ["ALL"], x["name"]
            assert x["resources"]["limits"]["memory"], x["name"]
            assert x["readinessProbe"] and x["livenessProbe"], x["name"]
            assert "runAsUser" not in x.get("securityContext", {}), "the pod's user (65534) for every container"
    for svc in _of(objects, "Service"):
        assert svc["apiVersion"] == "v1"
        for p in svc["spec"]["ports"]:
            assert isinstance(p["port"], int) and 0 < p["port"] < 65536


def test_image_tag_is_the_package_version() -> None:
    assert _config()["image"].rsplit(":", 1)[1] == __version__


def _check_selectors(objects: list[dict[str, Any]]) -> None:
    deployments = _of(objects, "Deployment")
    for dep in deployments:
        # The selector matches its own pods and no other Deployment's (or two controllers fight).
        assert selector_matches(dep["spec"]["selector"]["matchLabels"], _pod_labels(dep)), dep["metadata"]["name"]
        others = [d for d in deployments if d is not dep]
        assert not any(selector_matches(dep["spec"]["selector"]["matchLabels"], _pod_labels(o)) for o in others)
    for svc in _of(objects, "Service"):
        backends = [d for d in deployments if selector_matches(svc["spec"]["selector"], _pod_labels(d))]
        assert backends, f"Service {svc['metadata']['name']} selects no Deployment"
        for d in backends:
            port_names = {p["name"]: p["containerPort"] for p in _container(d)["ports"]}
            for p in svc["spec"]["ports"]:
                assert p["targetPort"] in port_names
                assert port_names[p["targetPort"]] == p["port"]
                assert _arg(_container(d), "--web.listen-address") == f":{p['port']}"
    for sm in _of(objects, "ServiceMonitor"):
        services = [
            s
            for s in _of(objects, "Service")
            if selector_matches(sm["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])
        ]
        assert len(services) == 1, f"ServiceMonitor {sm['metadata']['name']} selects {len(services)} Services"
        port_names = {p["name"] for p in services[0]["spec"]["ports"]}
        for ep in sm["spec"]["endpoints"]:
            assert ep["port"] in port_names
        # Prometheus names the job after the Service: the pipeline alerts select job=~"infrawatch.*".
        assert re.fullmatch("infrawatch.*", services[0]["metadata"]["name"])


def test_selectors_wire_deployments_services_and_monitors(objects: list[dict[str, Any]]) -> None:
    _check_selectors(objects)


def test_selector_check_catches_a_mismatch(objects: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(objects)
    next(s for s in broken if s["kind"] == "Service")["spec"]["selector"]["app.kubernetes.io/component"] = "prob"
    with pytest.raises(AssertionError, match="selects no Deployment"):
        _check_selectors(broken)


def test_monitor_labels_for_the_operator_selectors(objects: list[dict[str, Any]]) -> None:
    cfg = _config()
    rule_labels = evaluate_snippet(ROOT, "(import 'mixin.libsonnet')._config.prometheusRuleLabels")
    for o in _of(objects, "ServiceMonitor") + _of(objects, "Probe"):
        assert selector_matches(cfg["monitorLabels"], o["metadata"]["labels"])
    for o in _of(objects, "PrometheusRule"):
        assert selector_matches(rule_labels, o["metadata"]["labels"])


def _mounts(dep: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(mountPath, volume)`` of the exporter container."""
    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    return [(m["mountPath"], volumes[m["name"]]) for m in _container(dep)["volumeMounts"]]


def _volume_for(dep: dict[str, Any], path: str) -> tuple[str, dict[str, Any]]:
    hits = [(mp, v) for mp, v in _mounts(dep) if path.startswith(mp.rstrip("/") + "/")]
    assert hits, f"{path} is on no volume of {dep['metadata']['name']}"
    return max(hits, key=lambda h: len(h[0]))


def test_container_args_point_at_configmap_files(objects: list[dict[str, Any]]) -> None:
    config_maps = {cm["metadata"]["name"]: cm for cm in _of(objects, "ConfigMap")}
    for dep in _of(objects, "Deployment"):
        path = _arg(_container(dep), "--config.file")
        assert path
        mount_path, volume = _volume_for(dep, path)
        assert "configMap" in volume
        cm = config_maps[volume["configMap"]["name"]]
        assert path.removeprefix(mount_path.rstrip("/") + "/") in cm["data"]


def _materialise(dep: dict[str, Any], objects: list[dict[str, Any]], root: Path) -> list[str]:
    """Write the pod's files under ``root``; return the container args with paths moved there.

    ConfigMap volumes get their data; Secret volumes a dummy file for every ``*_file`` path the
    configuration names under them (and the web config, if one is mounted); other volumes an empty
    directory.  Absolute paths in the configuration files are rewritten to ``root``.
    """
    config_maps = {cm["metadata"]["name"]: cm for cm in _of(objects, "ConfigMap")}
    mounts = _mounts(dep)
    texts: list[str] = []
    for mount_path, volume in mounts:
        target = root / mount_path.lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        if "configMap" in volume:
            for name, text in config_maps[volume["configMap"]["name"]]["data"].items():
                texts.append(text)
                (target / name).write_text(re.sub(r"(?<![\w.])/(etc|var)/", f"{root}/\\1/", text))
    for text in texts:
        for key, path in iter_files(yaml.safe_load(text)):
            if path.startswith("/") and key not in NOT_SECRET_FILES:
                mount_path, volume = _volume_for(dep, path)
                assert "secret" in volume, f"{path}: a *_file outside a Secret volume"
                (root / path.lstrip("/")).write_text(DUMMY_SECRET)
    for mount_path, volume in mounts:
        if "secret" in volume and any(i["path"] == "web-config.yml" for i in volume["secret"].get("items", [])):
            import bcrypt

            hashed = bcrypt.hashpw(b"scrape-password", bcrypt.gensalt(rounds=4)).decode()
            (root / mount_path.lstrip("/") / "web-config.yml").write_text(
                yaml.safe_dump({"basic_auth_users": {"prometheus": hashed}})
            )
    return [re.sub(r"=/(etc|var)/", f"={root}/\\1/", a) for a in _container(dep)["args"]]


def _assert_configs_pass_check(objects: list[dict[str, Any]], tmp_path: Path) -> None:
    for dep in _of(objects, "Deployment"):
        root = tmp_path / dep["metadata"]["name"]
        args = [a for a in _materialise(dep, objects, root) if not a.startswith("--web.listen-address")]
        r = config_check(_container(dep)["command"][0], args)
        assert r.returncode == 0, f"{dep['metadata']['name']}: {r.stderr}"
        assert "configuration is valid" in r.stdout


def test_exporter_configs_pass_their_own_check(objects: list[dict[str, Any]], tmp_path: Path) -> None:
    _assert_configs_pass_check(objects, tmp_path)


def test_config_check_sees_a_broken_configmap(objects: list[dict[str, Any]], tmp_path: Path) -> None:
    broken = copy.deepcopy(objects)
    cm = next(o for o in broken if o["kind"] == "ConfigMap" and "probe.yml" in o["data"])
    cm["data"]["probe.yml"] = cm["data"]["probe.yml"].replace("prober: http", "prober: htp", 1)
    with pytest.raises(AssertionError, match="prober"):
        _assert_configs_pass_check(broken, tmp_path)


def test_console_reads_the_generated_overview_and_the_cluster_services(objects: list[dict[str, Any]]) -> None:
    """The console's cards come from the same overview dashboard as Grafana's; it asks Prometheus,
    Alertmanager and the reputation exporter's Service; its audit log is on a writable volume."""
    (dep,) = [d for d in _of(objects, "Deployment") if d["metadata"]["name"] == "infrawatch-console"]
    config_maps = {cm["metadata"]["name"]: cm for cm in _of(objects, "ConfigMap")}
    config = yaml.safe_load(config_maps["infrawatch-console-config"]["data"]["console.yml"])
    _, volume = _volume_for(dep, config["dashboard_file"])
    shown = json.loads(config_maps[volume["configMap"]["name"]]["data"]["infrawatch-overview.json"])
    assert shown == json.loads((ROOT / "dashboards" / "infrawatch-overview.json").read_text())
    k = _config()
    assert config["reputation_url"] == f"http://infrawatch-reputation.{k['namespace']}.svc:{k['reputationPort']}"
    assert (config["prometheus_url"], config["alertmanager_url"]) == (
        k["console"]["prometheusURL"],
        k["console"]["alertmanagerURL"],
    )
    _, audit = _volume_for(dep, config["audit_log"])
    assert "emptyDir" in audit  # the root file system is read-only
    assert _container(dep)["securityContext"]["readOnlyRootFilesystem"] is True


def test_no_inline_secrets_in_configmaps(objects: list[dict[str, Any]]) -> None:
    def keys(obj: Any) -> set[str]:
        if isinstance(obj, dict):
            return {str(k) for k in obj} | {k for v in obj.values() for k in keys(v)}
        if isinstance(obj, list):
            return {k for v in obj for k in keys(v)}
        return set()

    secret_files = 0
    for cm in _of(objects, "ConfigMap"):
        for name, text in cm["data"].items():
            if not name.endswith((".yml", ".yaml")):
                continue  # unbound.conf: tests/reputation/test_deploy_unbound.py
            parsed = yaml.safe_load(text)
            assert not keys(parsed) & INLINE_SECRET_KEYS
            secret_files += len(list(iter_files(parsed, "key_file")))
    assert secret_files >= 1, "the reputation config should read its DQS key from a Secret file"


def test_probe_objects_reach_allowed_targets(objects: list[dict[str, Any]]) -> None:
    probe_cfg = yaml.safe_load(
        next(cm for cm in _of(objects, "ConfigMap") if "probe.yml" in cm["data"])["data"]["probe.yml"]
    )
    allow = AllowList(probe_cfg["allowed_targets"])
    assert not allow.all, "the in-cluster probe exporter must not be an open relay"
    services = {f"{s['metadata']['name']}.{s['metadata']['namespace']}.svc": s for s in _of(objects, "Service")}
    for p in _of(objects, "Probe"):
        spec = p["spec"]
        assert spec["module"] in probe_cfg["modules"]
        for t in spec["targets"]["staticConfig"]["static"]:
            assert allow.allows(target_host(t)), f"{p['metadata']['name']}: {t} is not in allowed_targets"
        host, port = spec["prober"]["url"].rsplit(":", 1)
        assert spec["prober"]["path"] == "/probe"
        assert int(port) in {sp["port"] for sp in services[host]["spec"]["ports"]}
        assert services[host]["metadata"]["labels"]["app.kubernetes.io/component"] == "probe"
        assert spec["targets"]["staticConfig"]["labels"]["service"]


def test_prometheusrule_specs_equal_rule_files(objects: list[dict[str, Any]]) -> None:
    for obj in _of(objects, "PrometheusRule"):
        area = obj["metadata"]["name"].removeprefix("infrawatch-")
        assert obj["spec"] == yaml.safe_load((ROOT / "rules" / f"{area}.yaml").read_text()), area
        plain = yaml.safe_load((ROOT / "rules" / "kubernetes" / f"{area}.yaml").read_text())
        assert obj["metadata"]["name"] == plain["metadata"]["name"]
        assert selector_matches(plain["metadata"]["labels"], obj["metadata"]["labels"])
        assert obj["spec"] == plain["spec"]


def test_sharded_probe_exporter(tmp_path: Path) -> None:
    """probeShards: 3 -> three Deployments with --shard i/3 behind one Service, all valid."""
    objects = _evaluate("{ probeShards: 3 }")
    deps = sorted(_of(objects, "Deployment"), key=lambda d: d["metadata"]["name"])
    probe_deps = [d for d in deps if _container(d)["command"][0] == "infrawatch-probe-exporter"]
    assert [d["metadata"]["name"] for d in probe_deps] == [f"infrawatch-probe-shard-{i}" for i in range(3)]
    for i, d in enumerate(probe_deps):
        args = _container(d)["args"]
        assert args[args.index("--shard") + 1] == f"{i}/3"
    _check_selectors(objects)
    svc = next(s for s in _of(objects, "Service") if s["metadata"]["name"] == "infrawatch-probe")
    assert all(selector_matches(svc["spec"]["selector"], _pod_labels(d)) for d in probe_deps)
    for o in objects:
        if o["kind"] in CRD_KINDS:
            assert crd_errors(o) == []
    # The exporter accepts the generated --shard arguments.
    _assert_configs_pass_check(objects, tmp_path)


def test_basic_auth_from_a_secret(tmp_path: Path) -> None:
    """webConfigSecret: the web config is mounted from the Secret, scrapes authenticate from it."""
    objects = _evaluate("{ webConfigSecret: 'infrawatch-web' }")
    for dep in _of(objects, "Deployment"):
        c = _container(dep)
        web = _arg(c, "--web.config.file")
        assert web
        _, volume = _volume_for(dep, web)
        assert volume["secret"]["secretName"] == "infrawatch-web"
        # kubelet has no credentials: health checks must not hit the authenticated HTTP endpoints.
        assert "tcpSocket" in c["readinessProbe"] and "tcpSocket" in c["livenessProbe"]
    for o in _of(objects, "ServiceMonitor") + _of(objects, "Probe"):
        auths = (
            [ep["basicAuth"] for ep in o["spec"]["endpoints"]]
            if o["kind"] == "ServiceMonitor"
            else [o["spec"]["basicAuth"]]
        )
        for auth in auths:
            assert auth["username"] == {"name": "infrawatch-web", "key": "username"}
            assert auth["password"] == {"name": "infrawatch-web", "key": "password"}
        assert crd_errors(o) == []
    assert "password" not in json.dumps([o for o in objects if o["kind"] == "ConfigMap"])
    _assert_configs_pass_check(objects, tmp_path)


def test_default_resolver_is_not_a_public_one(objects: list[dict[str, Any]]) -> None:
    """Spamhaus refuses public resolvers; the shipped config asks the pod's own unbound (issue 14)."""
    cm = next(cm for cm in _of(objects, "ConfigMap") if "reputation.yml" in cm["data"])
    text = cm["data"]["reputation.yml"]
    for ns in yaml.safe_load(text)["resolver"]["nameservers"]:
        assert ipaddress.ip_address(ns.rsplit(":", 1)[0]).is_private
    assert "CHANGE THIS" in text  # what to do without the unbound container


def _unbound(objects: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The reputation Deployment's unbound container and the unbound ConfigMap."""
    dep = next(d for d in _of(objects, "Deployment") if _container(d)["name"] == "reputation")
    (ub,) = [c for c in _containers(dep) if c["name"] == "unbound"]
    (cm,) = [o for o in _of(objects, "ConfigMap") if "unbound.conf" in o["data"]]
    return ub, cm


def test_reputation_exporter_asks_the_pods_unbound(objects: list[dict[str, Any]]) -> None:
    """Issue 14: Debian's unbound runs next to the exporter (a second container of its pod, as in the
    compose stack), the exporter's only nameserver is its port on 127.0.0.1, the health checks and
    the ConfigMap are wired to it; tests/reputation/test_deploy_unbound.py runs the generated
    unbound.conf in a real unbound."""
    cfg = _config()["unbound"]
    dep = next(d for d in _of(objects, "Deployment") if _container(d)["name"] == "reputation")
    ub, cm = _unbound(objects)
    rep = yaml.safe_load(
        next(o for o in _of(objects, "ConfigMap") if "reputation.yml" in o["data"])["data"]["reputation.yml"]
    )
    assert rep["resolver"]["nameservers"] == [f"127.0.0.1:{cfg['port']}"]
    assert ub["image"] == cfg["image"] and ub["image"].rsplit(":", 1)[1] == __version__
    assert {(p["protocol"], p["containerPort"]) for p in ub["ports"]} == {("UDP", cfg["port"]), ("TCP", cfg["port"])}
    tcp = next(p["name"] for p in ub["ports"] if p["protocol"] == "TCP")
    assert ub["readinessProbe"]["tcpSocket"]["port"] == tcp and ub["livenessProbe"]["tcpSocket"]["port"] == tcp
    assert ub["command"][:2] == ["unbound", "-d"] and "-p" in ub["command"]  # foreground, no pidfile
    conf_path = ub["command"][ub["command"].index("-c") + 1]
    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    (mount,) = [m for m in ub["volumeMounts"] if conf_path.startswith(m["mountPath"] + "/")]
    assert mount["readOnly"] is True
    assert volumes[mount["name"]]["configMap"]["name"] == cm["metadata"]["name"]
    conf = cm["data"][conf_path.removeprefix(mount["mountPath"] + "/")]
    assert f"port: {cfg['port']}" in conf and f'directory: "{mount["mountPath"]}"' in conf
    # the exporter container does not see unbound's files, nor unbound the exporter's Secret
    assert mount["name"] not in {m["name"] for m in _container(dep)["volumeMounts"]}
    assert {m["name"] for m in ub["volumeMounts"]} == {mount["name"]}


def test_unbound_variants(tmp_path: Path) -> None:
    """Stub zones for list mirrors, unbound off, and a build refusing a nameserver that misses unbound."""
    objects = _evaluate(
        "{ unbound+: { stubZones: [{ name: 'zen.spamhaus.org', addrs: ['10.0.0.25@53', '10.0.0.26'] }] } }"
    )
    _, cm = _unbound(objects)
    conf = cm["data"]["unbound.conf"]
    assert 'stub-zone:\n  name: "zen.spamhaus.org."\n  stub-addr: 10.0.0.25@53\n  stub-addr: 10.0.0.26\n' in conf
    assert 'domain-insecure: "zen.spamhaus.org."' in conf  # a mirror serves the zone unsigned
    for version in kubernetes_versions():
        assert [e for o in _core(objects) for e in core_errors(o, version)] == []

    off = _evaluate("{ unbound+: { enabled: false } }")
    assert not [o for o in off if o["kind"] == "ConfigMap" and "unbound.conf" in o["data"]]
    assert all(len(_containers(d)) == 1 for d in _of(off, "Deployment"))
    _check_selectors(off)
    _assert_configs_pass_check(off, tmp_path)

    with pytest.raises(Exception, match=r"resolver.nameservers must be \[\"127.0.0.1:5400\"\]"):
        _evaluate("{ unbound+: { port: 5400 } }")
