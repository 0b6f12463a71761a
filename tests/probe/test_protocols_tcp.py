"""tcp prober: query_response dialogues (blackbox's own SMTP STARTTLS example) against aiosmtpd with
trustme certificates, implicit TLS, ``${1}`` expansion, expect_bytes, and an in-test line server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from support.procs import free_port
from support.protocols import config_errors, load_modules, metrics, probe
from support.smtpserver import smtp_server
from support.tls import Certs

# blackbox_exporter's example module, as SREs have it in blackbox.yml today.
SMTP_STARTTLS = r"""
  smtp_starttls:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
      query_response:
        - expect: "^220 ([^ ]+) (.+)$"
          labels:
            - {name: smtp_host, value: "${1}"}
        - send: "EHLO prober\r"
        - expect: "^250-STARTTLS"
        - send: "STARTTLS\r"
        - expect: "^220"
        - starttls: true
        - send: "EHLO prober\r"
        - expect: "^250 "
        - send: "QUIT\r"
      tls_config: {ca_file: CA_FILE}
"""


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return Certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def modules(tmp_path: Path, certs: Certs) -> object:
    return load_modules(
        tmp_path,
        "modules:\n"
        + SMTP_STARTTLS.replace("CA_FILE", str(certs.ca_file))
        + rf"""
  banner:
    prober: tcp
    tcp:
      query_response: [{{expect: "^220 "}}]
  wrong_banner:
    prober: tcp
    tcp:
      query_response: [{{expect: "^SSH-2.0-"}}]
  smtps:
    prober: tcp
    tcp:
      tls: true
      tls_config: {{ca_file: {certs.ca_file}}}
      query_response: [{{expect: "^220 "}}, {{send: "QUIT\r"}}]
  connect_only:
    prober: tcp
  connect_via_streams:
    prober: tcp
    tcp:
      source_ip_address: 127.0.0.1
  ping_pong:
    prober: tcp
    tcp:
      query_response:
        - expect: "^PING :(?P<token>[a-z0-9]+)$"
          send: "PONG ${{token}} $1"
        - expect: "^WELCOME (\\w+)"
          labels: [{{name: user, value: "${{1}}"}}, {{name: step, value: "welcomed"}}]
  exact_bytes:
    prober: tcp
    tcp:
      query_response: [{{expect_bytes: "PING :"}}]
