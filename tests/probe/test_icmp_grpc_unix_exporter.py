"""icmp, grpc and unix through the real exporter process: scheduled targets (one of them a socket
path) rendered on /metrics with their labels, ``promtool check metrics`` clean, the status page,
and /probe for a socket path allowed by a path entry of allowed_targets (and refused otherwise)."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from support.grpcserver import health_server
from support.probeutil import ExporterProc
from support.procs import require_binary


@pytest.fixture
def unix_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Unix-socket PING/PONG server on its own loop in a thread."""
    path = str(tmp_path_factory.mktemp("s", numbered=True) / "app.sock")
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def pong(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if (await reader.readline()).strip() == b"PING":
            writer.write(b"PONG\n")
            await writer.drain()
        writer.close()

    stop = asyncio.Event()

    async def main() -> None:
        server = await asyncio.start_unix_server(pong, path)
        started.set()
        async with server:
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert started.wait(10)
    yield path
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


def test_scheduled_and_probe(tmp_path: Path, unix_socket: str) -> None:
    with health_server() as grpc_server:
        cfg = {
            "modules": {
                "icmp": {"prober": "icmp", "timeout": "2s", "icmp": {"preferred_ip_protocol": "ip4"}},
                "grpc": {"prober": "grpc", "timeout": "2s", "grpc": {"service": "down.Svc"}},
                "unix_ping": {
                    "prober": "unix",
                    "timeout": "2s",
                    "unix": {"query_response": [{"send": "PING"}, {"expect": "^PONG$"}]},
                },
            },
            "allowed_targets": [str(Path(unix_socket).parent) + "/*.sock"],
            "scheduler": {"interval": "1s", "timeout": "2s"},
            "targets": [
                {"target": "127.0.0.1", "module": "icmp", "service": "net", "labels": {"site": "lab"}},
                {"target": f"127.0.0.1:{grpc_server.port}", "module": "grpc", "service": "rpc"},
                {"target": unix_socket, "module": "unix_ping", "service": "app"},
            ],
        }
        path = tmp_path / "probe.yml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        e = ExporterProc(path, tmp_path)
        try:
            deadline = time.monotonic() + 20
            want = {("icmp", 1.0), ("grpc", 0.0), ("unix_ping", 1.0)}
            seen: set[tuple[str, float]] = set()
            while time.monotonic() < deadline and seen != want:
                seen = {(m, e.metric("probe_success", module=m)) for m, _ in want}
                time.sleep(0.3)
            assert seen == want
            assert e.metric("probe_icmp_reply_hop_limit", module="icmp", site="lab") == 64
            assert e.metric("probe_grpc_healthcheck_response", module="grpc", serving_status="NOT_SERVING") == 1
            assert e.metric("probe_failure_info", module="grpc", reason="health_check") == 1
            assert e.metric("probe_success", target=unix_socket) == 1
            _, text = e.get("/metrics")
            promtool = require_binary("promtool")
            check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
            assert check.returncode == 0, check.stdout + check.stderr
            code, page = e.get("/")
            assert code == 200 and unix_socket in page and "grpc" in page
            q = urllib.parse.urlencode({"module": "unix_ping", "target": unix_socket})
            code, text = e.get(f"/probe?{q}")
            assert code == 200 and "probe_success 1" in text
            q = urllib.parse.urlencode({"module": "unix_ping", "target": "/var/run/docker.sock"})
            code, text = e.get(f"/probe?{q}")
            assert code == 403 and "/var/run/docker.sock" in text
        finally:
            e.stop()
