"""docker-compose.yml: the stack's configuration is valid, its pieces fit together, and it comes up.

``test_stack_comes_up`` needs a Docker engine: the running one, or Debian's ``dockerd`` (docker.io)
which the test starts itself and stops by PID (support/dockerengine.py).  No registry is reachable
here, so it builds the images on a local Debian base made with debootstrap (Debian's Prometheus,
Alertmanager, VictoriaMetrics, node/postgres/redis exporters, PostgreSQL and Redis stand in for the
upstream images, Grafana is left out) and points Alertmanager's receivers at a fake receiver
container; then it sees Prometheus scrape every job, the mixin's recording rules and alert
expressions return data from node_exporter, postgres_exporter, redis_exporter and the simulated
api-server, the Watchdog alert arrive at the receiver, records the image size and tears down.
Without an engine it skips and says why.  Everything else runs here against the real tools:
``docker-compose config``, ``promtool check config``, ``amtool check-config`` and the exporters' own
``--config.check``, each on a copy of the container's file layout assembled from the compose
file's bind mounts.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from infrawatch.probe.allowlist import AllowList, target_host
from infrawatch_dev.build import evaluate_snippet
from infrawatch_dev.devstack.procs import free_port
from support.deploycheck import config_check, iter_files
from support.dockerengine import Engine, EngineUnavailable, ensure_base_image, start_engine
from support.procs import require_binary, wait_http
from support.rulefiles import promtool

ROOT = Path(__file__).resolve().parents[2]
# Listen ports of the third-party images (their defaults; the compose file does not change them).
IMAGE_PORTS = {
    "prom/prometheus": 9090,
    "prom/alertmanager": 9093,
    "grafana/grafana": 3000,
    "victoriametrics/victoria-metrics": 8428,
    "prom/node-exporter": 9100,
    "quay.io/prometheuscommunity/postgres-exporter": 9187,
    "oliver006/redis_exporter": 9121,
    "postgres": 5432,
    "redis": 6379,
}
# Bind mounts from outside the repository, on purpose: node_exporter reads the host's file systems.
HOST_MOUNTS = {("node-exporter", "/", "/host")}
# Jobs the mixin's selectors name that the stack does not run, and why (docs/rules.md, seed 004).
NOT_IN_STACK = {
    'job="postfix"': "postfix_exporter needs a Postfix mail server, which is not part of the monitoring stack",
}


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
            if (name, str(src), dst) in HOST_MOUNTS:
                continue
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
    # The file promtool checks scrapes what the mixin reads (test_scrape_jobs_match_the_mixin_selectors).
    assert {"node", "postgres", "redis", "api-server", "ws-server"} <= {j["job_name"] for j in config["scrape_configs"]}
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


def test_exporter_configs_pass_their_own_check(stack: dict[str, Any], tmp_path: Path) -> None:
    exporters = _exporters(stack)
    assert set(exporters) == {"probe-exporter", "reputation-exporter", "console"}
    for name, service in exporters.items():
        assert service["build"]["context"] == str(ROOT), "exporters are built from the project's Dockerfile"
        config = _host_path(service, _flag(service["command"], "--config.file") or "")
        if name == "console":
            # Its dashboard file is read at load: the container path, seen through the bind mounts.
            doc = yaml.safe_load(config.read_text())
            doc["dashboard_file"] = str(_host_path(service, doc["dashboard_file"]))
            assert Path(doc["dashboard_file"]).is_file()
            doc["audit_log"] = str(tmp_path / "audit.jsonl")  # a named volume in the stack
            config = tmp_path / "console.yml"
            config.write_text(yaml.safe_dump(doc))
        # Compose secrets (/run/secrets/<name>) named in the config: dummy files stand in for the user's.
        text = config.read_text()
        secrets = set(re.findall(r"/run/secrets/([\w.-]+)", text))
        for secret in secrets:
            assert secret in _secret_names(service), f"{name}: reads /run/secrets/{secret}, not among its secrets"
            (tmp_path / secret).write_text("x")
            text = text.replace(f"/run/secrets/{secret}", str(tmp_path / secret))
        if secrets:
            config = tmp_path / f"{name}.yml"
            config.write_text(text)
        r = config_check(service["command"][0], [f"--config.file={config}"])
        assert r.returncode == 0, f"{name}: {r.stderr}"


def _secret_names(service: dict[str, Any]) -> set[str]:
    return {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}


def test_postgres_exporter_runs_the_shipped_queries(stack: dict[str, Any]) -> None:
    """The stack's postgres_exporter reads deploy/postgres/queries.yaml (the file the database
    dashboard's statement and table panels are tested with in tests/dashboards/test_real_data.py),
    and its PostgreSQL preloads and creates pg_stat_statements, which that file reads."""
    exporter, postgres = stack["services"]["postgres-exporter"], stack["services"]["postgres"]
    path = _flag(exporter.get("command") or [], "--extend.query-path")
    assert path, exporter.get("command")
    queries = ROOT / "deploy" / "postgres" / "queries.yaml"
    assert _host_path(exporter, path) == queries
    assert {"pg_top_statements", "pg_top_tables"} <= set(yaml.safe_load(queries.read_text()))
    command = postgres.get("command") or []
    assert command[0] == "postgres" and "shared_preload_libraries=pg_stat_statements" in command, command
    init = [src for src, dst in _binds(postgres) if dst.startswith("/docker-entrypoint-initdb.d/")]
    assert [p.name for p in init] == ["pg_stat_statements.sql"], init
    assert "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;" in init[0].read_text()


def test_services_read_only_their_own_secrets(stack: dict[str, Any]) -> None:
    """Every /run/secrets/<name> a service names (environment, command) is a compose secret it has."""
    seen = set()
    for name, service in stack["services"].items():
        text = json.dumps([service.get("environment", {}), service.get("command", [])])
        for secret in re.findall(r"/run/secrets/([\w.-]+)", text):
            assert secret in _secret_names(service), f"{name}: reads /run/secrets/{secret}"
            assert secret in stack["secrets"]
            seen.add((name, secret))
    assert {("postgres", "postgres_password"), ("postgres-exporter", "postgres_password")} <= seen


def _matchers(selector: str) -> dict[str, str]:
    """``job="postgres", cluster="oltp"`` -> {"job": "postgres", "cluster": "oltp"} (equality only)."""
    pairs = re.findall(r'(\w+)\s*(=~|!=|!~|=)\s*"([^"]*)"', selector)
    assert all(op == "=" for _, op, _ in pairs), f"{selector}: only equality matchers are checked here"
    return {k: v for k, _, v in pairs}


def _scraped_label_sets(config: dict[str, Any]) -> list[dict[str, str]]:
    """The target labels each static target of prometheus.yml gets (job + its labels)."""
    return [
        {"job": job["job_name"], **sc.get("labels", {})}
        for job in config["scrape_configs"]
        if job.get("metrics_path") != "/probe"
        for sc in job.get("static_configs", [])
    ]


def test_scrape_jobs_match_the_mixin_selectors(stack: dict[str, Any]) -> None:
    """Each job the mixin's rules and dashboards select (the services' appSelector, upSelector and
    exporterSelector, nodeSelector, infrawatchSelector) is a scrape job of the compose Prometheus,
    with the labels the selector asks for, except NOT_IN_STACK; the backend's is scraped every 30 s
    (seed 002), and ws-server / api-server split the simulator's series."""
    prom = stack["services"]["prometheus"]
    config = yaml.safe_load(_host_path(prom, _flag(prom["command"], "--config.file") or "").read_text())
    cfg = evaluate_snippet(
        ROOT,
        "local c = (import 'mixin.libsonnet')._config; "
        "{ services: c.services, nodeSelector: c.nodeSelector, infrawatchSelector: c.infrawatchSelector }",
    )
    selectors = {cfg["nodeSelector"]}
    for service in cfg["services"]:
        selectors |= {service[k] for k in ("appSelector", "upSelector", "exporterSelector") if k in service}
    scraped = _scraped_label_sets(config)
    checked = set()
    for selector in sorted(selectors):
        want = _matchers(selector)
        found = any(want.items() <= labels.items() for labels in scraped)
        if selector in NOT_IN_STACK:
            assert not found, f"{selector} is scraped now: drop it from NOT_IN_STACK"
            continue
        assert found, f"no scrape target of deploy/compose/prometheus.yml matches {selector}"
        checked.add(selector)
    assert {'job="node"', 'job="redis"', 'job="api-server"', 'job="postgres", cluster="oltp"'} <= checked
    assert re.fullmatch(r'job=~"infrawatch\.\*"', cfg["infrawatchSelector"])
    assert {"infrawatch-probe", "infrawatch-reputation", "infrawatch-console"} <= {s["job"] for s in scraped}
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    for name in ("api-server", "ws-server"):
        assert jobs[name]["scrape_interval"] == "30s" and jobs[name].get("metrics_path", "/metrics") == "/metrics"
    relabel = {
        n: [(r["regex"], r["action"]) for r in jobs[n]["metric_relabel_configs"]] for n in ("api-server", "ws-server")
    }
    assert relabel == {"api-server": [("ws_.*", "drop")], "ws-server": [("ws_.*", "keep")]}
    # The simulator behind them is the one `make demo` runs, mounted from the repository.
    binds = _binds(stack["services"]["api-server"])
    assert (ROOT / "devtools/infrawatch_dev/devstack/appsim.py", "/opt/appsim/appsim.py") in binds


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
    addresses += [re.sub(r"^https?://([^/]+).*$", r"\1", rw["url"]) for rw in config.get("remote_write", [])]
    for address in addresses:
        host, port = address.rsplit(":", 1)
        if host == "localhost":  # Prometheus scraping itself
            host = "prometheus"
        assert host in services, f"{address}: no compose service {host}"
        assert int(port) == _listen_port(services[host]), address
        seen.add(host)
    expected = {
        "probe-exporter",
        "reputation-exporter",
        "console",
        "alertmanager",
        "prometheus",
        "victoria-metrics",
        "node-exporter",
        "postgres-exporter",
        "redis-exporter",
        "api-server",
    }
    assert expected <= seen
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
    # Every service card of the mixin with a probe in this stack (smtp and elasticsearch are not run).
    assert {t["service"] for t in probe_cfg["targets"]} >= {"api", "redis", "oltp-db", "olap-db"}


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