""",
    )


LineServer = Callable[[Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]], Awaitable[int]]


@pytest.fixture
async def line_server() -> AsyncIterator[LineServer]:
    servers: list[asyncio.Server] = []

    async def start(handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]) -> int:
        srv = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(srv)
        return srv.sockets[0].getsockname()[1]

    yield start
    for srv in servers:
        srv.close()


async def test_blackbox_smtp_starttls_example(modules: object, certs: Certs) -> None:
    with smtp_server(tls_context=certs.server_context("valid")) as srv:
        r = await probe(modules, "smtp_starttls", f"localhost:{srv.port}")
    assert r.success, r.log_lines
    assert r.value("probe_tls_verified") == 1
    assert r.value("probe_ssl_earliest_cert_expiry") == pytest.approx(certs.not_after("valid"))
    assert r.value("probe_tls_version_info", version="TLS 1.3") == 1
    assert r.value("probe_expect_info", smtp_host="mx.infrawatch.test") == 1
    assert r.value("probe_failed_due_to_regex") == 0


async def test_starttls_expired_certificate_keeps_tls_metrics(modules: object, certs: Certs) -> None:
    with smtp_server(tls_context=certs.server_context("expired")) as srv:
        r = await probe(modules, "smtp_starttls", f"localhost:{srv.port}")
    assert (r.success, r.failure_reason) == (False, "tls"), r.log_lines
    assert "expired" in r.failure_message
    assert r.value("probe_tls_verified") == 0
    assert r.value("probe_ssl_earliest_cert_expiry") == pytest.approx(certs.not_after("expired"))


async def test_starttls_not_offered(modules: object) -> None:
    """No ``250-STARTTLS`` line comes and the server waits for a command: like blackbox, the
    expect step waits until the deadline (reason timeout, no TLS metrics)."""
    with smtp_server() as srv:
        r = await probe(modules, "smtp_starttls", f"127.0.0.1:{srv.port}", timeout=1.5)
    assert (r.success, r.failure_reason) == (False, "timeout")
    assert r.value("probe_tls_verified") is None


async def test_banner_and_wrong_banner(modules: object) -> None:
    with smtp_server() as srv:
        ok = await probe(modules, "banner", f"127.0.0.1:{srv.port}")
        bad = await probe(modules, "wrong_banner", f"127.0.0.1:{srv.port}", timeout=1.5)
    assert ok.success, ok.log_lines
    assert not bad.success
    # aiosmtpd keeps the connection open: the expect waits until the deadline, like blackbox.
    assert bad.failure_reason == "timeout"


async def test_implicit_tls(modules: object, certs: Certs) -> None:
    with smtp_server(implicit_tls=certs.server_context("valid")) as srv:
        r = await probe(modules, "smtps", f"localhost:{srv.port}")
    assert r.success, r.log_lines
    assert r.value("probe_tls_verified") == 1


async def test_implicit_tls_wrong_host(modules: object, certs: Certs) -> None:
    with smtp_server(implicit_tls=certs.server_context("wrong_host")) as srv:
        r = await probe(modules, "smtps", f"localhost:{srv.port}")
    assert (r.success, r.failure_reason) == (False, "tls")
    assert r.value("probe_tls_verified") == 0
    assert r.value("probe_ssl_earliest_cert_expiry") == pytest.approx(certs.not_after("wrong_host"))


async def test_connect_only_and_refused(modules: object, line_server: LineServer) -> None:
    async def quiet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    port = await line_server(quiet)
    assert (await probe(modules, "connect_only", f"127.0.0.1:{port}")).success
    r = await probe(modules, "connect_only", f"127.0.0.1:{free_port()}")
    assert (r.success, r.failure_reason) == (False, "connect_refused")
    r = await probe(modules, "connect_only", "127.0.0.1")
    assert (r.success, r.failure_reason) == (False, "config")


async def test_bare_connect_path_reports_like_the_stream_path(modules: object, line_server: LineServer) -> None:
    """A plain tcp_connect module takes a cheaper path (a bare socket, no streams); its samples and
    failure reasons must be those of the full path (forced here by a source address)."""

    async def quiet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    port = await line_server(quiet)
    for target in (f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}"):
        bare = await probe(modules, "connect_only", target)
        full = await probe(modules, "connect_via_streams", target)
        assert (bare.success, bare.failure_reason) == (full.success, full.failure_reason)
        assert sorted(metrics(bare)) == sorted(metrics(full))
        volatile = {"probe_duration_seconds", "probe_dns_lookup_time_seconds"}
        assert {k: v for k, v in metrics(bare).items() if k[0] not in volatile} == {
            k: v for k, v in metrics(full).items() if k[0] not in volatile
        }
        if bare.success:
            assert metrics(bare)[("probe_failed_due_to_regex", ())] == 0
        else:
            assert bare.failure_reason == "connect_refused"


async def test_send_expands_groups_and_labels(modules: object, line_server: LineServer) -> None:
    seen: list[str] = []

    async def irc_like(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"NOTICE hello\r\nPING :abc123\r\n")
        seen.append((await reader.readline()).decode())
        writer.write(b"WELCOME alice\r\n")
        await writer.drain()
        writer.close()

    port = await line_server(irc_like)
    r = await probe(modules, "ping_pong", f"127.0.0.1:{port}")
    assert r.success, r.log_lines
    assert seen == ["PONG abc123 abc123\n"]
    assert r.value("probe_expect_info", user="alice", step="welcomed") == 1


async def test_connection_closed_before_match(modules: object, line_server: LineServer) -> None:
    async def hangup(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"PING :x\r\n")
        await reader.readline()
        writer.write(b"GOODBYE\r\n")
        writer.close()

    port = await line_server(hangup)
    r = await probe(modules, "ping_pong", f"127.0.0.1:{port}")
    assert (r.success, r.failure_reason) == (False, "protocol")
    assert r.value("probe_failed_due_to_regex") == 1


async def test_expect_bytes(modules: object, line_server: LineServer) -> None:
    async def ping(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"PING :x\r\n")
        await writer.drain()
        writer.close()

    async def pong(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"PONG :x\r\n")
        await writer.drain()
        writer.close()

    assert (await probe(modules, "exact_bytes", f"127.0.0.1:{await line_server(ping)}")).success
    r = await probe(modules, "exact_bytes", f"127.0.0.1:{await line_server(pong)}")
    assert (r.success, r.failure_reason) == (False, "protocol")
    assert r.value("probe_failed_due_to_bytes") == 1


async def test_source_ip_address(tmp_path: Path, line_server: LineServer) -> None:
    peers: list[str] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername")[0])
        writer.close()

    port = await line_server(record)
    cfg = load_modules(tmp_path, "modules:\n  m: {prober: tcp, tcp: {source_ip_address: 127.0.0.2}}\n")
    r = await probe(cfg, "m", f"127.0.0.1:{port}")
    assert r.success, r.log_lines
    assert peers == ["127.0.0.2"]


async def test_imap_starttls(tmp_path: Path, certs: Certs, line_server: LineServer) -> None:
    """IMAP's STARTTLS (RFC 3501) from a minimal in-test IMAP greeter that upgrades the stream."""

    async def imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n")
        if (await reader.readline()).strip() == b"a1 STARTTLS":
            writer.write(b"a1 OK Begin TLS negotiation now\r\n")
            await writer.drain()
            await writer.start_tls(certs.server_context("valid"))
            if (await reader.readline()).strip() == b"a2 CAPABILITY":
                writer.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na2 OK done\r\n")
                await writer.drain()
        writer.close()

    cfg = load_modules(
        tmp_path,
        rf"""
        modules:
          imap_starttls:
            prober: tcp
            tcp:
              tls_config: {{ca_file: {certs.ca_file}}}
              query_response:
                - expect: "^\\* OK .*STARTTLS"
                - send: "a1 STARTTLS\r"
                - expect: "^a1 OK"
                - starttls: true
                - send: "a2 CAPABILITY\r"
                - expect: "^\\* CAPABILITY .*AUTH=PLAIN"
                - expect: "^a2 OK"
        """,
    )
    r = await probe(cfg, "imap_starttls", f"localhost:{await line_server(imap)}")
    assert r.success, r.log_lines
    assert r.value("probe_tls_verified") == 1


