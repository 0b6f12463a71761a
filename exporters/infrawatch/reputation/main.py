"""The reputation exporter process: ``infrawatch-reputation-exporter`` (default listen :9517)."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from prometheus_client.registry import Collector

from ..core.config import to_public
from ..core.scheduler import Job, Scheduler
from ..core.server import Exporter, common_flags, run
from . import adhoc, api, history, page, volume
from .config import Loaded, load_config
from .engine import Engine
from .metrics import ReputationCollector

log = logging.getLogger("infrawatch.reputation")


class ReputationExporter(Exporter):
    name = "reputation"
    title = "infrawatch reputation exporter"

    def __init__(self, args: argparse.Namespace):
        super().__init__(args)
        self.engine: Engine | None = None
        self.scheduler: Scheduler | None = None
        self._first_cycle: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._probe_bucket: adhoc.RateLimit | None = None
        self._volume_cache: tuple[float, dict[str, float]] | None = None

    def load_config(self, path: str) -> Loaded:
        return load_config(path)

    def config_warnings(self, config: Any) -> list[str]:
        return [str(w) for w in config.warnings]

    async def apply_config(self, config: Loaded) -> None:
        if self.engine is None:
            self.engine = Engine(config)
            restored = self.engine.restore()
            if restored:
                log.info("restored results from the state file", extra={"pairs": restored})
            self.scheduler = Scheduler(concurrency=64)  # list checks; DNS load is bounded by the resolver
            # Without restored results, check everything once right away instead of waiting for
            # each list's slot in the interval: a fresh exporter must not stay "unknown" for minutes.
            if not restored:
                self._first_cycle = asyncio.create_task(self._run_first_cycle())
        else:
            await self.engine.apply(config)
            # New targets or lists are checked now, not at their list's next slot in the interval.
            self._background(self.engine.check_missing())
        assert self.scheduler is not None
        self.scheduler.set_jobs(
            [
                Job(
                    key=f"list:{spec.name}",
                    interval=spec.interval,
                    run=self._list_runner(spec.name),
                    spec=(
                        spec.zone,
                        spec.kind,
                        spec.interval,
                        spec.codes,
                        tuple(t.value for t in config.targets if t.kind == spec.kind),
                    ),
                )
                for spec in config.lists
            ]
        )

    def _background(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_first_cycle(self) -> None:
        assert self.engine is not None
        try:
            await self.engine.run_cycle()
        except Exception:
            log.exception("first check cycle failed")

    def _list_runner(self, name: str):
        async def run_list() -> None:
            engine = self.engine
            spec = engine.spec(name) if engine else None
            if engine is not None and spec is not None:
                await engine.check_list(spec)

        return run_list

    def collectors(self) -> Iterable[Collector]:
        return [ReputationCollector(lambda: self.engine, lambda: self.scheduler.max_lag() if self.scheduler else 0.0)]

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v1/targets", self._api_targets)
        app.router.add_get("/probe", self._probe)
        app.router.add_get("/export", self._export)

    async def _export(self, request: web.Request) -> web.Response:
        """``/export?target=&since=&step=``: a configured target's history as CSV, as ``export``."""
        cfg = self.engine.loaded.raw.history if self.engine is not None else None
        if cfg is None or not cfg.prometheus_url:
            return web.Response(status=404, text="history export is off (history.prometheus_url is not set)\n")
        assert self.engine is not None
        target = request.query.get("target", "")
        if target not in {t.value for t in self.engine.targets}:
            return web.Response(status=403, text="only configured targets can be exported\n")
        try:
            since, step = history.parse_range(
                request.query.get("since") or f"{int(float(cfg.since))}s", request.query.get("step", "")
            )
        except ValueError as exc:
            return web.Response(status=400, text=f"{exc}\n")
        try:
            rows = await asyncio.get_running_loop().run_in_executor(
                None, history.history_rows, cfg.prometheus_url, [target], since, step, float(cfg.timeout)
            )
        except history.QUERY_ERRORS as exc:
            log.warning("history export failed", extra={"err": str(exc) or type(exc).__name__})
            return web.Response(status=502, text=f"cannot query the history Prometheus: {exc}\n")
        buf = io.StringIO()
        history.write_history_csv(rows, buf)
        name = "".join(c if c.isalnum() or c in ".-" else "_" for c in target)
        return web.Response(
            text=buf.getvalue(),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="reputation-history-{name}.csv"'},
        )

    async def _probe(self, request: web.Request) -> web.Response:
        if self.engine is None:
            return web.Response(status=503, text="not configured yet\n")
        per_minute = self.engine.loaded.raw.probe.max_per_minute
        if self._probe_bucket is None or self._probe_bucket.per_minute != per_minute:
            self._probe_bucket = adhoc.RateLimit(per_minute)
        try:
            target, results = await adhoc.run(self.engine, self._probe_bucket, request.query.get("target", ""))
        except adhoc.ProbeRefused as exc:
            return web.Response(status=exc.status, text=f"{exc}\n")
        if request.query.get("format") == "json":
            return web.json_response(adhoc.json_document(self.engine, target, results))
        return web.Response(
            body=adhoc.metrics_text(self.engine, target, results),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )

    async def _api_targets(self, request: web.Request) -> web.Response:
        if self.engine is None:
            return web.json_response({"targets": [], "lists": []})
        return web.json_response(api.targets_document(self.engine, await self._volumes()))

    async def _volumes(self) -> dict[str, float] | None:
        if self.engine is None or not self.engine.loaded.raw.volume.prometheus_url:
            return None
        if self._volume_cache is None or time.monotonic() - self._volume_cache[0] > 60:
            self._volume_cache = (time.monotonic(), await volume.fetch(self.engine.loaded.raw.volume))
        return self._volume_cache[1]

    async def status_page(self, request: web.Request) -> web.StreamResponse:
        if self.engine is None:
            doc: dict[str, Any] = {"targets": [], "lists": [], "generated_at": ""}
        else:
            doc = api.targets_document(self.engine, await self._volumes())
        return web.Response(text=page.render(doc, self.title, self.weburl.path), content_type="text/html")

    async def _config_handler(self, request: web.Request) -> web.Response:
        body = to_public(self.config.raw) if self.config else {}
        if request.query.get("format") == "json":
            return web.json_response(body)
        import yaml

        return web.Response(text=yaml.safe_dump(body, sort_keys=False), content_type="text/plain")

    async def on_shutdown(self) -> None:
        for t in [self._first_cycle, *self._tasks]:
            if t and not t.done():
                t.cancel()
        if self.scheduler:
            await self.scheduler.stop()
        if self.engine:
            await self.engine.save_state()
            await self.engine.close()


def parser() -> argparse.ArgumentParser:
    return common_flags(
        "infrawatch-reputation-exporter",
        "Checks IPs and domains against DNS blacklists on a schedule; Prometheus exporter.",
        "reputation.yml",
        ":9517",
    )


def main(argv: list[str] | None = None) -> int:
    return run(ReputationExporter, argv, parser())


if __name__ == "__main__":
    raise SystemExit(main())
