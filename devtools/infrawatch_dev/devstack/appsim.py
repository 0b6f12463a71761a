"""An application simulator: the seeds' API server as Prometheus and a health checker see it.

It serves, on one loopback port:
- ``/metrics``: ``http_requests_total{method,path,code}``, the classic histogram
  ``http_request_duration_seconds{method,path}``, ``http_request_size_bytes{method,path}`` (seed
  004's request size), ``http_requests_in_flight``, seed 004's WebSocket series
  (``ws_connections_active{session_id,role}``, ``ws_connections_total{status}``,
  ``ws_messages_{sent,received}_total``, ``ws_connection_duration_seconds``, ``ws_errors_total{type}``) and
  ``email_sent_total{type,status,source_ip}`` (``status`` success or failed: daily volume per sending IP
  for the reputation table, delivery failures for the e-mail panels and EmailDeliveryFailing),
  fed by synthetic traffic generated in a background thread at ``requests_per_second``;
- ``/health``: the seed's JSON (``{"status": "healthy", "checks": {"database": {...}}}``), 200 when
  healthy or degraded, 503 when down; ``/ready`` 200/503;
- ``/_cluster/health``: Elasticsearch-style ``{"status": "green|yellow|red"}`` from the same state
  (Elasticsearch cannot run here; this stands in for it in the dashboards' real-data test);
- ``GET/POST /-/sim``: read or change the knobs (query parameters or a JSON body), so a demo can flip
  the service to degraded or raise the error ratio while it runs.

Knobs: ``error_ratio`` (share of 5xx), ``latency_seconds`` (median request duration; log-normal spread),
``requests_per_second``, ``health`` (healthy|degraded|down), ``emails_per_second``,
``email_failure_ratio`` (share of e-mails the MTA refuses: ``status="failed"``), ``sending_ips``.

Use from Python: ``sim = AppSim(error_ratio=0.1).start(); ...; sim.stop()``; as a script:
``python -m infrawatch_dev.devstack.appsim --web.listen-address=127.0.0.1:0 --error-ratio=0.02`` (or
``python tests/support/appsim.py ...``) prints a JSON "listening" line (like the exporters) and runs
until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import sys
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

HEALTH_STATES = ("healthy", "degraded", "down")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0)
SIZE_BUCKETS = (0, 100, 1_000, 10_000, 100_000, 1_000_000)
WS_SESSIONS = ("studio-1", "studio-2")
WS_ROLES = ("viewer", "host")
WS_ERRORS = ("auth_failed", "rate_limited", "timeout")
ROUTES = (("GET", "/v1/tracks"), ("GET", "/v1/users"), ("POST", "/v1/tracks"), ("GET", "/health"))


@dataclass
class Knobs:
    error_ratio: float = 0.01
    latency_seconds: float = 0.05
    requests_per_second: float = 20.0
    health: str = "healthy"
    emails_per_second: float = 0.5
    email_failure_ratio: float = 0.0
    ws_connections_per_second: float = 2.0
    sending_ips: list[str] = field(default_factory=lambda: ["192.0.2.10"])

    def update(self, values: dict[str, Any]) -> None:
        """Apply knob changes; raises ValueError on an unknown knob or a bad value."""
        for key, raw in values.items():
            if key not in self.__dataclass_fields__:
                raise ValueError(f"unknown knob {key!r}")
            if key == "health":
                if raw not in HEALTH_STATES:
                    raise ValueError(f"health must be one of {HEALTH_STATES}")
                self.health = raw
            elif key == "sending_ips":
                self.sending_ips = raw.split(",") if isinstance(raw, str) else list(raw)
            else:
                value = float(raw)
                if value < 0 or math.isnan(value) or (key in ("error_ratio", "email_failure_ratio") and value > 1):
                    raise ValueError(f"{key} out of range: {raw!r}")
                setattr(self, key, value)


class AppSim:
    """The simulated API server.  Knobs may be changed while it runs (``sim.set(error_ratio=0.2)``)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None, tick_seconds: float = 0.25, **knobs: Any
    ):
        self.knobs = Knobs()
        self.knobs.update(knobs)
        self.tick_seconds = tick_seconds
        self._host, self._port = host, port
        self._rng = random.Random(seed)
        self._size_rng = random.Random(seed)
        self._ws_rng = random.Random(seed)
        self._email_rng = random.Random(seed)  # its own: the request traffic stays as it was
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._carry = {"requests": 0.0, "emails": 0.0, "ws": 0.0}
        self._email_index = 0
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "HTTP requests served.", ["method", "path", "code"], registry=self.registry
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration.",
            ["method", "path"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.size = Histogram(
            "http_request_size_bytes",
            "HTTP request body size.",
            ["method", "path"],
            buckets=SIZE_BUCKETS,
            registry=self.registry,
        )
        # Seed 004's WebSocket server metrics (the same process plays the ws-server).
        self.ws_active = Gauge(
            "ws_connections_active", "Open WebSocket connections.", ["session_id", "role"], registry=self.registry
        )
        self.ws_connections = Counter(
            "ws_connections_total", "WebSocket connections opened and closed.", ["status"], registry=self.registry
        )
        self.ws_sent = Counter("ws_messages_sent_total", "WebSocket messages sent.", registry=self.registry)
        self.ws_received = Counter("ws_messages_received_total", "WebSocket messages received.", registry=self.registry)
        self.ws_duration = Histogram(
            "ws_connection_duration_seconds",
            "WebSocket connection duration.",
            buckets=(60, 300, 3600),
            registry=self.registry,
        )
        self.ws_errors = Counter("ws_errors_total", "WebSocket errors.", ["type"], registry=self.registry)
        for kind in WS_ERRORS:  # present at 0 from the start, as client libraries' users do
            self.ws_errors.labels(kind)
        self.in_flight = Gauge("http_requests_in_flight", "Requests being served.", registry=self.registry)
        self.emails = Counter(
            "email_sent_total", "E-mails handed to the MTA.", ["type", "status", "source_ip"], registry=self.registry
        )
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # ---- knobs -------------------------------------------------------------------------------
    def set(self, **values: Any) -> None:
        with self._lock:
            self.knobs.update(values)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self.knobs)

    # ---- lifecycle -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> AppSim:
        self._server = ThreadingHTTPServer((self._host, self._port), self._handler_class())
        self._server.daemon_threads = True
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="appsim-http", daemon=True),
            threading.Thread(target=self._traffic, name="appsim-traffic", daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self) -> AppSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- synthetic traffic -------------------------------------------------------------------------
    def generate(self, seconds: float) -> int:
        """Record ``seconds`` worth of traffic now (the background thread calls this every tick)."""
        with self._lock:
            k = Knobs(**asdict(self.knobs))
        self._carry["requests"] += k.requests_per_second * seconds
        n, self._carry["requests"] = int(self._carry["requests"]), self._carry["requests"] % 1
        down = k.health == "down"
        for _ in range(n):
            method, path = self._rng.choice(ROUTES)
            if down or self._rng.random() < k.error_ratio:
                code = self._rng.choice(("500", "502", "503"))
            elif self._rng.random() < 0.02:
                code = "404"
            else:
                code = "201" if method == "POST" else "200"
            median = k.latency_seconds * (3 if k.health == "degraded" else 1)
            latency = median * math.exp(self._rng.gauss(0.0, 0.4)) if median > 0 else 0.0
            self.requests.labels(method, path, code).inc()
            self.duration.labels(method, path).observe(latency)
            # GETs carry no body; POSTs about 2 KB (log-normal, own generator: the traffic stays as it was).
            body = 2000 * math.exp(self._size_rng.gauss(0.0, 0.5)) if method == "POST" else 0
            self.size.labels(method, path).observe(body)
        self._carry["emails"] += k.emails_per_second * seconds
        e, self._carry["emails"] = int(self._carry["emails"]), self._carry["emails"] % 1
        for _ in range(e):  # round-robin over the sending IPs, across ticks
            ip = k.sending_ips[self._email_index % len(k.sending_ips)] if k.sending_ips else "unknown"
            self._email_index += 1
            failed = self.emails.labels("transactional", "failed", ip)  # present at 0 from the first e-mail
            if self._email_rng.random() < k.email_failure_ratio:
                failed.inc()
            else:
                self.emails.labels("transactional", "success", ip).inc()
        self._websocket(k, seconds)
        self.in_flight.set(self._rng.randint(0, max(1, int(k.requests_per_second * k.latency_seconds) + 1)))
        return n

    def _websocket(self, k: Knobs, seconds: float) -> None:
        """Connections open and close at ``ws_connections_per_second``; one in ten closes with an error."""
        rng = self._ws_rng
        self._carry["ws"] += k.ws_connections_per_second * seconds
        n, self._carry["ws"] = int(self._carry["ws"]), self._carry["ws"] % 1
        if k.health == "down":
            n = 0
        for _ in range(n):
            self.ws_connections.labels("connected").inc()
            self.ws_connections.labels("disconnected").inc()
            self.ws_duration.observe(300 * math.exp(rng.gauss(0.0, 1.0)))
            self.ws_sent.inc(rng.randint(5, 50))
            self.ws_received.inc(rng.randint(1, 10))
            if rng.random() < 0.1:
                self.ws_errors.labels(rng.choice(WS_ERRORS)).inc()
        for session in WS_SESSIONS:
            for role in WS_ROLES:
                viewers = rng.randint(20, 60) if role == "viewer" else 1
                self.ws_active.labels(session, role).set(0 if k.health == "down" else viewers)

    def _traffic(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.tick_seconds):
            now = time.monotonic()
            self.generate(now - last)
            last = now

    # ---- health documents ----------------------------------------------------------------------------
    def health_document(self) -> tuple[int, dict[str, Any]]:
        k = self.state()
        state = k["health"]
        checks = {
            "database": {"status": "healthy", "latency_ms": 5},
            "redis": {"status": "healthy", "latency_ms": 1},
            "rpc": {"status": "healthy", "latency_ms": 45},
        }
        if state == "degraded":
            checks["rpc"] = {"status": "degraded", "latency_ms": 1800}
        elif state == "down":
            checks["database"] = {"status": "unhealthy", "error": "connection refused"}
        doc = {
            "status": state if state != "down" else "unhealthy",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "version": "1.0.0",
            "checks": checks,
        }
        return (503 if state == "down" else 200), doc

    def cluster_health_document(self) -> dict[str, Any]:
        colour = {"healthy": "green", "degraded": "yellow", "down": "red"}[self.state()["health"]]
        return {
            "cluster_name": "appsim",
            "status": colour,
            "number_of_nodes": 3,
            "active_shards_percent_as_number": {"green": 100.0, "yellow": 66.7, "red": 33.3}[colour],
        }

    # ---- HTTP ----------------------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "appsim/1.0"

            def log_message(self, fmt: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, doc: Any, ctype: str = "application/json") -> None:
                self._send(status, json.dumps(doc).encode(), ctype)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/metrics":
                    self._send(200, generate_latest(sim.registry), CONTENT_TYPE_LATEST)
                elif url.path in ("/health", "/healthz"):
                    status, doc = sim.health_document()
                    self._json(status, doc)
                elif url.path == "/ready":
                    status, _ = sim.health_document()
                    self._json(status, {"ready": status == 200})
                elif url.path == "/_cluster/health":
                    self._json(200, sim.cluster_health_document())
                elif url.path == "/-/sim":
                    self._update(dict(urllib.parse.parse_qsl(url.query)))
                elif url.path == "/":
                    self._send(200, b"appsim: /metrics /health /ready /_cluster/health /-/sim\n", "text/plain")
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path != "/-/sim":
                    self._json(404, {"error": "not found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                values: dict[str, Any] = dict(urllib.parse.parse_qsl(url.query))
                if length:
                    try:
                        values.update(json.loads(self.rfile.read(length)))
                    except (ValueError, TypeError):
                        self._json(400, {"error": "body must be a JSON object"})
                        return
                self._update(values)

            def _update(self, values: dict[str, Any]) -> None:
                try:
                    sim.set(**values)
                except (ValueError, TypeError) as exc:
                    self._json(400, {"error": str(exc)})
                    return
                self._json(200, sim.state())

        return Handler


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Simulated API server for infrawatch demos and tests.")
    p.add_argument("--web.listen-address", dest="listen", default="127.0.0.1:0", help="host:port (port 0 = any)")
    p.add_argument("--error-ratio", type=float, default=0.01)
    p.add_argument("--latency-seconds", type=float, default=0.05)
    p.add_argument("--requests-per-second", type=float, default=20.0)
    p.add_argument("--health", choices=HEALTH_STATES, default="healthy")
    p.add_argument("--emails-per-second", type=float, default=0.5)
    p.add_argument("--email-failure-ratio", type=float, default=0.0, help="share of e-mails that fail")
    p.add_argument("--sending-ips", default="192.0.2.10", help="comma-separated source IPs of sent e-mail")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    sim = AppSim(
        host.strip("[]") or "127.0.0.1",
        int(port),
        seed=args.seed,
        error_ratio=args.error_ratio,
        latency_seconds=args.latency_seconds,
        requests_per_second=args.requests_per_second,
        health=args.health,
        emails_per_second=args.emails_per_second,
        email_failure_ratio=args.email_failure_ratio,
        sending_ips=args.sending_ips,
    )
    sim.start()
    print(json.dumps({"event": "listening", "exporter": "appsim", "addresses": [sim.url]}), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