FAKE_RECEIVER = """
import http.server, json
seen = []
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen.append(self.path)
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def do_GET(self):
        body = json.dumps(seen).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
"""


# Base images of the stack's Dockerfiles other than the project's, and what stands in for them.
STAND_INS = ("debian:bookworm-slim",)

# The official postgres image's entrypoint, as far as the stack uses it (initdb with the superuser
# password from POSTGRES_PASSWORD_FILE, password logins from the network, the *.sql files of
# /docker-entrypoint-initdb.d run once on the new database, the compose command's `postgres` options
# passed on), with Debian's PostgreSQL.  The SQL runs in single-user mode, one statement a line.
POSTGRES_STAND_IN = r"""
set -e
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
data=/var/lib/postgresql/data
mkdir -p "$data" /run/postgresql
chown postgres:postgres "$data" /run/postgresql
chmod 700 "$data"
if [ ! -s "$data/PG_VERSION" ]; then
  runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres --pwfile="$POSTGRES_PASSWORD_FILE" \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  echo "host all all all scram-sha-256" >> "$data/pg_hba.conf"
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] || continue
    grep -v '^--' "$f" | runuser -u postgres -- "$bin/postgres" --single -D "$data" postgres >/dev/null
  done
fi
[ "$0" = postgres ] || { echo "the compose command must start with postgres, not $0" >&2; exit 2; }
exec runuser -u postgres -- "$bin/postgres" -D "$data" -c listen_addresses='*' "$@"
"""
# Upstream images -> the Debian program that stands in for their entrypoint.
DEBIAN_ENTRYPOINTS = {
    "prometheus": ["prometheus"],
    "victoria-metrics": ["victoria-metrics"],
    "alertmanager": ["prometheus-alertmanager"],
    "node-exporter": ["prometheus-node-exporter"],
    "postgres-exporter": ["prometheus-postgres-exporter"],
    "redis-exporter": ["prometheus-redis-exporter"],
    "redis": [],  # the compose command starts with redis-server
    "postgres": ["sh", "-c", POSTGRES_STAND_IN.replace("$", "$$")],  # no compose interpolation
}


