"""unix prober: query_response over a real Unix-socket server started by the test (plain, TLS from
the first byte, STARTTLS, trustme certificates), refused / missing / permission-denied sockets, and
socket paths in allowed_targets and scheduled targets."""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from infrawatch.probe.allowlist import AllowList, TargetError, target_host
from support.protocols import config_errors, load_modules, metrics, probe
from support.tls import Certs

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return Certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def sock_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # sun_path is short (108 bytes): keep socket paths out of pytest's long tmp names.
    return tmp_path_factory.mktemp("u", numbered=True)


@pytest.fixture
async def unix_server(sock_dir: Path) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    servers: list[asyncio.AbstractServer] = []

    async def start(handler: Handler, name: str = "svc.sock", **kw: object) -> str:
        path = str(sock_dir / name)
        servers.append(await asyncio.start_unix_server(handler, path, **kw))
        return path

    yield start
    for s in servers:
        s.close()
        await s.wait_closed()


async def greeter(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, starttls: ssl.SSLContext | None = None
) -> None:
    """``220 unixsvc 4.2 ready``; answers ``HELLO <name>`` with ``250 hello <name>``; STARTTLS
    with ``starttls`` as the server context."""
    try:
        writer.write(b"220 unixsvc 4.2 ready\r\n")
        while line := (await reader.readline()).decode().strip():
            if line.startswith("HELLO "):
                writer.write(f"250 hello {line[6:]}\r\n".encode())
            elif line == "STARTTLS":
                writer.write(b"220 go ahead\r\n")
                await writer.drain()
                await writer.start_tls(starttls)
            elif line == "QUIT":
                writer.write(b"221 bye\r\n")
                break
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


DIALOGUE = r"""
      query_response:
        - expect: "^220 (\\w+) ([0-9.]+) ready"
          labels: [{name: service_version, value: "${2}"}]
          send: "HELLO ${1}"
        - expect: "^250 hello unixsvc$"
        - send: "QUIT"
        - expect: "^221"
"""


@pytest.fixture
def cfg(tmp_path: Path, certs: Certs):
    ca = certs.ca_file
    return load_modules(
        tmp_path,
        f"""
modules:
  unix_dialogue:
    prober: unix
    unix:{DIALOGUE}
  unix_connect:
    prober: unix
  unix_wrong:
    prober: unix
    unix:
      query_response: [{{expect: "^SSH-2.0-"}}]
  unix_tls:
    prober: unix
    unix:
      tls: true
      tls_config: {{ca_file: {ca}, server_name: localhost}}{DIALOGUE}
  unix_starttls:
    prober: unix
    unix:
      tls_config: {{ca_file: {ca}, server_name: localhost}}
      query_response:
        - expect: "^220 "
        - send: "STARTTLS"
        - expect: "^220 go ahead"
        - starttls: true
        - send: "HELLO unixsvc"
        - expect: "^250 hello"
        - send: "QUIT"
""",
    )


async def test_dialogue(cfg, unix_server) -> None:
    path = await unix_server(greeter)
    r = await probe(cfg, "unix_dialogue", path)
    assert r.success, r.failure_message
    m = metrics(r)
    assert m[("probe_expect_info", (("service_version", "4.2"),))] == 1  # ${2} of the match
    assert m[("probe_failed_due_to_regex", ())] == 0
    assert ("probe_dns_lookup_time_seconds", ()) not in m  # nothing to resolve


async def test_connect_only_and_wrong_banner(cfg, unix_server) -> None:
    path = await unix_server(greeter)
    assert (await probe(cfg, "unix_connect", path)).success
    r = await probe(cfg, "unix_wrong", path, timeout=0.5)  # the server waits for a command
    assert not r.success and r.failure_reason == "timeout"

    async def banner_and_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 unixsvc 4.2 ready\r\n")
        await writer.drain()
        writer.close()

    r = await probe(cfg, "unix_wrong", await unix_server(banner_and_hang_up, name="hangup.sock"))
    assert not r.success and r.failure_reason == "protocol"
    assert metrics(r)[("probe_failed_due_to_regex", ())] == 1


async def test_tls_from_the_first_byte(cfg, certs: Certs, unix_server) -> None:
    path = await unix_server(greeter, ssl=certs.server_context("valid"))
    r = await probe(cfg, "unix_tls", path)
    assert r.success, r.failure_message
    m = metrics(r)
    assert m[("probe_tls_verified", ())] == 1
    assert m[("probe_ssl_earliest_cert_expiry", ())] == certs.not_after("valid")


async def test_tls_with_an_expired_certificate(cfg, certs: Certs, unix_server) -> None:
    path = await unix_server(greeter, ssl=certs.server_context("expired"))
    r = await probe(cfg, "unix_tls", path)
    assert not r.success and r.failure_reason == "tls"
    assert "expired" in r.failure_message


async def test_starttls(cfg, certs: Certs, unix_server) -> None:
    path = await unix_server(functools.partial(greeter, starttls=certs.server_context("valid")))
    r = await probe(cfg, "unix_starttls", path)
    assert r.success, r.failure_message
    assert metrics(r)[("probe_tls_verified", ())] == 1


async def test_missing_refused_and_permission_denied(cfg, unix_server, sock_dir: Path) -> None:
    r = await probe(cfg, "unix_connect", str(sock_dir / "nothing.sock"))
    assert not r.success and r.failure_reason == "connect_refused"
    path = await unix_server(greeter, name="closed.sock")
    # A socket file nobody listens on any more: ECONNREFUSED.
    stale = str(sock_dir / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    r = await probe(cfg, "unix_connect", stale)
    assert not r.success and r.failure_reason == "connect_refused"
    if os.geteuid() == 0:
        return  # root ignores file permissions; the permission case needs another user
    os.chmod(path, 0)
    r = await probe(cfg, "unix_connect", path)
    assert not r.success and "permission denied" in r.failure_message


async def test_relative_target_is_a_config_failure(cfg) -> None:
    r = await probe(cfg, "unix_connect", "svc.sock")
    assert not r.success and r.failure_reason == "config"


def test_tls_needs_a_server_name(tmp_path: Path) -> None:
    (err,) = config_errors(tmp_path, "modules:\n  u:\n    prober: unix\n    unix:\n      tls: true\n")
    assert "invalid.yml:" in err and "modules.u.unix.tls_config.server_name" in err


def test_socket_paths_as_targets(tmp_path: Path) -> None:
    assert target_host("/run/app/api.sock") == "/run/app/api.sock"
    with pytest.raises(TargetError):
        target_host("/" + "x" * 200)  # longer than sun_path
    allow = AllowList(["/run/app/*.sock", "*.example.com"])
    assert allow.allows("/run/app/api.sock")
    assert not allow.allows("/var/run/docker.sock")
    assert not AllowList(["*.example.com"]).allows("/run/app/api.sock")
    cfg = load_modules(
        tmp_path,
        "modules:\n  u:\n    prober: unix\ntargets:\n  - {target: /run/app/api.sock, module: u, service: api}\n",
    )
    assert cfg.targets[0].target == "/run/app/api.sock"


def test_label_set_twice_is_located(tmp_path: Path) -> None:
    (err,) = config_errors(
        tmp_path,
        "modules:\n  u:\n    prober: unix\n    unix:\n      query_response:\n"
        "        - {expect: '^(a)', labels: [{name: x, value: '${1}'}]}\n"
        "        - {expect: '^(b)', labels: [{name: x, value: '${1}'}]}\n",
    )
    assert "invalid.yml:7: modules.u.unix.query_response[1].labels:" in err and "already set in step 0" in err
