"""The http module's prometheus/common client keys and blackbox 0.24+ additions, against real
loopback servers: authorization, oauth2 (a local token endpoint), http_headers, proxy keys,
compression br, CEL body checks, body_file read per probe."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import parse_qs

import brotli
import pytest
from aiohttp import web

from support.httptarget import ForwardProxy
from support.probeutil import Targets, probe
from support.tls import ServerThread

IP4 = {"preferred_ip_protocol": "ip4"}


class Backend:
    """Echoes request headers; serves a token endpoint, brotli and JSON bodies."""

    def __init__(self, servers: ServerThread):
        self.seen: list[dict[str, list[str]]] = []
        self.token_requests: list[dict] = []
        app = web.Application()
        app.router.add_get("/headers", self.headers)
        app.router.add_post("/token", self.token)
        app.router.add_get("/br", self.br)
        app.router.add_get("/json", self.json_doc)
        app.router.add_get("/text", self.text)
        self.port = servers.serve(app)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def headers(self, request: web.Request) -> web.Response:
        out: dict[str, list[str]] = {}
        for k, v in request.headers.items():
            out.setdefault(k.lower(), []).append(v)
        self.seen.append(out)
        want = request.query.get("require_auth")
        if want and request.headers.get("Authorization") != want:
            return web.Response(status=401, text="no")
        return web.json_response(out)

    async def token(self, request: web.Request) -> web.Response:
        form = parse_qs(await request.text())
        self.token_requests.append({"auth": request.headers.get("Authorization"), "form": form})
        user, _, pw = base64.b64decode(request.headers.get("Authorization", "Basic ")[6:]).decode().partition(":")
        if (user, pw) != ("probe-client", "s3cret"):
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": "tok-123", "token_type": "bearer", "expires_in": 60})

    async def br(self, request: web.Request) -> web.Response:
        return web.Response(body=brotli.compress(b"brotli body " * 50), headers={"Content-Encoding": "br"})

    async def json_doc(self, request: web.Request) -> web.Response:
        return web.json_response({"foo": "bar", "baz": "qux", "n": 3})

    async def text(self, request: web.Request) -> web.Response:
        return web.Response(text="not json")


@pytest.fixture(scope="module")
def backend(targets: Targets) -> Backend:
    return Backend(targets.servers)


def test_authorization_credentials_and_file(backend: Backend, tmp_path: Path) -> None:
    r = probe(
        backend.url("/headers?require_auth=Token%20abc"),
        {**IP4, "authorization": {"type": "Token", "credentials": "abc"}},
    )
    assert r.success, r.log_lines
    creds = tmp_path / "creds"
    creds.write_text("from-file\n")
    r = probe(
        backend.url("/headers?require_auth=Bearer%20from-file"),
        {**IP4, "authorization": {"credentials_file": str(creds)}},
    )
    assert r.success, r.log_lines
    creds.write_text("rotated\n")  # read per probe: a rotated secret is used without a reload
    r = probe(
        backend.url("/headers?require_auth=Bearer%20rotated"),
        {**IP4, "authorization": {"credentials_file": str(creds)}},
    )
    assert r.success, r.log_lines
    assert "Bearer rotated" not in "\n".join(r.log_lines)  # (the target URL itself names it)


def test_oauth2_client_credentials_against_a_local_token_endpoint(backend: Backend, tmp_path: Path) -> None:
    secret = tmp_path / "client_secret"
    secret.write_text("s3cret\n")
    section = {
        **IP4,
        "oauth2": {
            "client_id": "probe-client",
            "client_secret_file": str(secret),
            "token_url": backend.url("/token"),
            "scopes": ["read", "probe"],
            "endpoint_params": {"audience": "api"},
        },
    }
    r = probe(backend.url("/headers?require_auth=Bearer%20tok-123"), section)
    assert r.success, r.log_lines
    req = backend.token_requests[-1]
    assert req["form"] == {"grant_type": ["client_credentials"], "scope": ["read probe"], "audience": ["api"]}
    secret.write_text("wrong\n")
    r = probe(backend.url("/headers"), section)
    assert not r.success and "oauth2 token endpoint answered 401" in r.failure_message


def test_http_headers_values_secrets_files_and_module_headers(backend: Backend, tmp_path: Path) -> None:
    key = tmp_path / "api-key"
    key.write_text("k-from-file\n")
    r = probe(
        backend.url("/headers"),
        {
            **IP4,
            "headers": {"X-Plain": "p"},
            "http_headers": {
                "X-Multi": {"values": ["a", "b"], "secrets": ["s"], "files": [str(key)]},
                "Accept-Language": {"values": ["en-US"]},
            },
        },
    )
    assert r.success, r.log_lines
    seen = backend.seen[-1]
    assert seen["x-plain"] == ["p"]
    assert seen["x-multi"] == ["a", "b", "s", "k-from-file"]
    assert seen["accept-language"] == ["en-US"]


def test_proxy_connect_header_no_proxy_and_skip_resolve(backend: Backend, targets: Targets) -> None:
    proxy = ForwardProxy()
    port = targets.servers.serve_stream(proxy.handle)
    section = {
        **IP4,
        "proxy_url": f"http://127.0.0.1:{port}",
        "proxy_connect_header": {"X-Proxy-Token": ["t1"]},
        "tls_config": {"ca_file": str(targets.certs.ca_file)},
    }
    r = probe(targets.https("valid"), section)
    assert r.success, r.log_lines
    assert proxy.requests[-1].startswith("CONNECT localhost:")
    assert proxy.headers[-1].get("X-Proxy-Token") == "t1"
    n = len(proxy.requests)
    r = probe(backend.url("/headers"), {**section, "no_proxy": "127.0.0.0/8"})
    assert r.success and len(proxy.requests) == n  # no_proxy: straight to the target
    r = probe(
        "http://name.invalid/headers",
        {**IP4, "proxy_url": f"http://127.0.0.1:{port}", "skip_resolve_phase_with_proxy": True},
    )
    # the proxy (not infrawatch) fails to resolve the name: the probe got past its own resolve phase
    assert proxy.requests[-1] == "GET http://name.invalid/headers"
    assert r.failure_reason != "dns"


def test_compression_br(backend: Backend) -> None:
    r = probe(backend.url("/br"), {**IP4, "compression": "br"})
    assert r.success, r.log_lines
    assert r.value("probe_http_uncompressed_body_length") == len(b"brotli body " * 50)


@pytest.mark.parametrize(
    ("key", "expr", "path", "ok", "cel_failed"),
    [
        ("fail_if_body_json_not_matches_cel", "body.foo == 'bar' && body.baz.startsWith('q')", "/json", True, 0),
        ("fail_if_body_json_not_matches_cel", "body.n > 5", "/json", False, 1),
        ("fail_if_body_json_matches_cel", "body.n > 2", "/json", False, 1),
        ("fail_if_body_json_matches_cel", "body.n > 5", "/json", True, 0),
        ("fail_if_body_json_not_matches_cel", "body.foo == 'bar'", "/text", False, 1),  # not JSON
        ("fail_if_body_json_not_matches_cel", "body.missing == 1", "/json", False, 1),  # evaluation error
    ],
)
def test_cel_body_checks(backend: Backend, key: str, expr: str, path: str, ok: bool, cel_failed: int) -> None:
    r = probe(backend.url(path), {**IP4, key: expr})
    assert r.success is ok, r.log_lines
    assert r.value("probe_failed_due_to_cel") == cel_failed


def test_body_file_read_for_each_probe(targets: Targets, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"a": 1}')
    section = {**IP4, "method": "POST", "body_file": str(body)}
    r = probe(targets.http("/echo"), section)
    assert r.success, r.log_lines
    body.write_text('{"a": 2}')
    r = probe(targets.http("/echo"), {**section, "fail_if_body_not_matches_regexp": [r'\\"a\\": 2']})
    assert r.success, r.log_lines
