"""blackbox_exporter's own module files load unchanged and run (tests/probe/data/blackbox/)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from infrawatch.probe.config import load_probe_config
from infrawatch.probe.runner import run_probe
from support.probeutil import Targets

DATA = Path(__file__).parent / "data" / "blackbox"
FILES = sorted(p.name for p in DATA.glob("*.yml"))


def test_the_four_upstream_files_are_there() -> None:
    assert FILES == ["blackbox-0.23.yml", "blackbox-main.yml", "example-0.23.yml", "example-main.yml"]


@pytest.mark.parametrize("name", FILES)
def test_upstream_file_loads_unchanged(name: str) -> None:
    cfg = load_probe_config(DATA / name)
    raw = (DATA / name).read_text()
    assert len(cfg.modules) == raw.count("\n    prober: ")
    # Every warning is located (file:line: key.path: message).
    for w in cfg.warnings:
        assert w.line and str(w).startswith(f"{DATA / name}:{w.line}: modules."), str(w)


def test_missing_files_are_warnings_naming_the_key() -> None:
    cfg = load_probe_config(DATA / "example-main.yml")
    warned = {".".join(str(p) for p in w.path) for w in cfg.warnings if "file not found" in w.message}
    assert warned == {
        "modules.http_post_body_file.http.body_file",
        "modules.http_custom_ca_example.http.tls_config.ca_file",
        "modules.rabbitmq.tcp.tls_config.ca_file",
        "modules.rabbitmq_insecure.tcp.tls_config.ca_file",
        "modules.http_with_header_from_files.http.http_headers.X-API-Key.files.0",
    }


def _run(cfg, module: str, target: str, timeout: float = 3.0):
    return asyncio.run(run_probe(target, module, cfg.modules[module], timeout, tls=cfg.tls))


def test_missing_ca_fails_the_module_with_a_clear_reason_until_it_exists(tmp_path: Path, targets: Targets) -> None:
    ca = tmp_path / "certs" / "ca.pem"
    f = tmp_path / "bb.yml"
    f.write_text(f"modules:\n  m:\n    prober: http\n    http:\n      tls_config:\n        ca_file: {ca}\n")
    cfg = load_probe_config(f)
    assert any("file not found" in w.message for w in cfg.warnings)
    r = _run(cfg, "m", targets.https("valid"))
    assert not r.success and r.failure_reason == "config"
    assert "http.tls_config.ca_file" in r.failure_message and str(ca) in r.failure_message
    ca.parent.mkdir()
    shutil.copy(targets.certs.ca_file, ca)  # mounted later: the next probe uses it
    r = _run(cfg, "m", targets.https("valid"))
    assert r.success, r.log_lines


def test_missing_header_and_body_files_fail_the_probe_as_config(tmp_path: Path, targets: Targets) -> None:
    cfg = load_probe_config(DATA / "example-main.yml")
    for module in ("http_with_header_from_files", "http_post_body_file"):
        r = _run(cfg, module, targets.http())
        assert not r.success and r.failure_reason == "config", (module, r.failure_message)
        assert "cannot read" in r.failure_message


def test_http3_module_loads_and_its_probes_fail_saying_why() -> None:
    cfg = load_probe_config(DATA / "blackbox-main.yml")
    words = "enable_http3 (blackbox 0.27+) is not supported"
    r = _run(cfg, "http_3xx", "127.0.0.1:1")
    assert not r.success and r.failure_reason == "config"
    assert words in r.failure_message, r.failure_message
    assert any(words in w.message for w in cfg.warnings)


def test_websocket_module_loads_and_its_probes_fail_naming_the_blackbox_version(tmp_path: Path) -> None:
    f = tmp_path / "ws.yml"
    f.write_text(
        "modules:\n  ws:\n    prober: websocket\n    websocket:\n      query_response:\n"
        "        - send: ping\n        - expect: pong\n  ok:\n    prober: tcp\n"
    )
    cfg = load_probe_config(f)
    (w,) = [w for w in cfg.warnings if w.path[-1] == "prober"]
    assert str(w).startswith(f"{f}:3: modules.ws.prober: ") and "unreleased after 0.28" in w.message
    r = _run(cfg, "ws", "ws://127.0.0.1:1/")
    assert not r.success and r.failure_reason == "config" and "websocket" in r.failure_message


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("blackbox-0.23.yml", "icmp"),
        ("blackbox-0.23.yml", "icmp_ttl5"),
        ("blackbox-0.23.yml", "grpc"),
        ("blackbox-main.yml", "grpc_plain"),
        ("example-0.23.yml", "icmp_example"),
        ("example-main.yml", "unix_socket_ping"),
    ],
)
def test_icmp_grpc_unix_modules_load_as_implemented_probers(name: str, module: str) -> None:
    cfg = load_probe_config(DATA / name)
    assert not cfg.modules[module].unsupported
    assert not [w for w in cfg.warnings if f"modules.{module}." in str(w)]
    if cfg.modules[module].prober == "icmp":  # the ones that need no server: ping loopback
        r = _run(cfg, module, "127.0.0.1")
        assert r.success, r.log_lines


def test_upstream_modules_run_against_loopback(targets: Targets) -> None:
    """The modules that need no outside service probe a local target and agree with it."""
    cfg = load_probe_config(DATA / "blackbox-0.23.yml")
    assert _run(cfg, "http_2xx", targets.http()).success
    assert _run(cfg, "tcp_connect", f"127.0.0.1:{targets.http_port}").success
    post = _run(cfg, "http_post_2xx", targets.http("/echo"))
    assert post.success, post.log_lines
    cfg = load_probe_config(DATA / "example-0.23.yml")
    r = _run(cfg, "http_gzip", targets.http("/gzip"))
    assert r.success, r.log_lines


def test_binary_send_and_expect_bytes_of_the_postgresql_example(targets: Targets) -> None:
    """example-main.yml's ``postgresql`` module: ``send: !!binary`` goes out as those bytes (plus the
    newline blackbox appends) and ``expect_bytes: S`` fails on a server answering ``N``."""
    got: list[bytes] = []

    async def no_ssl(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.readexactly(9))
        writer.write(b"N")
        await writer.drain()
        writer.close()

    port = targets.servers.serve_stream(no_ssl)
    cfg = load_probe_config(DATA / "example-main.yml")
    r = _run(cfg, "postgresql", f"127.0.0.1:{port}")
    assert got == [b"\x00\x00\x00\x08\x04\xd2\x16\x2f\n"]
    assert not r.success and r.value("probe_failed_due_to_bytes") == 1
