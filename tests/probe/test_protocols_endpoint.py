"""Every protocol prober through the exporter's blackbox-style ``/probe`` endpoint (real subprocess).

Peers: aiosmtpd (tcp + smtp), redis-server, PostgreSQL, rbldnsd (dns) and an aiohttp server with a
recorded Elasticsearch ``_cluster/health`` document (no Elasticsearch can run here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from support.postgres import PostgresServer
from support.probeutil import ExporterProc
from support.rbldnsd import Rbldnsd, Zone, start_rbldnsd
from support.redis import RedisServer
from support.smtpserver import SMTPServer, smtp_server
from support.tls import Certs, ServerThread

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("peers")
    certs = Certs(tmp / "certs")
    servers = ServerThread()

    async def health(request: web.Request) -> web.Response:
        return web.Response(body=(DATA / "es_cluster_health_yellow.json").read_bytes(), content_type="application/json")

    app = web.Application()
    app.router.add_get("/_cluster/health", health)
    es_port = servers.serve(app)
    dnsbl = start_rbldnsd(tmp / "rbldnsd", [Zone("bl.test", "ip4set", ["192.0.2.1 :127.0.0.2:listed"])])
    try:
        with smtp_server(tls_context=certs.server_context("valid")) as smtp:
            yield {"certs": certs, "es_port": es_port, "dnsbl": dnsbl, "smtp": smtp}
    finally:
        dnsbl.cleanup()
        servers.stop()


@pytest.fixture(scope="module")
def exporter(
    tmp_path_factory: pytest.TempPathFactory, peers: dict, redis_server: RedisServer, postgres_server: PostgresServer
) -> Iterator[ExporterProc]:
    d = tmp_path_factory.mktemp("exporter")
    (d / "redis.pw").write_text(redis_server.password + "\n")
    (d / "pg.pw").write_text(postgres_server.password + "\n")
    ca = str(peers["certs"].ca_file)
    config = {
        "allowed_targets": ["127.0.0.1", "localhost"],
        "modules": {
            "smtp_starttls_tcp": {
                "prober": "tcp",
                "tcp": {
                    "preferred_ip_protocol": "ip4",
                    "tls_config": {"ca_file": ca},
                    "query_response": [
                        {"expect": "^220 "},
                        {"send": "EHLO prober\r"},
                        {"expect": "^250-STARTTLS"},
                        {"send": "STARTTLS\r"},
                        {"expect": "^220"},
                        {"starttls": True},
                        {"send": "EHLO prober\r"},
                        {"expect": "^250 "},
                        {"send": "QUIT\r"},
                    ],
                },
            },
            "smtp": {"prober": "smtp", "smtp": {"tls_config": {"ca_file": ca}}},
            "dns_listed": {
                "prober": "dns",
                "dns": {
                    "query_name": "1.2.0.192.bl.test",
                    "query_type": "A",
                    "validate_answer_rrs": {"fail_if_not_matches_regexp": ["127\\.0\\.0\\.2"]},
                },
            },
            "redis": {"prober": "redis", "redis": {"password_file": "redis.pw"}},
            "postgres": {"prober": "postgres", "postgres": {"user": postgres_server.user, "password_file": "pg.pw"}},
            "es": {"prober": "elasticsearch"},
        },
    }
    path = d / "probe.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    proc = ExporterProc(path, d)
    try:
        yield proc
    finally:
        proc.stop()


def _scrape(exporter: ExporterProc, target: str, module: str) -> dict[tuple, float]:
    status, text = exporter.get(f"/probe?target={target}&module={module}")
    assert status == 200, text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def test_every_prober_through_probe_endpoint(
    exporter: ExporterProc, peers: dict, redis_server: RedisServer, postgres_server: PostgresServer
) -> None:
    smtp: SMTPServer = peers["smtp"]
    dnsbl: Rbldnsd = peers["dnsbl"]
    cases = {
        "smtp_starttls_tcp": (f"localhost:{smtp.port}", "probe_tls_verified"),
        "smtp": (f"localhost:{smtp.port}", "probe_smtp_starttls_supported"),
        "dns_listed": (dnsbl.address, "probe_dns_answer_rrs"),
        "redis": (f"127.0.0.1:{redis_server.port}", "probe_redis_used_memory_bytes"),
        "postgres": (f"127.0.0.1:{postgres_server.port}", "probe_postgres_server_version"),
        "es": (f"127.0.0.1:{peers['es_port']}", "probe_elasticsearch_unassigned_shards"),
    }
    for module, (target, metric) in cases.items():
        m = _scrape(exporter, target, module)
        assert m[("probe_success", ())] == 1, (module, m)
        assert m[(metric, ())] >= 1, (module, metric, m)
    # yellow cluster: up but degraded
    m = _scrape(exporter, f"127.0.0.1:{peers['es_port']}", "es")
    assert m[("probe_health_status", ())] == 0.5


def test_failure_reason_and_debug_output_without_secrets(
    exporter: ExporterProc, redis_server: RedisServer, postgres_server: PostgresServer
) -> None:
    m = _scrape(exporter, f"127.0.0.1:{postgres_server.port + 0}", "redis")
    # a Redis probe against PostgreSQL's port: the peer does not speak RESP
    assert m[("probe_success", ())] == 0
    assert sum(v for (name, _), v in m.items() if name == "probe_failure_info") == 1
    status, text = exporter.get(f"/probe?target=127.0.0.1:{redis_server.port}&module=redis&debug=true")
    assert status == 200
    assert "PING answered" in text
    assert redis_server.password not in text
    status, text = exporter.get(f"/probe?target=127.0.0.1:{postgres_server.port}&module=postgres&debug=true")
    assert status == 200 and 'msg="query done"' in text
    assert postgres_server.password not in text
