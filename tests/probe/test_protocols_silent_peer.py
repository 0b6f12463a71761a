"""A peer that accepts the connection and then says nothing: every protocol prober must give up at
its own deadline with reason ``timeout`` (not hang until the runner cancels it), and leave no
connection open behind it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.protocols import load_modules, probe

MODULES = """
modules:
  tcp: {prober: tcp, tcp: {query_response: [{expect: "^220"}]}}
  smtp: {prober: smtp}
  redis: {prober: redis}
  postgres: {prober: postgres, postgres: {sslmode: disable}}
  elasticsearch: {prober: elasticsearch}
  dns: {prober: dns, dns: {query_name: example.test, transport_protocol: tcp}}
"""


@pytest.fixture
async def silent() -> AsyncIterator[tuple[int, list[asyncio.StreamWriter]]]:
    open_conns: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_conns.append(writer)
        await reader.read()  # until the prober closes its side
        open_conns.remove(writer)
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], open_conns
    server.close()


@pytest.mark.parametrize("module", ["tcp", "smtp", "redis", "postgres", "elasticsearch", "dns"])
async def test_silent_peer_times_out(tmp_path: Path, silent: tuple[int, list], module: str) -> None:
    port, open_conns = silent
    cfg = load_modules(tmp_path, MODULES)
    r = await probe(cfg, module, f"127.0.0.1:{port}", timeout=1.0)
    assert (r.success, r.failure_reason) == (False, "timeout"), r.log_lines
    assert ("cancelled" not in r.failure_message and "deadline" in r.failure_message) or module == "dns", (
        r.failure_message
    )
    for _ in range(100):  # the peer sees EOF once the prober has closed its socket
        if not open_conns:
            break
        await asyncio.sleep(0.02)
    assert open_conns == []
