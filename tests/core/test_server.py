"""The shared exporter server: endpoints, reload semantics, web config (TLS, basic auth).

A minimal exporter subclass is served in-process on a free loopback port; requests go over real
sockets with aiohttp's client.
"""

from __future__ import annotations

import argparse
import base64
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import bcrypt
import pytest
import trustme
from prometheus_client.core import GaugeMetricFamily

from infrawatch.core.config import ConfigError, Context, Secret, from_yaml, load_yaml_file
from infrawatch.core.server import Exporter, check_config, common_flags, parse_listen
from infrawatch.core.webconfig import load_web_config


@dataclass
class DummyConfig:
    greeting: str = "hello"
    password_file: str = ""
    password: Secret | None = field(default=None, metadata={"internal": True})


class DummyExporter(Exporter):
    name = "dummy"

    def load_config(self, path: str) -> DummyConfig:
        data, loc = load_yaml_file(path)
        ctx = Context(loc, base_dir=Path(path).parent)
        cfg = from_yaml(DummyConfig, data, ctx)
        if not ctx.problems and cfg.password_file:
            cfg.password = ctx.read_secret_file(("password_file",), cfg.password_file)
        ctx.raise_if_problems()
        return cfg

    async def apply_config(self, config: DummyConfig) -> None:
        self.applied = config.greeting

    def collectors(self) -> Any:
        exp = self

        class C:
            def collect(self) -> Any:
                yield GaugeMetricFamily(
                    "dummy_greeting_length",
                    "Length of the greeting.",
                    value=len(exp.config.greeting) if exp.config else 0,
                )

        return [C()]


def args_for(config: Path, web: Path | None = None) -> argparse.Namespace:
    parser = common_flags("dummy", "test", str(config), "127.0.0.1:0")
    argv = [f"--config.file={config}"] + ([f"--web.config.file={web}"] if web else [])
    return parser.parse_args(argv)


async def serve(config: Path, web: Path | None = None) -> tuple[DummyExporter, str]:
    args = args_for(config, web)
    ex = DummyExporter(args)
    ok, msg = await ex.reload()
    assert ok, msg
    (_host, port), *_ = await ex.start(["127.0.0.1:0"])
    scheme = "https" if ex._ssl else "http"
    return ex, f"{scheme}://127.0.0.1:{port}"


@pytest.fixture
async def plain(tmp_path: Path) -> AsyncIterator[tuple[DummyExporter, str, Path]]:
    cfg = tmp_path / "c.yml"
    (tmp_path / "pw").write_text("topsecret-value\n")
    cfg.write_text("greeting: hi\npassword_file: pw\n")
    ex, url = await serve(cfg)
    yield ex, url, cfg
    await ex.stop()


async def get(url: str, **kw: Any) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(url, **kw) as r:
        return r.status, await r.text()


async def test_endpoints(plain: tuple[DummyExporter, str, Path]) -> None:
    _ex, url, _ = plain
    assert await get(url + "/-/healthy") == (200, "Healthy\n")
    assert await get(url + "/-/ready") == (200, "Ready\n")
    status, body = await get(url + "/metrics")
    assert status == 200
    assert 'infrawatch_build_info{exporter="dummy"' in body
    assert "infrawatch_config_last_reload_successful 1.0" in body
    assert "dummy_greeting_length 2.0" in body
    assert "process_resident_memory_bytes" in body


async def test_config_page_masks_secrets(plain: tuple[DummyExporter, str, Path]) -> None:
    ex, url, _ = plain
    status, body = await get(url + "/config")
    assert status == 200 and "greeting: hi" in body
    assert "topsecret-value" not in body
    assert ex.config.password == "topsecret-value"


async def test_reload_good_then_bad_keeps_old(plain: tuple[DummyExporter, str, Path]) -> None:
    ex, url, cfg = plain
    cfg.write_text("greeting: howdy\n")
    async with aiohttp.ClientSession() as s, s.post(url + "/-/reload") as r:
        assert r.status == 200
    assert ex.config.greeting == "howdy"
    cfg.write_text("greeting: [broken\n")
    async with aiohttp.ClientSession() as s, s.post(url + "/-/reload") as r:
        assert r.status == 500
        assert "YAML syntax error" in await r.text()
    assert ex.config.greeting == "howdy"  # old config still in force
    _, body = await get(url + "/metrics")
    assert "infrawatch_config_last_reload_successful 0.0" in body
    assert "dummy_greeting_length 5.0" in body
    cfg.write_text("greeting: back\n")
    ok, _ = await ex.reload()
    assert ok
    _, body = await get(url + "/metrics")
    assert "infrawatch_config_last_reload_successful 1.0" in body