def test_invalid_module_configs(tmp_path: Path) -> None:
    cases = {
        "modules:\n  m:\n    prober: tcp\n    tcp: {query_response: [{expect: '(unclosed'}]}\n": (
            "modules.m.tcp.query_response[0].expect",
            "invalid regular expression",
        ),
        "modules:\n  m:\n    prober: tcp\n    tcp: {query_response: [{exepct: '^220'}]}\n": (
            "modules.m.tcp.query_response[0].exepct",
            "did you mean 'expect'",
        ),
        "modules:\n  m:\n    prober: tcp\n    tcp: {query_response: [{send: x, labels: [{name: a, value: b}]}]}\n": (
            "modules.m.tcp.query_response[0].labels",
            "need an 'expect'",
        ),
        "modules:\n  m:\n    prober: tcp\n"
        "    tcp: {query_response: [{expect: x, labels: [{name: 1bad, value: b}]}]}\n": (
            "modules.m.tcp.query_response[0].labels[0].name",
            "invalid Prometheus label name",
        ),
        "modules:\n  m:\n    prober: tcp\n    tcp: {preferred_ip_protocol: ip5}\n": (
            "modules.m.tcp.preferred_ip_protocol",
            "expected ip4 or ip6",
        ),
        "modules:\n  m:\n    prober: tcp\n    tcp: {tls_config: {insecure_skip_verify: yes please}}\n": (
            "modules.m.tcp.tls_config.insecure_skip_verify",
            "expected true or false",
        ),
        "modules:\n  m:\n    prober: tcp\n    tcp: {query_response: [{expect: a, expect_bytes: b}]}\n": (
            "modules.m.tcp.query_response[0].expect_bytes",
            "cannot both be set",
        ),
        "modules:\n  m:\n    prober: tcp\n    tcp: {source_ip_address: 10.0.0.300}\n": (
            "modules.m.tcp.source_ip_address",
            "not an IP address",
        ),
    }
    for text, (path, words) in cases.items():
        errors = config_errors(tmp_path, text)
        assert len(errors) == 1, (text, errors)
        assert f"invalid.yml:4: {path}: " in errors[0] and words in errors[0], errors


async def test_query_response_labels_named_value_name_help(tmp_path: Path, line_server: LineServer) -> None:
    """Regression: labels were passed as ``**labels`` next to the gauge's own ``name``/``help``/
    ``value`` parameters, so these label names passed validation and every probe failed ``internal``."""
    cfg = load_modules(
        tmp_path,
        r"""
modules:
  banner_labels:
    prober: tcp
    tcp:
      query_response:
        - expect: '^220 (?P<host>\S+) (?P<soft>\S+)'
          labels: [{name: value, value: "${host}"}, {name: name, value: "${soft}"}, {name: help, value: "h"}]
""",
    )

    async def banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 mx.example.org Postfix ready\r\n")
        await writer.drain()
        writer.close()

    port = await line_server(banner)
    r = await probe(cfg, "banner_labels", f"127.0.0.1:{port}")
    assert r.success, (r.failure_reason, r.log_lines)
    assert metrics(r)[("probe_expect_info", (("help", "h"), ("name", "Postfix"), ("value", "mx.example.org")))] == 1
