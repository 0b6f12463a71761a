"""Helpers for the probe exporter tests: target servers (plain + TLS), module builders, ``ExporterProc``
(the exporter as a subprocess; lives in ``infrawatch_dev.devstack.exporters``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml

from infrawatch.core.config import Context, from_yaml, load_yaml_text
from infrawatch.probe.config import ProbeConfig
from infrawatch.probe.runner import ProbeResult, run_probe
from infrawatch_dev.devstack.exporters import ExporterProc  # noqa: F401 - re-exported for the probe tests

from .httptarget import make_app
from .tls import Certs, ServerThread, https_servers


class Targets:
    def __init__(self, servers: ServerThread, certs: Certs):
        self.servers = servers
        self.certs = certs
        self.http_port = servers.serve(make_app())
        self.http6_port = servers.serve(make_app(), host="::1")
        self.https_ports = https_servers(servers, certs, make_app)

    def http(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def https(self, kind: str = "valid", path: str = "/ok", host: str = "localhost") -> str:
        return f"https://{host}:{self.https_ports[kind]}{path}"


def build_config(data: dict[str, Any], base_dir: Path | None = None) -> ProbeConfig:
    text = yaml.safe_dump(data, sort_keys=False)
    raw, loc = load_yaml_text(text, "test.yml")
    ctx = Context(loc, base_dir=base_dir or Path.cwd())
    cfg = from_yaml(ProbeConfig, raw, ctx)
    ctx.raise_if_problems()
    return cfg


def module(section: dict[str, Any] | None = None, prober: str = "http", timeout: str | None = None) -> Any:
    mod: dict[str, Any] = {"prober": prober}
    if timeout:
        mod["timeout"] = timeout
    if section is not None:
        mod[prober] = section
    return build_config({"modules": {"m": mod}}).modules["m"]


def probe(target: str, section: dict[str, Any] | None = None, timeout: float = 5.0, **kw: Any) -> ProbeResult:
    """Run one http probe in a fresh event loop (the target servers live in their own thread)."""
    return asyncio.run(run_probe(target, "m", module(section, **kw), timeout))


SECRET = "hunter2-very-secret"


def write_config(path: Path, targets: Targets, extra: dict | None = None) -> Path:
    pw = path.parent / "password"
    pw.write_text(SECRET + "\n")
    cfg = {
        "modules": {
            "http_2xx": {"prober": "http", "timeout": "5s", "http": {"preferred_ip_protocol": "ip4"}},
            "http_tls": {
                "prober": "http",
                "timeout": "5s",
                "http": {"preferred_ip_protocol": "ip4", "tls_config": {"ca_file": str(targets.certs.ca_file)}},
            },
            "http_auth": {
                "prober": "http",
                "http": {
                    "preferred_ip_protocol": "ip4",
                    "basic_auth": {"username": "u", "password_file": str(pw)},
                    "bearer_token": None,
                },
            },
            "http_inline": {"prober": "http", "http": {"basic_auth": {"username": "u", "password": SECRET}}},
            "http_health": {"prober": "http", "http": {"preferred_ip_protocol": "ip4", "health": {}}},
        },
        "allowed_targets": ["127.0.0.1", "localhost"],
        "scheduler": {"interval": "2s", "timeout": "2s"},
        "targets": [
            {"target": targets.http("/ok"), "module": "http_2xx", "service": "api", "labels": {"env": "test"}},
            {
                "target": "http://10.255.255.1:81/only-configured",
                "module": "http_2xx",
                "service": "x",
                "interval": "1h",
            },
        ],
    }
    for k, v in (extra or {}).items():
        cfg[k] = v
    cfg["modules"]["http_auth"]["http"].pop("bearer_token")
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
