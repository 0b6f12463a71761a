"""Issue 15 item 1: ``/probe`` is no relay through redirects.

An allowed server answers ``302 Location: <somewhere else>``; every hop is checked against
``allowed_targets`` (a disallowed hop fails the probe with reason ``redirect_not_allowed`` and is
never contacted), and the module's credentials go only to the host they were configured for.
Real exporter subprocess, real aiohttp servers on 127.0.0.1 / 127.0.0.2 (both loopback).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from infrawatch.probe.allowlist import AllowList, target_host
from support.probeutil import ExporterProc
from support.tls import ServerThread

TOKEN = "tok-very-secret-4711"


class Servers:
    """``origin`` (127.0.0.1) redirects to ``?to=``; ``other`` (127.0.0.2) and ``local`` (127.0.0.1,
    another port) record every request they get."""

    def __init__(self) -> None:
        self.thread = ServerThread()
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.origin = self.thread.serve(self._origin_app())
        self.other = self.thread.serve(self._recorder("other"), host="127.0.0.2")
        self.local = self.thread.serve(self._recorder("local"))

    def _origin_app(self) -> web.Application:
        app = web.Application()

        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPFound(request.query["to"])

        async def record(request: web.Request) -> web.Response:
            self.seen.append(("origin", dict(request.headers)))
            return web.Response(text="origin\n")

        app.router.add_get("/redirect", redirect)
        app.router.add_get("/record", record)
        return app

    def _recorder(self, name: str) -> web.Application:
        app = web.Application()

        async def record(request: web.Request) -> web.Response:
            self.seen.append((name, dict(request.headers)))
            return web.Response(text=f"{name}\n")

        app.router.add_get("/{tail:.*}", record)
        return app

    def redirect_target(self, location: str) -> str:
        return f"http://127.0.0.1:{self.origin}/redirect?" + urllib.parse.urlencode({"to": location})


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    s = Servers()
    try:
        yield s
    finally:
        s.thread.stop()


def _exporter(tmp_path: Path, allowed: list[str]) -> ExporterProc:
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    http = {"preferred_ip_protocol": "ip4", "bearer_token_file": str(token), "headers": {"Cookie": "sid=c00k1e"}}
    cfg = {"modules": {"http_2xx": {"prober": "http", "timeout": "5s", "http": http}}, "allowed_targets": allowed}
    path = tmp_path / "probe.yml"
    path.write_text(yaml.safe_dump(cfg))
    return ExporterProc(path, tmp_path)


def _probe(e: ExporterProc, target: str) -> tuple[int, str]:
    return e.get("/probe?" + urllib.parse.urlencode({"target": target, "module": "http_2xx", "debug": "true"}))


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{other}/x",  # another address
        "//127.0.0.2:{other}/x",  # scheme-relative
        "http://localhost:{local}/x",  # a name for loopback
        "http://2130706434:{other}/x",  # 127.0.0.2 written as a number
    ],
)
def test_disallowed_hop_fails_the_probe_and_is_never_contacted(servers: Servers, tmp_path: Path, location: str) -> None:
    e = _exporter(tmp_path, ["127.0.0.1"])
    try:
        servers.seen.clear()
        status, text = _probe(e, servers.redirect_target(location.format(other=servers.other, local=servers.local)))
        assert status == 200, text
        assert "probe_success 0" in text
        assert 'probe_failure_info{reason="redirect_not_allowed"} 1' in text
        assert servers.seen == []  # neither recorder saw a request
        assert TOKEN not in text
    finally:
        e.stop()


def test_allowed_hop_gets_no_credentials_of_another_host(servers: Servers, tmp_path: Path) -> None:
    e = _exporter(tmp_path, ["127.0.0.1", "127.0.0.2"])
    try:
        servers.seen.clear()
        status, text = _probe(e, servers.redirect_target(f"http://127.0.0.2:{servers.other}/x"))
        assert status == 200 and "probe_success 1" in text, text
        assert [name for name, _ in servers.seen] == ["other"]
        headers = {k.lower() for k in servers.seen[0][1]}
        assert "authorization" not in headers and "cookie" not in headers
        # The same host (here: another path on the origin) still gets them.
        servers.seen.clear()
        status, text = _probe(e, servers.redirect_target(f"http://127.0.0.1:{servers.origin}/record"))
        assert "probe_success 1" in text, text
        assert servers.seen[0][1].get("Authorization") == f"Bearer {TOKEN}"
        assert servers.seen[0][1].get("Cookie") == "sid=c00k1e"
    finally:
        e.stop()


def test_numeric_hosts_are_judged_as_the_address_they_resolve_to() -> None:
    assert target_host("http://2130706433:80/") == "127.0.0.1"
    assert target_host("0x7f.1") == "127.0.0.1"
    assert target_host("127.1:9100") == "127.0.0.1"
    assert AllowList(["127.0.0.0/8"]).allows(target_host("2130706433"))
    assert not AllowList(["2*"]).allows(target_host("2130706433"))  # not a name: the pattern does not apply
