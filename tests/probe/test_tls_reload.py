"""TLS client contexts belong to a loaded configuration: a reload re-reads a rotated CA.

Regression: client contexts were ``lru_cache``d process-wide on the ``tls_config`` value, which
names the CA *file*; after the file was rotated and the exporter reloaded, probes kept verifying
against the old CA and failed until a restart.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme
import yaml
from aiohttp import web

from support.probeutil import ExporterProc
from support.tls import ServerThread


def _probe_success(e: ExporterProc, target: str) -> float:
    status, body = e.get(f"/probe?module=http_tls&target={target}")
    assert status == 200, body
    line = next(ln for ln in body.splitlines() if ln.startswith("probe_success "))
    return float(line.split()[1])


def test_reload_rereads_a_rotated_ca(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_a, ca_b = trustme.CA(organization_name="CA A"), trustme.CA(organization_name="CA B")
    ca_a.cert_pem.write_to_path(str(ca_file))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca_a.issue_cert("localhost", "127.0.0.1").configure_cert(server_ctx)

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/ok", ok)
    servers = ServerThread()
    port = servers.serve(app, ssl_context=server_ctx)
    cfg = tmp_path / "probe.yml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "modules": {
                    "http_tls": {
                        "prober": "http",
                        "timeout": "5s",
                        "http": {"preferred_ip_protocol": "ip4", "tls_config": {"ca_file": str(ca_file)}},
                    }
                },
                "allowed_targets": ["localhost"],
            }
        )
    )
    target = f"https://localhost:{port}/ok"
    e = ExporterProc(cfg, tmp_path)
    try:
        assert _probe_success(e, target) == 1
        # Rotate: the server presents a certificate from CA B, the CA file now holds CA B.
        ca_b.issue_cert("localhost", "127.0.0.1").configure_cert(server_ctx)
        ca_b.cert_pem.write_to_path(str(ca_file))
        assert _probe_success(e, target) == 0  # the loaded configuration still trusts CA A
        status, body = e.post("/-/reload")
        assert status == 200, body
        assert _probe_success(e, target) == 1
    finally:
        e.stop()
        servers.stop()