STACK_SECRETS = {"postgres_password": "compose-test-pg"}


class _At:
    """Where the stack's receivers point: the fake receiver container (stands in for PagerDuty, Slack,
    the webhooks; the real services cannot be reached from here)."""

    url = "http://fake-receiver:8080"
    events_url = url + "/v2/enqueue"
    smarthost = "fake-receiver:2525"


def _test_stack(stack: dict[str, Any], base: str, tag: str, tmp_path: Path, ports: dict[str, int]) -> dict[str, Any]:
    """The compose stack as `docker-compose config` resolves it, with what cannot be had here
    replaced: images from no registry (the local Debian base for Prometheus and Alertmanager, and
    as the Dockerfile's PYTHON_IMAGE), ports published on 127.0.0.1 only (free ones), Alertmanager's
    receivers pointed at a fake receiver container, Grafana left out (no Debian package)."""
    from infrawatch_dev.devstack.alertmanager import render_mixin_config
    from infrawatch_dev.devstack.stack import DEMO_SECRETS, Timings, loopback_alertmanager_override

    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name, value in {**DEMO_SECRETS, "slack-webhook-url": _At.url + "/slack", "smtp-password": "x"}.items():
        (secrets / name).write_text(value + "\n")
        (secrets / name).chmod(0o644)
    override = loopback_alertmanager_override(
        PurePosixPath("/etc/alertmanager/secrets"),
        Timings(),
        _At(),
        _At(),
        _At(),  # type: ignore[arg-type]
    )
    am_config = render_mixin_config(tmp_path / "alertmanager", override, ROOT)
    for key, path in iter_files(yaml.safe_load(am_config.read_text())):
        assert (secrets / PurePosixPath(path).name).exists(), f"{key}: {path}"
    services = {n: dict(s) for n, s in stack["services"].items() if n != "grafana"}
    listen = {n: _listen_port(s) for n, s in services.items() if s.get("ports")}
    for name, entrypoint in DEBIAN_ENTRYPOINTS.items():
        services[name].update(image=base, entrypoint=entrypoint, user="0")
    # `sh -c` hands the command to the stand-in script as $0 ("postgres") and its options as "$@".
    assert services["postgres"]["command"][0] == "postgres", services["postgres"].get("command")
    # Compose secrets need the user's files in deploy/compose/secrets: bind the test's instead.
    for svc in services.values():
        for secret in _secret_names(svc):
            (secrets / secret).write_text(STACK_SECRETS[secret])
            (secrets / secret).chmod(0o644)
            svc["volumes"] = [*svc.get("volumes", []), f"{secrets / secret}:/run/secrets/{secret}:ro"]
    # The host's / is a private mount here: no rslave propagation for node_exporter's view of it.
    node = services["node-exporter"]
    node["volumes"] = [v.replace(":ro,rslave", ":ro") for v in node["volumes"]]
    # Debian's build turns the systemd collector on (upstream's is off); no systemd in the container.
    node["command"] = [*node["command"], "--no-collector.systemd"]
    am = services["alertmanager"]
    am["volumes"] = [
        f"{am_config}:/etc/alertmanager/alertmanager.yml:ro",
        f"{am_config.parent / 'templates'}:/etc/alertmanager/templates:ro",
        f"{secrets}:/etc/alertmanager/secrets:ro",
        "alertmanager-data:/alertmanager",
    ]
    for name in ("probe-exporter", "reputation-exporter", "console", "api-server"):
        svc = services[name]
        svc["image"] = tag
        svc["build"] = {"context": str(ROOT), "network": "host", "args": {"PYTHON_IMAGE": base}}
    for svc in services.values():
        if "build" in svc:  # other images built in the stack (unbound) install Debian packages
            svc["build"] = {**svc["build"], "network": "host"}
    for name, svc in services.items():
        if name in ports:
            svc["ports"] = [f"127.0.0.1:{ports[name]}:{listen[name]}"]
        else:
            svc.pop("ports", None)
        svc.pop("restart", None)
        svc.pop("secrets", None)
    services["fake-receiver"] = {
        "image": base,
        "command": ["python3", "-c", FAKE_RECEIVER],
        "ports": [f"127.0.0.1:{ports['fake-receiver']}:8080"],
    }
    services["alertmanager"]["depends_on"] = ["fake-receiver"]
    return {"services": services, "volumes": stack.get("volumes", {})}


