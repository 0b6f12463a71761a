"""The service-probe exporter: /probe (blackbox-compatible), scheduled targets, status page."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Iterator

import yaml
from aiohttp import web
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from ..core import selfmetrics
from ..core.config import to_public
from ..core.logs import scrub
from ..core.scheduler import Job, Scheduler
from ..core.server import Exporter
from ..core.tlsclient import ClientContexts
from .allowlist import AllowList, TargetError, target_host
from .config import ProbeConfig, load_probe_config
from .failures import FailureReason
from .module import ModuleBase
from .results import RecentProbes, ResultStore, ScheduledTarget, render_samples
from .runner import ProbeResult, outcome_samples, run_probe
from .statuspage import StatusView, render_status_page
from .table import preload
from .targets import FileSD, in_shard, static_targets

log = logging.getLogger("infrawatch.probe")


def with_host(module: ModuleBase, hostname: str) -> tuple[ModuleBase, str]:
    """blackbox's ``hostname=`` URL parameter: a copy of the http module sending ``Host: hostname``
    (and so using it for SNI); an error when the module sets another Host header."""
    section = module.section()
    for name, value in section.headers.items():
        if name.lower() == "host" and value != hostname:
            return module, (
                f"host header defined both in module configuration ({value}) and with URL-parameter "
                f"'hostname' ({hostname})"
            )
    headers = {k: v for k, v in section.headers.items() if k.lower() != "host"}
    headers["Host"] = hostname
    return dataclasses.replace(module, http=dataclasses.replace(section, headers=headers)), ""  # type: ignore[call-arg]


def _hop_check(allow: AllowList, target_host_: str) -> Callable[[str], bool]:
    """The allow-list check for the hosts a ``/probe`` request goes on to (redirect hops): the
    target's own host (allowed or configured) and what ``allowed_targets`` allows."""

    def allowed(host: str) -> bool:
        try:
            host = target_host(host)
        except TargetError:
            return False
        return host == target_host_ or allow.allows(host)

    return allowed


class SelfMetrics(Collector):
    """Counters and gauges about the exporter's own work (contracts: probes, refusals, schedule)."""

    def __init__(self, ex: ProbeExporter) -> None:
        self.ex = ex

    def collect(self) -> Iterator[Metric]:
        ex = self.ex
        m = selfmetrics.PROBES.client()
        for (module, result), n in sorted(ex.probe_counts.items()):
            m.add_metric([module, result], n)
        yield m
        m = selfmetrics.PROBE_REFUSED.client()
        for reason in ("not_allowed", "unknown_module", "bad_target"):
            m.add_metric([reason], ex.refused.get(reason, 0))
        yield m
        yield selfmetrics.SCHEDULED_TARGETS.client(value=len(ex.store.targets))
        yield selfmetrics.SCHEDULER_LAG.client(value=ex.scheduler.max_lag() if ex.scheduler else 0.0)
        yield selfmetrics.PROBES_IN_FLIGHT.client(value=ex.in_flight)
        yield selfmetrics.FILE_SD_ERRORS.client(value=len(ex.file_sd.errors()))


