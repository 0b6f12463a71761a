"""/metrics latency and result age with a quarter of the scheduled targets pathological (issue 15).

    python -m bench.pathological [--healthy 600] [--bad 200] [--interval 10] [--seconds 40]

Starts loopback servers in this process: healthy HTTP (aiohttp), and in equal parts targets that
hang (accept, never answer), slowloris (one header byte every 0.5 s), reset (RST on accept), an
endless chunked body, and a TLS stall (TCP accepted, no handshake).  Runs the probe exporter with
all of them as scheduled targets at ``--interval`` (default concurrency, ``slow_after``), waits one
interval plus 2 s, then scrapes ``/metrics`` every 0.5 s for ``--seconds``: p50/p99/max scrape
latency, and each healthy target's result age (now - ``probe_result_timestamp_seconds``).  Goals
from the issue: p99 <= 50 ms, age <= interval + 1 s.  Prints and writes
bench/results/pathological.json; the load average is recorded (shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import struct
import tempfile
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import yaml
from aiohttp import web

from infrawatch_dev.devstack.exporters import ExporterProc

KINDS = ("hang", "slowloris", "reset", "endless", "tls_stall")


async def _hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)


async def _slowloris(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 3600:
        writer.write(bytes([byte]))
        await asyncio.sleep(0.5)


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (4096, b"z" * 4096)
    while True:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.05)


def _quiet(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """The handler, ending quietly when the peer goes away (what these servers expect)."""

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.CancelledError):
            writer.transport.abort()

    return run


HANDLERS = {
    name: _quiet(fn)
    for name, fn in {"hang": _hang, "slowloris": _slowloris, "reset": _reset, "endless": _endless}.items()
}
HANDLERS["tls_stall"] = HANDLERS["hang"]


class Servers:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.loop.set_exception_handler(lambda loop, context: None)  # peers reset by design
        self.thread.start()
        self.ports: dict[str, int] = {}

    def start(self) -> None:
        async def go() -> None:
            app = web.Application()

            async def ok(request: web.Request) -> web.Response:
                return web.Response(text="ok\n")

            app.router.add_get("/ok", ok)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
            await site.start()
            self.ports["healthy"] = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            for kind, handler in HANDLERS.items():
                srv = await asyncio.start_server(handler, "127.0.0.1", 0, backlog=1024)
                self.ports[kind] = srv.sockets[0].getsockname()[1]

        asyncio.run_coroutine_threadsafe(go(), self.loop).result(30)

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)


_TS = re.compile(rb'^probe_result_timestamp_seconds\{[^}]*service="healthy"[^}]*\} (\S+)$', re.M)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--healthy", type=int, default=600)
    ap.add_argument("--bad", type=int, default=200)
    ap.add_argument("--interval", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--out", default="bench/results/pathological.json")
    args = ap.parse_args(argv)
    servers = Servers()
    servers.start()
    p = servers.ports
    targets = [
        {"target": f"http://127.0.0.1:{p['healthy']}/ok?i={i}", "module": "http", "service": "healthy"}
        for i in range(args.healthy)
    ]
    for i in range(args.bad):
        kind = KINDS[i % len(KINDS)]
        scheme = "https" if kind == "tls_stall" else "http"
        targets.append({"target": f"{scheme}://127.0.0.1:{p[kind]}/{kind}/{i}", "module": "http", "service": kind})
    work = Path(tempfile.mkdtemp(prefix="infrawatch-pathological-"))
    cfg = work / "probe.yml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "modules": {"http": {"prober": "http", "timeout": "5s", "http": {"preferred_ip_protocol": "ip4"}}},
                "scheduler": {"interval": f"{args.interval:g}s"},
                "targets": targets,
            }
        )
    )
    e = ExporterProc(cfg, work)
    try:
        time.sleep(args.interval + 2)
        latencies: list[float] = []
        ages: list[float] = []
        worst_age = 0.0
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            with urllib.request.urlopen(e.url + "/metrics", timeout=10) as r:
                body = r.read()
            latencies.append(time.perf_counter() - t0)
            now = time.time()
            sample = [now - float(m) for m in _TS.findall(body)]
            missing = args.healthy - len(sample)
            ages.extend(sample)
            worst_age = max(worst_age, *sample) if sample else worst_age
            if missing:
                worst_age = float("inf")
            time.sleep(0.5)
        result = {
            "targets": {"healthy": args.healthy, "pathological": args.bad, "kinds": list(KINDS)},
            "interval_seconds": args.interval,
            "scrapes": len(latencies),
            "metrics_latency_ms": {
                "p50": round(percentile(latencies, 0.5) * 1000, 1),
                "p99": round(percentile(latencies, 0.99) * 1000, 1),
                "max": round(max(latencies) * 1000, 1),
            },
            "healthy_result_age_seconds": {
                "p99": round(percentile(ages, 0.99), 2),
                "max": round(worst_age, 2),
            },
            "scheduler_lag_seconds": e.metric("infrawatch_scheduler_lag_seconds"),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
        }
    finally:
        e.stop()
        servers.stop()
    print(json.dumps(result, indent=2))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