def _scrape_jobs(stack: dict[str, Any]) -> set[str]:
    """Every job of the compose Prometheus' configuration."""
    prom = stack["services"]["prometheus"]
    config = yaml.safe_load(_host_path(prom, _flag(prom["command"], "--config.file") or "").read_text())
    return {j["job_name"] for j in config["scrape_configs"]}


def _without_threshold(alert: str, rule_file: str) -> str:
    """The generated alert's expression without its last ``> threshold`` line: what it compares."""
    groups = yaml.safe_load((ROOT / "rules" / rule_file).read_text())["groups"]
    expr = next(r["expr"] for g in groups for r in g["rules"] if r.get("alert") == alert)
    head, sep, last = expr.rstrip().rpartition("\n")
    assert sep and last.lstrip().startswith(">"), expr
    return head


def _dashboard_query(dashboard: str, containing: str) -> str:
    """The first panel query of a generated dashboard that contains ``containing``."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str) and containing in node["expr"]:
                found.append(node["expr"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads((ROOT / "dashboards" / dashboard).read_text()))
    assert found and "$" not in found[0], found
    return found[0]


def _mixin_queries() -> dict[str, str]:
    """What the running stack must answer: the mixin's recording rules, alert expressions and
    dashboard queries over the series of node_exporter, postgres_exporter, redis_exporter, the
    simulated api-server and the cards' probes."""
    status = "infrawatch:service_status:component"
    return {
        "api request rate (recording rule)": 'service:http_requests:rate5m{service="api"} > 0',
        "api 5xx ratio (recording rule)": 'service:http_requests_errors:ratio_rate5m{service="api"}',
        "api latency p95 (recording rule)": (
            'service:http_request_duration_seconds:histogram_quantile{service="api", quantile="0.95"}'
        ),
        "postgres oltp exporter (status rule)": f'{status}{{service="oltp-db", component="exporter"}} == 2',
        "postgres olap exporter (status rule)": f'{status}{{service="olap-db", component="exporter"}} == 2',
        "redis exporter (status rule)": f'{status}{{service="redis", component="exporter"}} == 2',
        "the four cards' probes (status rule)": (
            f'count({status}{{component="probe", service=~"api|redis|oltp-db|olap-db"}} == 2) == 4'
        ),
        "node CPU (HighCPUUsage)": _without_threshold("HighCPUUsage", "node.yaml"),
        "postgres connections used (database dashboard)": _dashboard_query(
            "infrawatch-database.json", "pg_settings_max_connections"
        ),
        "postgres statements (deploy/postgres/queries.yaml)": 'pg_top_statements_calls_total{job="postgres"} > 0',
        "redis commands (redis_exporter)": 'redis_commands_processed_total{job="redis"}',
        "ws-server keeps only ws_*": (
            'ws_connections_active{job="ws-server"} and on() absent(http_requests_total{job="ws-server"})'
        ),
        "api-server drops ws_*": (
            'http_requests_total{job="api-server"} and on() absent(ws_connections_active{job="api-server"})'
        ),
    }


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    try:
        e = start_engine()
    except EngineUnavailable as exc:
        pytest.skip(f"no Docker engine: {exc}")
    try:
        yield e
    finally:
        e.stop()