class ProbeExporter(Exporter):
    name = "probe"
    title = "infrawatch service probes"
    metrics_in_thread = False

    def __init__(self, args: argparse.Namespace):
        super().__init__(args)
        self.config: ProbeConfig | None = None
        self.store = ResultStore()
        self.recent = RecentProbes()
        self.scheduler: Scheduler | None = None
        self.file_sd = FileSD()
        self._file_sd_task: asyncio.Task | None = None
        self.probe_concurrency = 64
        self.probe_sem = asyncio.Semaphore(self.probe_concurrency)
        self.probe_counts: dict[tuple[str, str], int] = {}
        self.refused: dict[str, int] = {}
        self.in_flight = 0
        self.configured_targets: set[str] = set()
        self.shard: tuple[int, int] | None = getattr(args, "shard", None)
        self.timeout_offset: float = getattr(args, "timeout_offset", 0.5)
        # --probe.allowed-targets (flags), added to each loaded file's allowed_targets
        self.flag_allowed: list[str] = [e for group in getattr(args, "allowed_targets", None) or [] for e in group]
        self.allow = AllowList(self.flag_allowed)

    # -- config -----------------------------------------------------------------------------
    def load_config(self, path: str) -> ProbeConfig:
        return load_probe_config(path)

    async def apply_config(self, config: ProbeConfig) -> None:
        preload(m.prober for m in config.modules.values())
        self.allow = AllowList([*config.allowed_targets, *self.flag_allowed])
        self.config = config
        self._log_allow_list(config)
        if self.scheduler is None:
            self.scheduler = Scheduler(config.scheduler.concurrency, float(config.scheduler.slow_after))
        elif self.scheduler.concurrency != config.scheduler.concurrency:
            self.scheduler.sem = asyncio.Semaphore(config.scheduler.concurrency)
            self.scheduler.concurrency = config.scheduler.concurrency
            self.scheduler.slow_limit = 4 * config.scheduler.concurrency
        self.scheduler.slow_after = float(config.scheduler.slow_after)
        if self.probe_concurrency != config.probe_endpoint.concurrency:
            # Probes holding the old semaphore release it; new requests queue on the new one.
            self.probe_concurrency = config.probe_endpoint.concurrency
            self.probe_sem = asyncio.Semaphore(self.probe_concurrency)
        self.recent.resize(config.probe_endpoint.history)
        self.file_sd.configure(config)
        self.file_sd.refresh()
        self._reschedule()
        if self._file_sd_task is None and config.file_sd:
            self._file_sd_task = asyncio.create_task(self._watch_file_sd(), name="file_sd")

    def _config_file(self) -> str:
        return getattr(self.args, "config_file", "") or "the configuration file"

    def _log_allow_list(self, config: ProbeConfig) -> None:
        if self.allow.entries:
            log.info(
                "/probe allowed targets",
                extra={"file": list(config.allowed_targets), "flag": self.flag_allowed},
            )
        else:
            log.warning(
                "/probe refuses every target not scheduled in the file: no allowed_targets. Add "
                '--probe.allowed-targets=HOST[,HOST...] (host, *.domain, IP, CIDR or "*") to the command '
                "line, or allowed_targets: [...] to %s",
                self._config_file(),
            )

    def _reschedule(self) -> None:
        assert self.config is not None and self.scheduler is not None
        merged: dict[tuple[str, str], ScheduledTarget] = {}
        every = [*static_targets(self.config), *self.file_sd.targets()]
        # Configured targets (of every shard) are always allowed on /probe.
        self.configured_targets = {t.target for t in every}
        for t in every:
            if in_shard(t, self.shard):
                merged.setdefault(t.key, t)  # config targets win over file_sd duplicates
        self.store.set_targets(merged.values())
        jobs = [
            Job(key=t.key, interval=t.interval, run=self._job(t), spec=(t.service, tuple(t.labels.items())))
            for t in merged.values()
        ]
        self.scheduler.set_jobs(jobs)

    def _job(self, t: ScheduledTarget):
        async def run() -> None:
            cfg = self.config
            if cfg is None or t.module not in cfg.modules:
                return
            module = cfg.modules[t.module]
            timeout = float(module.timeout) or float(cfg.scheduler.timeout)
            result = await self._probe(t.target, t.module, module, min(timeout, t.interval), tls=cfg.tls)
            self.store.put(result)

        return run

    async def _watch_file_sd(self) -> None:
        while True:
            secs = [s.refresh_interval for s in self.config.file_sd] if self.config else []
            await asyncio.sleep(min(secs) if secs else 5.0)
            try:
                if self.file_sd.refresh():
                    self._reschedule()
            except Exception:
                log.exception("file_sd refresh failed")

    async def on_shutdown(self) -> None:
        if self._file_sd_task:
            self._file_sd_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._file_sd_task
        if self.scheduler:
            await self.scheduler.stop()

    # -- probing ----------------------------------------------------------------------------
    async def _probe(
        self,
        target: str,
        module_name: str,
        module: ModuleBase,
        timeout: float,
        debug: bool = False,
        tls: ClientContexts | None = None,
        hop_allowed: Callable[[str], bool] | None = None,
    ) -> ProbeResult:
        self.in_flight += 1
        try:
            result = await run_probe(target, module_name, module, timeout, debug, tls, hop_allowed)
        finally:
            self.in_flight -= 1
        key = (module_name, "success" if result.success else "failure")
        self.probe_counts[key] = self.probe_counts.get(key, 0) + 1
        return result

    def collectors(self) -> Iterable[Collector]:
        return (SelfMetrics(self),)

    async def _metrics(self, request: web.Request) -> web.Response:
        """Self metrics through client_python, then the scheduled results' pre-rendered lines.

        The probe families are gauges, written the same way in both exposition formats; for
        OpenMetrics they go before the ``# EOF`` line.
        """
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        base = encoder(self.registry)
        probes = self.store.exposition_bytes()
        # One join, one copy of the ~2 MB (1,000 targets) probe lines: ``a + b + c`` would make two.
        parts = (base[:-6], probes, b"# EOF\n") if base.endswith(b"# EOF\n") else (base, probes)
        body = b"".join(parts)
        return web.Response(body=body, headers={"Content-Type": content_type})

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/probe", self._probe_handler)

    def _refuse(self, status: int, reason: str, text: str) -> web.Response:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        return web.Response(status=status, text=text + "\n")

    def probe_timeout(self, request: web.Request, module: ModuleBase) -> float:
        """blackbox's getTimeout: the scrape timeout header minus the offset, capped by the module's."""
        assert self.config is not None
        ep = self.config.probe_endpoint
        header = request.headers.get("X-Prometheus-Scrape-Timeout-Seconds", "")
        try:
            timeout = float(header) - self.timeout_offset if header else float(ep.default_timeout)
        except ValueError:
            timeout = float(ep.default_timeout)
        mod_timeout = float(module.timeout)
        if timeout < 0 and mod_timeout:
            # blackbox: a scrape timeout below the offset leaves the module's timeout in force
            timeout = mod_timeout
        elif timeout <= 0:
            timeout = float(header or 0) if header else float(ep.default_timeout)
        if mod_timeout and mod_timeout < timeout:
            timeout = mod_timeout
        return max(0.05, min(timeout, float(ep.max_timeout)))

    async def _probe_handler(self, request: web.Request) -> web.Response:
        cfg = self.config
        assert cfg is not None
        module_name = request.query.get("module", "http_2xx")
        target = request.query.get("target")
        debug = request.query.get("debug", "").lower() in ("true", "1", "yes")
        if module_name not in cfg.modules:
            return self._refuse(400, "unknown_module", f"Unknown module {module_name!r}")
        if target is None or target == "":
            return self._refuse(400, "bad_target", "Target parameter is missing")
        try:
            host = target_host(target)
        except TargetError as exc:
            return self._refuse(400, "bad_target", str(exc))
        if target not in self.configured_targets and not self.allow.allows(host):
            return self._refuse(
                403,
                "not_allowed",
                f"Target host {host!r} is not in allowed_targets; refusing to probe it. To allow it, start "
                f"the exporter with --probe.allowed-targets={host} (or a pattern: *.domain, a CIDR range, "
                f'"*" for any) or add it to allowed_targets: in {self._config_file()}',
            )
        module = cfg.modules[module_name]
        hostname = request.query.get("hostname", "")
        if hostname and module.prober == "http":
            module, problem = with_host(module, hostname)
            if problem:
                return self._refuse(400, "bad_target", problem)
        timeout = self.probe_timeout(request, module)
        sem = self.probe_sem  # release the one acquired, even if a reload swaps it meanwhile
        t0 = time.monotonic()
        try:
            if sem.locked():
                async with asyncio.timeout(timeout):
                    await sem.acquire()
            else:
                # A free slot is taken without suspending: no deadline timer to arm and cancel.
                await sem.acquire()
        except TimeoutError:
            result = ProbeResult(
                target,
                module_name,
                False,
                timeout,
                outcome_samples(False, timeout, FailureReason.TIMEOUT),
                FailureReason.TIMEOUT,
                "waited for a free probe slot until the deadline",
            )
        else:
            try:
                # time spent queueing for a slot comes out of this probe's budget
                remaining = max(0.05, timeout - (time.monotonic() - t0))
                result = await self._probe(
                    target, module_name, module, remaining, debug, cfg.tls, hop_allowed=_hop_check(self.allow, host)
                )
            finally:
                sem.release()
        self.recent.add(result)
        body = render_samples(result.samples)
        if debug:
            shown = {k: v for k, v in to_public(module).items() if v is not None}
            public = yaml.safe_dump(shown, sort_keys=False)
            text = (
                "Logs for the probe:\n" + "\n".join(result.log_lines) + "\n\n\n"
                "Metrics that would have been returned:\n" + body + "\n\n"
                "Module configuration:\n" + public
            )
            return web.Response(text=scrub(text), content_type="text/plain")
        return web.Response(text=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    def status_view(self) -> StatusView:
        """What the status page shows, taken from the running state."""
        return StatusView(
            targets=[(t, self.store.results.get(key)) for key, t in self.store.targets.items()],
            recent=self.recent.newest_first(),
            reload_error="" if self.last_reload_ok else self.last_reload_error,
            file_sd_errors=self.file_sd.errors(),
            shard=self.shard,
            modules=sorted(self.config.modules) if self.config else [],
            base_path=self.weburl.path,
        )

    async def status_page(self, request: web.Request) -> web.StreamResponse:
        page = render_status_page(self.status_view())
        return web.Response(text=scrub(page), content_type="text/html")
