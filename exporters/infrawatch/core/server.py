"""The HTTP server both exporters share.

An exporter subclasses ``Exporter`` and provides:
- ``load_config(path)`` returning a config object (raising ``ConfigError`` with located problems),
- ``apply_config(config)`` to switch the running state to a new config,
- ``collectors()`` yielding client_python collectors for ``/metrics``,
- ``routes(app)`` for its own endpoints and ``status_page(request)`` for ``/``.

The server owns the contract of docs/architecture.md ("The exporter contract"): ``/metrics``,
``/-/healthy``, ``/-/ready``,
``POST /-/reload`` (and SIGHUP), ``/config`` (masked), web config (TLS, basic auth), self metrics,
and the rule that a bad reload keeps the old configuration in force.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import ssl
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from .. import __version__
from . import selfmetrics, weburl
from .config import ConfigError, to_public, walk_secrets
from .hostport import HostPortError, split_host_port
from .html import escape, page
from .logs import register_secrets, setup_logging
from .webconfig import AuthBusy, BasicAuth, WebConfig, load_web_config

log = logging.getLogger("infrawatch")


def common_flags(prog: str, description: str, default_config: str, default_listen: str) -> argparse.ArgumentParser:
    """The flags every infrawatch exporter accepts (Prometheus exporter conventions)."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument(
        "--config.file",
        dest="config_file",
        default=default_config,
        help=f"configuration file (default {default_config})",
    )
    p.add_argument(
        "--web.listen-address",
        dest="listen",
        action="append",
        default=None,
        help=f"address to listen on, repeatable (default {default_listen})",
    )
    p.add_argument(
        "--web.config.file",
        dest="web_config",
        default="",
        help="exporter-toolkit web config: tls_server_config, basic_auth_users",
    )
    p.add_argument("--log.level", dest="log_level", default="info", choices=["debug", "info", "warn", "error"])
    p.add_argument("--log.format", dest="log_format", default="logfmt", choices=["logfmt", "json"])
    p.add_argument(
        "--config.check",
        dest="config_check",
        action="store_true",
        help="validate the configuration, print problems, exit 0 if valid and 2 if not",
    )
    weburl.add_flags(p)  # --web.external-url, --web.route-prefix
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.set_defaults(default_listen=default_listen)
    return p


def parse_listen(addr: str) -> tuple[str, int]:
    """``:9115`` -> ("0.0.0.0", 9115); ``[::1]:9115`` -> ("::1", 9115)."""
    try:
        host, port = split_host_port(addr, zero_port=True)
    except HostPortError as exc:
        raise ValueError(f"invalid listen address {addr!r}: {exc}") from None
    return host or "0.0.0.0", port


class SelfCollector(Collector):
    """``infrawatch_build_info`` and the reload gauges."""

    def __init__(self, exporter: Exporter):
        self.exporter = exporter

    def collect(self) -> Iterable[GaugeMetricFamily]:
        e = self.exporter
        g = selfmetrics.BUILD_INFO.client()
        g.add_metric([__version__, e.name, sys.version.split()[0]], 1)
        yield g
        yield selfmetrics.RELOAD_SUCCESSFUL.client(value=1 if e.last_reload_ok else 0)
        yield selfmetrics.RELOAD_SUCCESS_TIMESTAMP.client(value=e.last_reload_success_ts)


@dataclass(frozen=True)
class Generation:
    """One loaded configuration: what start-up or a reload put in force, as a whole.

    Whatever is built from a configuration (the probe exporter's TLS client contexts live on its
    config object) belongs to its generation and is dropped with it.
    """

    number: int  # 1 at start-up, +1 per successful reload
    config: Any
    web: WebConfig
    loaded_at: float


