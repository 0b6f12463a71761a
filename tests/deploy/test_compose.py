"""docker-compose.yml: the stack's configuration is valid and its pieces fit together.

Without a Docker engine (``docker info`` fails) only the parts that need one are skipped, with that
reason: building the image, ``docker-compose up`` and scraping the exporters.  Everything else runs
here against the real tools: ``docker-compose config``, ``promtool check config``, ``amtool
check-config`` and the exporters' own ``--config.check``, each on a copy of the container's file
layout assembled from the compose file's bind mounts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.request
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from infrawatch.probe.allowlist import AllowList, target_host
from infrawatch_dev.build import evaluate_snippet
from support.deploycheck import config_check, iter_files
from support.procs import require_binary, wait_http
from support.rulefiles import promtool

ROOT = Path(__file__).resolve().parents[2]
# Listen ports of the third-party images (their defaults; the compose file does not change them).
IMAGE_PORTS = {"prom/prometheus": 9090, "prom/alertmanager": 9093, "grafana/grafana": 3000}


def _compose(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_binary("docker-compose"), "-f", str(ROOT / "docker-compose.yml"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    """The compose file as docker-compose resolves it (absolute host paths, merged anchors)."""
    r = _compose("config")
    assert r.returncode == 0, r.stderr
    return yaml.safe_load(r.stdout)


def _binds(service: dict[str, Any]) -> list[tuple[Path, str]]:
    """``(host path, container path)`` of a service's bind mounts (named volumes left out)."""
    out = []
    for v in service.get("volumes", []):
        src, dst = v.split(":")[:2] if isinstance(v, str) else (v["source"], v["target"])
        if src.startswith("/"):
            out.append((Path(src), dst))
    return out


def _host_path(service: dict[str, Any], container_path: str) -> Path:
    """Where a container path of ``service`` comes from on the host (longest matching bind mount)."""
    best: tuple[int, Path] | None = None
    for src, dst in _binds(service):
        p, d = PurePosixPath(container_path), PurePosixPath(dst)
        if (p == d or d in p.parents) and (best is None or len(dst) > best[0]):
            best = (len(dst), src / p.relative_to(d))
    assert best, f"{container_path} is on no bind mount"
    return best[1]


def _flag(command: list[str], flag: str, default: str | None = None) -> str | None:
    for a in command:
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return default


def _listen_port(service: dict[str, Any]) -> int:
    """The port a service listens on inside its container."""
    for image, port in IMAGE_PORTS.items():
        if service.get("image", "").startswith(image + ":"):
            listen = _flag(service.get("command") or [], "--web.listen-address")
            return int(listen.rsplit(":", 1)[1]) if listen else port
    listen = _flag(service["command"], "--web.listen-address")
    assert listen, "the exporters' compose commands name their listen address"
    return int(listen.rsplit(":", 1)[1])


def _exporters(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in stack["services"].items() if s.get("command", [""])[0].startswith("infrawatch-")}


def test_compose_config_is_valid() -> None:
    r = _compose("config", "-q")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""


def test_every_bind_mount_exists_in_the_repository(stack: dict[str, Any]) -> None:
    for name, service in stack["services"].items():
        for src, dst in _binds(service):
            assert src.is_relative_to(ROOT), f"{name}: {src} is outside the repository"
            assert src.exists(), f"{name}: {src} (mounted at {dst}) does not exist"
    # Compose secrets are user-created (git-ignored); the README must tell users to create them.
    readme = (ROOT / "deploy" / "compose" / "secrets" / "README.md").read_text()
    for secret in stack.get("secrets", {}).values():
        assert Path(secret["file"]).parent == ROOT / "deploy" / "compose" / "secrets"
        assert f"`{Path(secret['file']).name}`" in readme