async def test_reload_with_unknown_key_reports_location(plain: tuple[DummyExporter, str, Path]) -> None:
    ex, _, cfg = plain
    cfg.write_text("greeting: a\ngreting: b\n")
    ok, msg = await ex.reload()
    assert not ok
    assert f"{cfg}:2: greting: unknown key 'greting'" in msg
    assert ex.config.greeting == "hi"


def test_check_config_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yml"
    cfg.write_text("greeting: 5\n")  # YAML int -> accepted as string
    assert check_config(DummyExporter, args_for(cfg)) == 0
    cfg.write_text("greeting: [1]\nextra: 1\n")
    assert check_config(DummyExporter, args_for(cfg)) == 2
    err = capsys.readouterr().err
    assert f"{cfg}:1: greeting: expected a string" in err
    assert f"{cfg}:2: extra: unknown key" in err


def test_parse_listen() -> None:
    assert parse_listen(":9516") == ("0.0.0.0", 9516)
    assert parse_listen("[::1]:80") == ("::1", 80)
    with pytest.raises(ValueError):
        parse_listen("localhost")


# ---- web config ----------------------------------------------------------------------------


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _hash(pw: str) -> str:
    return bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$")


async def test_basic_auth(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yml"
    cfg.write_text("greeting: hi\n")
    web = tmp_path / "web.yml"
    web.write_text(f"basic_auth_users:\n  alice: '{_hash('wonderland')}'\n")
    ex, url = await serve(cfg, web)
    try:
        status, _ = await get(url + "/metrics")
        assert status == 401
        status, _ = await get(url + "/metrics", headers=basic("alice", "wrong"))
        assert status == 401
        status, _ = await get(url + "/metrics", headers=basic("bob", "wonderland"))
        assert status == 401
        for _ in range(2):  # second time from the verified-credentials cache
            status, body = await get(url + "/metrics", headers=basic("alice", "wonderland"))
            assert status == 200 and "infrawatch_build_info" in body
    finally:
        await ex.stop()


async def test_tls_and_client_certs(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    server_cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    client_cert = ca.issue_cert("client@example.org")
    cfg = tmp_path / "c.yml"
    cfg.write_text("greeting: hi\n")
    web = tmp_path / "web.yml"
    web.write_text(
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.pem\n"
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n"
    )
    ex, url = await serve(cfg, web)
    try:
        assert url.startswith("https://")
        client = ssl.create_default_context()
        ca.configure_trust(client)
        with pytest.raises(aiohttp.ClientError):  # no client certificate
            await get(url + "/-/healthy", ssl=client)
        client_cert.configure_cert(client)
        assert await get(url + "/-/healthy", ssl=client) == (200, "Healthy\n")
    finally:
        await ex.stop()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("basic_auth_users:\n  alice: plaintext\n", "web.yml:2: basic_auth_users.alice: expected a bcrypt hash"),
        (
            "tls_server_config:\n  cert_file: nope.pem\n  key_file: nope.pem\n",
            "web.yml:2: tls_server_config.cert_file: file not found: nope.pem",
        ),
        ("tls_server_config:\n  cert_file: a.pem\n", "web.yml:1: tls_server_config: cert_file and key_file"),
        ("tls_server_config:\n  client_auth_type: Sometimes\n", "client_auth_type: expected one of"),
        ("tls_server_config:\n  min_version: TLS14\n", "min_version: expected one of"),
        ("basic_auth: {}\n", "web.yml:1: basic_auth: unknown key 'basic_auth'"),
    ],
)
def test_bad_web_configs(tmp_path: Path, text: str, expected: str) -> None:
    web = tmp_path / "web.yml"
    web.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_web_config(str(web))
    assert any(expected in str(p) for p in exc.value.problems), exc.value