class Exporter:
    """Base class; see module docstring."""

    name = "exporter"
    title = "infrawatch exporter"

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.weburl = weburl.from_args(args)  # status pages link with self.weburl.path
        self.config: Any = None  # generation.config, kept as an attribute for the subclasses
        self.generation: Generation | None = None
        self.web: WebConfig = WebConfig()
        self.auth = BasicAuth({})
        self.last_reload_ok = True
        self.last_reload_success_ts = 0.0
        self.last_reload_error = ""
        self.ready = False
        self.started = time.time()
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.registry.register(SelfCollector(self))
        self._reload_lock = asyncio.Lock()
        self._ssl: ssl.SSLContext | None = None
        self._runner: web.AppRunner | None = None

    # -- hooks for subclasses -------------------------------------------------------------
    def load_config(self, path: str) -> Any:
        raise NotImplementedError

    async def apply_config(self, config: Any) -> None:
        raise NotImplementedError

    def collectors(self) -> Iterable[Collector]:
        return ()

    def routes(self, app: web.Application) -> None:
        pass

    async def status_page(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text=page(self.title, f"<h1>{escape(self.title)}</h1>"), content_type="text/html")

    async def on_shutdown(self) -> None:
        pass

    def config_warnings(self, config: Any) -> list[str]:
        return list(getattr(config, "warnings", []) or [])

    # -- configuration --------------------------------------------------------------------
    def _register_config_secrets(self, config: Any) -> None:
        register_secrets(set(walk_secrets(config)))

    async def reload(self) -> tuple[bool, str]:
        """``POST /-/reload`` and SIGHUP: the same load-and-apply as start-up."""
        return await self.load_and_apply()

    async def load_and_apply(self) -> tuple[bool, str]:
        """The one load path (start-up and every reload): load the configuration and web config,
        and only when both are valid apply them as a new ``Generation``.  On any problem the
        running generation (if any) stays in force and the problems are reported."""
        first = self.generation is None
        failed = "invalid configuration" if first else "configuration reload failed, keeping the previous configuration"
        async with self._reload_lock:
            try:
                new = await asyncio.get_running_loop().run_in_executor(None, self.load_config, self.args.config_file)
                web_cfg = load_web_config(self.args.web_config)
            except ConfigError as exc:
                self.last_reload_ok = False
                self.last_reload_error = str(exc)
                for p in exc.problems:
                    log.error(failed, extra={"problem": str(p)})
                return False, str(exc)
            except Exception as exc:  # an unexpected bug must not take the old config down
                self.last_reload_ok = False
                self.last_reload_error = f"{type(exc).__name__}: {exc}"
                log.exception(failed)
                return False, self.last_reload_error
            generation = Generation(
                number=1 if self.generation is None else self.generation.number + 1,
                config=new,
                web=web_cfg,
                loaded_at=time.time(),
            )
            self._register_config_secrets(new)
            await self.apply_config(new)
            self.generation = generation
            self.config = new
            self._apply_web_config(web_cfg)
            self.last_reload_ok = True
            self.last_reload_error = ""
            self.last_reload_success_ts = generation.loaded_at
            for w in self.config_warnings(new):
                log.warning("configuration warning", extra={"problem": str(w)})
            log.info("configuration loaded", extra={"file": self.args.config_file, "generation": generation.number})
            return True, "configuration loaded" if first else "configuration reloaded"

    def _apply_web_config(self, cfg: WebConfig) -> None:
        self.web = cfg
        if cfg.basic_auth_users != self.auth.users:  # unchanged users keep the credentials cache
            self.auth.close()
            self.auth = BasicAuth(cfg.basic_auth_users)
        if self._ssl is not None:
            cfg.ssl_context(self._ssl)  # new certificates apply to new connections

    # -- HTTP -------------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            ok = await self.auth.check(request.headers.get("Authorization"))
        except AuthBusy:
            return web.Response(status=429, text="Too many authentication attempts\n", headers={"Retry-After": "1"})
        if not ok:
            return web.Response(
                status=401, text="Unauthorized\n", headers={"WWW-Authenticate": 'Basic realm="infrawatch"'}
            )
        resp = await handler(request)
        for k, v in self.web.http_server_config.headers.items():
            resp.headers[k] = v
        return resp

    async def _metrics(self, request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = (
            await asyncio.get_running_loop().run_in_executor(None, encoder, self.registry)
            if self.metrics_in_thread
            else encoder(self.registry)
        )
        return web.Response(body=body, headers={"Content-Type": content_type})

    metrics_in_thread = False

    async def _healthy(self, request: web.Request) -> web.Response:
        return web.Response(text="Healthy\n")

    async def _ready(self, request: web.Request) -> web.Response:
        if not self.ready:
            return web.Response(status=503, text="Not ready\n")
        return web.Response(text="Ready\n")

    async def _reload_handler(self, request: web.Request) -> web.Response:
        ok, msg = await self.reload()
        return web.Response(status=200 if ok else 500, text=msg + "\n")

    async def _config_handler(self, request: web.Request) -> web.Response:
        body = to_public(self.config)
        if request.query.get("format") == "json":
            return web.json_response(body)
        import yaml

        return web.Response(text=yaml.safe_dump(body, sort_keys=False), content_type="text/plain")

    def make_app(self) -> web.Application:
        # Subclass collectors are registered here, after the subclass finished __init__.
        for c in self.collectors():
            self.registry.register(c)
        app = web.Application(middlewares=[self._middleware], client_max_size=1 << 20)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/-/healthy", self._healthy)
        app.router.add_get("/-/ready", self._ready)
        app.router.add_post("/-/reload", self._reload_handler)
        app.router.add_put("/-/reload", self._reload_handler)
        app.router.add_get("/config", self._config_handler)
        app.router.add_get("/", self.status_page)
        self.routes(app)
        return weburl.mount(app, self.weburl.route_prefix, client_max_size=1 << 20)

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self, listen: list[str]) -> list[tuple[str, int]]:
        """Start serving; returns the bound (host, port) pairs (port 0 picks a free one)."""
        app = self.make_app()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._ssl = self.web.ssl_context()
        bound = []
        for addr in listen:
            host, port = parse_listen(addr)
            site = web.TCPSite(self._runner, host, port, ssl_context=self._ssl, reuse_address=True)
            await site.start()
            for sock in site._server.sockets:  # type: ignore[union-attr]
                bound.append(sock.getsockname()[:2])
        self.ready = True
        return bound

    async def stop(self) -> None:
        self.ready = False
        await self.on_shutdown()
        if self._runner:
            await self._runner.cleanup()
        self.auth.close()


