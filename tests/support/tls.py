"""TLS certificates made at test time (trustme) and aiohttp servers on loopback ports.

Servers run on their own event loop in a background thread, so synchronous tests, async tests
and exporter subprocesses can all reach them.  ``Certs`` writes PEM files into a folder:

- ``ca.pem``: the test CA the probes trust (``tls_config.ca_file``)
- valid: ``localhost``/``127.0.0.1``/``::1``; expired: same names, notAfter in 2020;
  wrong_host: only ``wrong.example.net``; self_signed: issued by a CA nobody trusts
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web

CERT_KINDS = ("valid", "expired", "wrong_host", "self_signed")


class Certs:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.ca = trustme.CA(organization_name="infrawatch test CA")
        self.untrusted_ca = trustme.CA(organization_name="nobody trusts me")
        self.ca_file = folder / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        names = ("localhost", "127.0.0.1", "::1")
        self.certs: dict[str, trustme.LeafCert] = {
            "valid": self.ca.issue_cert(*names),
            "expired": self.ca.issue_cert(
                *names,
                not_before=dt.datetime(2019, 1, 1, tzinfo=dt.UTC),
                not_after=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
            ),
            "wrong_host": self.ca.issue_cert("wrong.example.net"),
            "self_signed": self.untrusted_ca.issue_cert(*names),
        }

    def server_context(self, kind: str) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.certs[kind].configure_cert(ctx)
        return ctx

    def not_after(self, kind: str) -> float:
        from cryptography import x509

        pem = self.certs[kind].cert_chain_pems[0].bytes()
        return x509.load_pem_x509_certificate(pem).not_valid_after_utc.timestamp()


class ServerThread:
    """An event loop in a daemon thread hosting aiohttp apps; ``stop()`` cleans them up."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-servers", daemon=True)
        self.thread.start()
        self.runners: list[web.AppRunner] = []
        self.streams: list[asyncio.Server] = []

    def call(self, coro_fn: Callable[[], Any], timeout: float = 30) -> Any:
        fut: Future = asyncio.run_coroutine_threadsafe(coro_fn(), self.loop)
        return fut.result(timeout)

    def serve(
        self, app: web.Application, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None, port: int = 0
    ) -> int:
        """Start ``app``; returns the bound port."""

        async def start() -> int:
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
            await runner.setup()
            site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
            await site.start()
            self.runners.append(runner)
            return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

        return self.call(start)

    def serve_stream(self, handler: Callable[..., Any], host: str = "127.0.0.1") -> int:
        """Start a raw ``asyncio.start_server`` with ``handler(reader, writer)``; returns the port."""

        async def start() -> int:
            server = await asyncio.start_server(handler, host, 0)
            self.streams.append(server)
            return server.sockets[0].getsockname()[1]

        return self.call(start)

    def stop(self) -> None:
        async def cleanup() -> None:
            for r in self.runners:
                await r.cleanup()
            for srv in self.streams:
                srv.close()
            # handlers still sleeping (slow/hanging targets) end here, not at interpreter exit
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in others:
                t.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        try:
            self.call(cleanup, timeout=15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


def https_servers(servers: ServerThread, certs: Certs, app_factory: Callable[[], web.Application]) -> dict[str, int]:
    """One HTTPS server per certificate kind; returns kind -> port."""
    return {kind: servers.serve(app_factory(), ssl_context=certs.server_context(kind)) for kind in CERT_KINDS}