# The first run on a machine makes the base image with debootstrap (about 5 minutes) and builds.
@pytest.mark.timeout(2400)
def test_stack_comes_up(stack: dict[str, Any], engine: Engine, tmp_path: Path, artifacts_dir: Path) -> None:
    """Build the image, bring the stack up, see Prometheus scrape both exporters and the Watchdog
    alert reach the (fake) receiver through the generated routing tree; tear it down."""
    try:
        base = ensure_base_image(engine)
    except EngineUnavailable as exc:
        pytest.skip(str(exc))
    # The stack's own Dockerfiles (deploy/compose/unbound) start from Debian images no registry
    # serves here; the debootstrap base is that Debian release.
    for image in STAND_INS:
        if engine.docker("image", "inspect", image, check=False).returncode != 0:
            engine.docker("tag", base, image)
    project = f"iwtest{uuid.uuid4().hex[:8]}"
    tag = "infrawatch-test/infrawatch:latest"  # one tag: reruns rebuild it from the cache
    names = [
        "prometheus",
        "alertmanager",
        "probe-exporter",
        "reputation-exporter",
        "console",
        "victoria-metrics",
        "fake-receiver",
    ]  # published on loopback for the test; the other services only on the compose network
    ports = {n: free_port() for n in names}
    compose_file = tmp_path / "docker-compose.yml"
    compose_file.write_text(yaml.safe_dump(_test_stack(stack, base, tag, tmp_path, ports), sort_keys=False))
    env = {**engine.env, "COMPOSE_PROJECT_NAME": project}
    base_cmd = [require_binary("docker-compose"), "-f", str(compose_file), "--project-directory", str(ROOT)]
    up = subprocess.run([*base_cmd, "up", "-d", "--build"], capture_output=True, text=True, env=env, timeout=1800)
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        prom = f"http://127.0.0.1:{ports['prometheus']}"
        wait_http(prom + "/-/ready", timeout=120)
        deadline = time.monotonic() + 180
        health: dict[str, str] = {}
        jobs = _scrape_jobs(stack)  # every one, the exporters and the simulated api-server among them
        assert {"node", "postgres", "redis", "api-server", "ws-server", "infrawatch-console"} <= jobs
        while time.monotonic() < deadline:
            with urllib.request.urlopen(prom + "/api/v1/targets", timeout=10) as r:
                targets = json.loads(r.read())["data"]["activeTargets"]
            health = {}
            for t in targets:  # a job is up when every one of its targets is
                job = t["labels"]["job"]
                health[job] = t["health"] if health.get(job, "up") == "up" else health[job]
            if all(health.get(j) == "up" for j in jobs):
                break
            time.sleep(2)
        assert all(health.get(j) == "up" for j in jobs), health
        # The mixin's own rules read the new targets: recording rules and alert expressions (without
        # their threshold) return data from node_exporter, postgres_exporter, redis_exporter, the
        # simulated api-server, and the probes of the services' cards.
        pending = _mixin_queries()
        while pending and time.monotonic() < deadline + 120:
            for what, expr in list(pending.items()):
                q = urllib.parse.urlencode({"query": expr})
                with urllib.request.urlopen(f"{prom}/api/v1/query?{q}", timeout=10) as r:
                    if json.loads(r.read())["data"]["result"]:
                        del pending[what]
            time.sleep(3)
        assert not pending, f"no data yet for {pending}"
        # The mixin's absent() guards (rules/absent.yaml) see every job and probe they require, except
        # those of the services the stack does not run (NOT_IN_STACK's postfix, and no smtp or
        # Elasticsearch to probe).
        absent = set()
        for group in yaml.safe_load((ROOT / "rules" / "absent.yaml").read_text())["groups"]:
            for rule in group["rules"]:
                q = urllib.parse.urlencode({"query": rule["expr"]})
                with urllib.request.urlopen(f"{prom}/api/v1/query?{q}", timeout=10) as r:
                    if json.loads(r.read())["data"]["result"]:
                        absent.add(rule["expr"])
        assert absent == {
            'absent(up{job="postfix"})',
            'absent(probe_success{service="smtp"})',
            'absent(probe_success{service="elasticsearch"})',
        }
        # The seed's page, served by the console container from Prometheus and Alertmanager.
        page_url = f"http://127.0.0.1:{ports['console']}/dashboard/system/infrastructure"
        with urllib.request.urlopen(page_url, timeout=30) as r:
            page = r.read().decode()
        assert r.status == 200 and "Infrastructure Monitoring" in page, page[:2000]
        received: list[str] = []
        while time.monotonic() < deadline + 60:
            with urllib.request.urlopen(f"http://127.0.0.1:{ports['fake-receiver']}/", timeout=10) as r:
                received = json.loads(r.read())
            if "/heartbeat" in received:
                break
            time.sleep(2)
        assert "/heartbeat" in received, received
        # remote_write: the scrapes are in the long-term store too
        vm = f"http://127.0.0.1:{ports['victoria-metrics']}"
        series: list[Any] = []
        while time.monotonic() < deadline + 120:
            q = urllib.parse.urlencode({"query": 'up{job="infrawatch-reputation"}'})
            with urllib.request.urlopen(f"{vm}/api/v1/query?{q}", timeout=10) as r:
                series = json.loads(r.read())["data"]["result"]
            if series:
                break
            time.sleep(2)
        assert series, "nothing arrived in VictoriaMetrics through remote_write"
        size, base_size = (
            int(engine.docker("image", "inspect", image, "--format", "{{.Size}}").stdout.strip())
            for image in (tag, base)
        )
        record = {
            "image": tag,
            "base": base,
            "size_bytes": size,
            "base_size_bytes": base_size,
            "added_by_the_dockerfile_bytes": size - base_size,
            "measured_at": time.strftime("%Y-%m-%d"),
        }
        (artifacts_dir / "image-size.json").write_text(json.dumps(record, indent=2) + "\n")
        print(f"\nimage size: {size / 1e6:.0f} MB, of which the Dockerfile adds {(size - base_size) / 1e6:.0f} MB")
    finally:
        logs = subprocess.run([*base_cmd, "logs", "--no-color"], capture_output=True, text=True, env=env, timeout=120)
        (artifacts_dir / "compose-logs.txt").write_text(logs.stdout[-200_000:])
        subprocess.run([*base_cmd, "down", "-v"], capture_output=True, env=env, timeout=300)
