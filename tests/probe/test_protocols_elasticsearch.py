"""elasticsearch prober.

No Elasticsearch can run here (no JVM / package), so the peer is a small aiohttp server that
serves recorded real ``_cluster/health`` documents (tests/probe/data/, see its README) with the
headers Elasticsearch sends, behind basic auth and optionally TLS (trustme).  This is a mock of
Elasticsearch's one endpoint the prober reads; everything on the wire is real HTTP.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from support.procs import free_port
from support.protocols import config_errors, load_modules, probe
from support.tls import Certs

DATA = Path(__file__).parent / "data"
USER, PASSWORD = "elastic", "es-probe-pw"

Serve = Callable[..., Awaitable[int]]


def _app(doc: str) -> web.Application:
    async def health(request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response(
                {"error": {"type": "security_exception"}, "status": 401},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="security"'},
            )
        body = (DATA / f"es_cluster_health_{doc}.json").read_bytes()
        return web.Response(body=body, content_type="application/json", headers={"X-elastic-product": "Elasticsearch"})

    app = web.Application()
    app.router.add_get("/_cluster/health", health)
    app.router.add_get("/es/_cluster/health", health)

    async def not_json(request: web.Request) -> web.Response:
        return web.Response(text="<html>proxy error</html>")

    app.router.add_get("/not-json/_cluster/health", not_json)
    return app


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    runners: list[web.AppRunner] = []

    async def start(doc: str, ssl_context: object = None) -> int:
        runner = web.AppRunner(_app(doc), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        runners.append(runner)
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    yield start
    for r in runners:
        await r.cleanup()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return Certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def modules(tmp_path: Path, certs: Certs) -> object:
    (tmp_path / "es.pw").write_text(PASSWORD + "\n")
    return load_modules(
        tmp_path,
        f"""
        modules:
          es:
            prober: elasticsearch
            elasticsearch: {{basic_auth: {{username: {USER}, password_file: es.pw}}}}
          es_strict:
            prober: elasticsearch
            elasticsearch: {{basic_auth: {{username: {USER}, password_file: es.pw}}, fail_on_yellow: true}}
          es_anonymous:
            prober: elasticsearch
          es_tls:
            prober: elasticsearch
            elasticsearch:
              tls: true
              tls_config: {{ca_file: {certs.ca_file}}}
              basic_auth: {{username: {USER}, password_file: es.pw}}
        """,
    )


async def test_green(serve: Serve, modules: object) -> None:
    port = await serve("green")
    r = await probe(modules, "es", f"127.0.0.1:{port}")
    assert r.success, r.log_lines
    assert r.value("probe_health_status") == 1
    assert r.value("probe_elasticsearch_cluster_status", status="green") == 1
    assert r.value("probe_elasticsearch_cluster_status", status="red") == 0
    assert r.value("probe_elasticsearch_nodes") == 2
    assert r.value("probe_elasticsearch_active_shards") == 10
    assert r.value("probe_elasticsearch_active_shards_percent") == 100
    assert r.value("probe_http_status_code") == 200


async def test_yellow_is_degraded_and_optionally_fails(serve: Serve, modules: object) -> None:
    port = await serve("yellow")
    r = await probe(modules, "es", f"http://127.0.0.1:{port}")
    assert r.success, r.log_lines
    assert r.value("probe_health_status") == 0.5
    assert r.health == "degraded"
    assert r.value("probe_elasticsearch_unassigned_shards") == 1
    assert r.value("probe_health_check_status", check="unassigned_shards") == 0.5
    r = await probe(modules, "es_strict", f"127.0.0.1:{port}")
    assert (r.success, r.failure_reason) == (False, "health_check")


@pytest.mark.parametrize("doc", ["red", "red_no_shards"])
async def test_red_fails_health_check(serve: Serve, modules: object, doc: str) -> None:
    port = await serve(doc)
    r = await probe(modules, "es", f"127.0.0.1:{port}")
    assert (r.success, r.failure_reason) == (False, "health_check")
    assert r.value("probe_health_status") == 0
    assert r.value("probe_elasticsearch_cluster_status", status="red") == 1
    if doc == "red_no_shards":  # "NaN" as a string: the gauge is left out, the probe still reads the rest
        assert r.value("probe_elasticsearch_active_shards_percent") is None
        assert r.value("probe_elasticsearch_nodes") == 3


async def test_path_prefix_and_non_json(serve: Serve, modules: object) -> None:
    port = await serve("green")
    assert (await probe(modules, "es", f"http://127.0.0.1:{port}/es/")).success
    r = await probe(modules, "es", f"http://127.0.0.1:{port}/not-json")
    assert (r.success, r.failure_reason) == (False, "health_check")


async def test_missing_credentials(serve: Serve, modules: object) -> None:
    port = await serve("green")
    r = await probe(modules, "es_anonymous", f"127.0.0.1:{port}")
    assert (r.success, r.failure_reason) == (False, "auth")
    assert r.value("probe_http_status_code") == 401


async def test_tls(serve: Serve, modules: object, certs: Certs) -> None:
    port = await serve("green", certs.server_context("valid"))
    r = await probe(modules, "es_tls", f"localhost:{port}")
    assert r.success, r.log_lines
    assert r.value("probe_tls_verified") == 1
    # https:// in the target means TLS even for a module without tls: true
    r = await probe(modules, "es", f"https://localhost:{port}")
    assert (r.success, r.failure_reason) == (False, "tls")  # system CAs do not know the test CA
    assert r.value("probe_tls_verified") == 0
    assert r.value("probe_ssl_earliest_cert_expiry") == pytest.approx(certs.not_after("valid"))


async def test_refused_and_bad_target(modules: object) -> None:
    r = await probe(modules, "es", f"127.0.0.1:{free_port()}")
    assert (r.success, r.failure_reason) == (False, "connect_refused")
    r = await probe(modules, "es", "ftp://127.0.0.1:21")
    assert (r.success, r.failure_reason) == (False, "config")


def test_invalid_module_configs(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("x")
    cases = {
        "modules:\n  m:\n    prober: elasticsearch\n    elasticsearch: {path: _cluster/health}\n": (
            "modules.m.elasticsearch.path",
            "must start with '/'",
        ),
        "modules:\n  m:\n    prober: elasticsearch\n    elasticsearch: {basic_auth: {password_file: pw}}\n": (
            "modules.m.elasticsearch.basic_auth.username",
            "needs a username",
        ),
        "modules:\n  m:\n    prober: elasticsearch\n    elasticsearch: {basic_auth: {username: u, password: a, "
        "password_file: pw}}\n": ("modules.m.elasticsearch.basic_auth.password_file", "mutually exclusive"),
        "modules:\n  m:\n    prober: elasticsearch\n    elasticsearch: {fail_on_red: true}\n": (
            "modules.m.elasticsearch.fail_on_red",
            "unknown key",
        ),
    }
    for text, (path, words) in cases.items():
        errors = config_errors(tmp_path, text)
        assert len(errors) == 1, (text, errors)
        assert f"invalid.yml:4: {path}: " in errors[0] and words in errors[0], errors


def test_inline_password_is_masked_and_warned(tmp_path: Path) -> None:
    from infrawatch.core.config import to_public

    cfg = load_modules(
        tmp_path,
        """
        modules:
          m:
            prober: elasticsearch
            elasticsearch: {basic_auth: {username: u, password: hunter2}}
        """,
    )
    assert "hunter2" not in repr(to_public(cfg.modules["m"]))
    assert any("inline password" in str(w) for w in cfg.warnings)