def test_prometheus_config_and_rules_pass_promtool(stack: dict[str, Any], tmp_path: Path) -> None:
    prom = stack["services"]["prometheus"]
    config_path = _host_path(prom, _flag(prom["command"], "--config.file") or "")
    config = yaml.safe_load(config_path.read_text())
    assert _flag(prom["command"], "--storage.tsdb.retention.time") == "90d"
    assert config["global"]["scrape_interval"] == "15s"
    # rule_files name container paths: point them at the repository's files behind the mounts.
    config["rule_files"] = [str(_host_path(prom, p)) for p in config["rule_files"]]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    r = promtool("check", "config", tmp_path / "prometheus.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    rule_files = sorted((ROOT / "rules").glob("*.yaml"))
    assert rule_files
    for f in rule_files:
        assert f"Checking {f}" in r.stdout, f"{f.name} is not loaded by the compose Prometheus"
    assert "rules/kubernetes" not in r.stdout, "PrometheusRule manifests are not rule files"


def test_alertmanager_config_and_secrets(stack: dict[str, Any], tmp_path: Path) -> None:
    am = stack["services"]["alertmanager"]
    config_container = _flag(am["command"], "--config.file") or ""
    config = yaml.safe_load(_host_path(am, config_container).read_text())
    secrets_dir = ROOT / "deploy" / "compose" / "secrets"
    readme = (secrets_dir / "README.md").read_text()
    names = set()
    for key, path in iter_files(config):
        assert _host_path(am, path).parent == secrets_dir, f"{key}: {path} is not on the secrets mount"
        names.add(PurePosixPath(path).name)
        assert f"`{PurePosixPath(path).name}`" in readme, f"secrets/README.md does not list {path}"
    assert len(names) >= 4
    # amtool on a copy of the container's /etc/alertmanager: templates resolve through the mounts,
    # every secret file exists (dummy values stand in for the user's files).
    etc = tmp_path / "etc-alertmanager"
    for src, dst in _binds(am):
        target = etc / PurePosixPath(dst).relative_to(PurePosixPath(config_container).parent)
        if src.is_dir() and src != secrets_dir:
            shutil.copytree(src, target)
        elif src.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, target)
    (etc / "secrets").mkdir(exist_ok=True)
    for name in names:
        (etc / "secrets" / name).write_text("https://hooks.slack.com/services/T0/B0/x" if "slack" in name else "x")
    text = (etc / "alertmanager.yml").read_text().replace(str(PurePosixPath(config_container).parent), str(etc))
    (etc / "alertmanager.yml").write_text(text)
    r = subprocess.run(
        [require_binary("amtool"), "check-config", str(etc / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    # amtool accepts a template glob matching nothing: check the mounts do provide the templates.
    for pattern in config["templates"]:
        container_glob = PurePosixPath(config_container).parent / pattern
        host_dir = _host_path(am, str(container_glob.parent))
        assert sorted(host_dir.glob(container_glob.name)) == sorted(
            (ROOT / "alertmanager" / "templates").glob("*.tmpl")
        )
        assert sorted(etc.glob(pattern)), f"{pattern} matches nothing in the container layout"


def test_exporter_configs_pass_their_own_check(stack: dict[str, Any]) -> None:
    exporters = _exporters(stack)
    assert set(exporters) == {"probe-exporter", "reputation-exporter"}
    for name, service in exporters.items():
        assert service["build"]["context"] == str(ROOT), "exporters are built from the project's Dockerfile"
        config = _host_path(service, _flag(service["command"], "--config.file") or "")
        r = config_check(service["command"][0], [f"--config.file={config}"])
        assert r.returncode == 0, f"{name}: {r.stderr}"


def test_reputation_resolver_comment() -> None:
    text = (ROOT / "deploy" / "compose" / "reputation.yml").read_text()
    assert "CHANGE THIS" in text and "your own recursive resolver" in text


def test_ports_match_the_scrape_targets(stack: dict[str, Any]) -> None:
    services = stack["services"]
    prom = services["prometheus"]
    config = yaml.safe_load(_host_path(prom, _flag(prom["command"], "--config.file") or "").read_text())
    seen = set()
    addresses: list[str] = []
    for job in config["scrape_configs"]:
        for sc in job.get("static_configs", []):
            if job.get("metrics_path") != "/probe":
                addresses += sc["targets"]
        for rc in job.get("relabel_configs", []):
            if rc.get("target_label") == "__address__":
                addresses.append(rc["replacement"])
    addresses += [t for am in config["alerting"]["alertmanagers"] for sc in am["static_configs"] for t in sc["targets"]]
    for address in addresses:
        host, port = address.rsplit(":", 1)
        if host == "localhost":  # Prometheus scraping itself
            host = "prometheus"
        assert host in services, f"{address}: no compose service {host}"
        assert int(port) == _listen_port(services[host]), address
        seen.add(host)
    assert {"probe-exporter", "reputation-exporter", "alertmanager", "prometheus"} <= seen
    for name, service in services.items():
        for p in service.get("ports", []):
            assert int(p["target"]) == _listen_port(service), f"{name}: publishes {p}"


def test_probe_targets_are_allowed(stack: dict[str, Any]) -> None:
    """/probe jobs in prometheus.yml only name allowed hosts and existing modules; scheduled targets
    reach compose services on the ports they listen on."""
    services = stack["services"]
    prom, probe = services["prometheus"], services["probe-exporter"]
    config = yaml.safe_load(_host_path(prom, _flag(prom["command"], "--config.file") or "").read_text())
    probe_cfg = yaml.safe_load(_host_path(probe, _flag(probe["command"], "--config.file") or "").read_text())
    allow = AllowList(probe_cfg["allowed_targets"])
    assert not allow.all
    probe_jobs = [j for j in config["scrape_configs"] if j.get("metrics_path") == "/probe"]
    assert probe_jobs
    for job in probe_jobs:
        for module in job["params"]["module"]:
            assert module in probe_cfg["modules"]
        for sc in job["static_configs"]:
            for t in sc["targets"]:
                assert allow.allows(target_host(t)), f"{t} is refused by deploy/compose/probe.yml"
    for t in probe_cfg["targets"]:
        m = re.match(r"^(?:https?://)?([^/:]+):(\d+)", t["target"])
        assert m and m.group(1) in services, t
        assert int(m.group(2)) == _listen_port(services[m.group(1)]), t


def test_grafana_provisioning(stack: dict[str, Any]) -> None:
    grafana = stack["services"]["grafana"]
    ds = yaml.safe_load(_host_path(grafana, "/etc/grafana/provisioning/datasources/infrawatch.yaml").read_text())
    uid = evaluate_snippet(ROOT, "(import 'mixin.libsonnet')._config.dashboards.prometheusDatasourceUID")
    (prom_ds,) = [d for d in ds["datasources"] if d["type"] == "prometheus"]
    assert prom_ds["uid"] == uid == "prometheus"
    assert prom_ds["isDefault"] is True  # the dashboards' datasource variable defaults to it
    host, port = prom_ds["url"].removeprefix("http://").split(":")
    assert int(port) == _listen_port(stack["services"][host])
    providers = yaml.safe_load(_host_path(grafana, "/etc/grafana/provisioning/dashboards/infrawatch.yaml").read_text())
    (provider,) = providers["providers"]
    dashboards_dir = _host_path(grafana, provider["options"]["path"])
    assert dashboards_dir == ROOT / "dashboards"
    assert len(list(dashboards_dir.glob("*.json"))) >= 5


def _engine() -> str | None:
    """None when a Docker engine answers, else why not."""
    if not shutil.which("docker"):
        return "the docker CLI is not installed"
    r = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or ["docker info failed"])[-1]


def test_stack_builds_and_exporters_answer(stack: dict[str, Any], tmp_path: Path) -> None:
    """Needs a Docker engine: build the image, start the exporters, scrape them, tear down."""
    why = _engine()
    if why is not None:
        pytest.skip(f"no Docker engine reachable ({why}): image build and `docker-compose up` not run")
    project = f"infrawatch-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "COMPOSE_PROJECT_NAME": project}
    base = [require_binary("docker-compose"), "-f", str(ROOT / "docker-compose.yml")]
    up = subprocess.run(
        [*base, "up", "-d", "--build", "probe-exporter", "reputation-exporter"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=1800,
    )
    try:
        assert up.returncode == 0, up.stderr
        for name in ("probe-exporter", "reputation-exporter"):
            port = _listen_port(stack["services"][name])
            wait_http(f"http://127.0.0.1:{port}/-/ready", timeout=120)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
                body = resp.read().decode()
            assert "infrawatch_build_info{" in body
            assert "infrawatch_config_last_reload_successful 1.0" in body
    finally:
        subprocess.run([*base, "down", "-v"], capture_output=True, cwd=ROOT, env=env, timeout=300)