def check_config(exporter_cls: type[Exporter], args: argparse.Namespace) -> int:
    """``--config.check``: print every problem, exit 0 when valid and 2 when not."""
    ex = exporter_cls.__new__(exporter_cls)
    ex.args = args
    try:
        cfg = ex.load_config(args.config_file)
        load_web_config(args.web_config)
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 2
    for w in ex.config_warnings(cfg):
        print(f"warning: {w}", file=sys.stderr)
    print(f"{args.config_file}: configuration is valid")
    return 0


def run(
    exporter_cls: type[Exporter], argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None
) -> int:
    """Entry point shared by the exporters' ``main()``."""
    assert parser is not None
    args = parser.parse_args(argv)
    setup_logging(args.log_level, args.log_format)
    try:
        weburl.from_args(args)
    except weburl.WebURLError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.config_check:
        return check_config(exporter_cls, args)
    return asyncio.run(_serve(exporter_cls, args))


async def _serve(exporter_cls: type[Exporter], args: argparse.Namespace) -> int:
    ex = exporter_cls(args)
    ok, problems = await ex.load_and_apply()
    if not ok:
        print(problems, file=sys.stderr)
        return 2
    listen = args.listen or [args.default_listen]
    try:
        bound = await ex.start(listen)
    except OSError as exc:
        log.error("cannot listen", extra={"err": str(exc)})
        return 1
    scheme = "https" if ex._ssl else "http"
    for host, port in bound:
        log.info("listening", extra={"address": f"{scheme}://{host}:{port}/"})
    # A machine-readable line so scripts and tests that ask for port 0 learn the real one.
    print(
        json.dumps({"event": "listening", "exporter": ex.name, "addresses": [f"{scheme}://{h}:{p}" for h, p in bound]}),
        flush=True,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(ex.reload()))
    await stop.wait()
    log.info("shutting down")
    await ex.stop()
    return 0
