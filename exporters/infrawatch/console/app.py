"""The console's HTTP application: the Infrastructure Monitoring page, its panel fragments (short
poll), the IP details page, the history CSV and the POST actions.

It runs on the exporters' shared server (``core/server.py``), so the web config (TLS, basic auth),
``/-/healthy``, ``/-/ready``, ``/-/reload`` (and SIGHUP), ``/metrics`` and the masked ``/config`` are
the exporters' own.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aiohttp
import jinja2
from aiohttp import web
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from ..core.server import Exporter
from . import panels
from .actions import ActionError, AuditLog, call_hook, silence_body
from .config import ConsoleConfig, load_console_config
from .csrf import CSRF
from .history import history_csv, safe_filename
from .services import DashboardLayoutError, ServiceCard, load_cards
from .sources import Alertmanager, Prometheus, ReputationExporter, SourceError

log = logging.getLogger("infrawatch.console")
PAGE = "/dashboard/system/infrastructure"
HERE = Path(__file__).resolve().parent


class ActionsCollector(Collector):
    def __init__(self, console: Console):
        self.console = console

    def collect(self) -> Iterable[CounterMetricFamily]:
        c = CounterMetricFamily(
            "infrawatch_console_actions", "Console actions by action and result.", labels=["action", "result"]
        )
        for (action, result), n in sorted(self.console.action_counts.items()):
            c.add_metric([action, result], n)
        yield c


class Console(Exporter):
    name = "console"
    title = "infrawatch console"

    def __init__(self, args: Any):
        super().__init__(args)
        self.cards: list[ServiceCard] = []
        self.csrf = CSRF()
        self.session: aiohttp.ClientSession | None = None
        self.action_counts: dict[tuple[str, str], int] = {}
        self.flashes: dict[str, tuple[str, str]] = {}  # id -> (ok|bad, message), oldest first
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["fmt"] = panels.fmt
        self.templates.filters["urlquote"] = lambda s: urllib.parse.quote(str(s), safe="")

    # ---- configuration ----------------------------------------------------------------------
    def load_config(self, path: str) -> ConsoleConfig:
        from ..core.config import ConfigError, Problem

        cfg = load_console_config(path)
        try:
            load_cards(cfg.dashboard_file, str(cfg.rate_interval))
        except DashboardLayoutError as exc:
            raise ConfigError([Problem(path, None, ("dashboard_file",), str(exc))]) from None
        return cfg

    async def apply_config(self, config: ConsoleConfig) -> None:
        self.cards = load_cards(config.dashboard_file, str(config.rate_interval))
        self.audit = AuditLog(config.audit_log)
        if self.session is None:
            self.session = aiohttp.ClientSession()

    async def on_shutdown(self) -> None:
        if self.session is not None:
            await self.session.close()

    def collectors(self) -> Iterable[Collector]:
        yield ActionsCollector(self)

    # ---- upstreams -----------------------------------------------------------------------------
    @property
    def cfg(self) -> ConsoleConfig:
        return self.config

    def _upstream(self, name: str) -> tuple[dict[str, str], Any]:
        """(auth headers, TLS context) for one upstream (the context is built once per configuration)."""
        if getattr(self, "_ssl_for", None) is not self.cfg:
            self._upstream_ssl, self._ssl_for = self.cfg.upstream_ssl(), self.cfg
        return getattr(self.cfg, f"{name}_auth").headers(), self._upstream_ssl

    def prom(self) -> Prometheus:
        assert self.session is not None
        return Prometheus(
            self.session, self.cfg.prometheus_url, self.cfg.upstream_timeout, *self._upstream("prometheus")
        )

    def am(self) -> Alertmanager:
        assert self.session is not None
        return Alertmanager(
            self.session, self.cfg.alertmanager_url, self.cfg.upstream_timeout, *self._upstream("alertmanager")
        )

    def reputation(self) -> ReputationExporter:
        assert self.session is not None
        return ReputationExporter(
            self.session, self.cfg.reputation_url, self.cfg.upstream_timeout, *self._upstream("reputation")
        )

    # ---- routes -------------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_get(PAGE, self.page)
        app.router.add_get(PAGE + "/panels", self.panels_json)
        app.router.add_get(PAGE + "/ip/{ip}", self.ip_details)
        app.router.add_get(PAGE + "/ip/{ip}/history.csv", self.ip_history)
        app.router.add_post(PAGE + "/actions/acknowledge", self.acknowledge)
        app.router.add_post(PAGE + "/actions/ticket", self.ticket)
        app.router.add_post(PAGE + "/actions/rotate", self.rotate)
        app.router.add_static("/static/", HERE / "static", name="static")

    async def status_page(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PAGE)

    def user(self, request: web.Request) -> str:
        """The basic-auth user (already verified by the server's middleware), else the client address."""
        header = request.headers.get("Authorization", "")
        if self.auth.enabled and header.startswith("Basic "):
            try:
                return base64.b64decode(header[6:]).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                pass
        return f"anonymous@{request.remote}"

    @staticmethod
    def feed_filter(request: web.Request) -> dict[str, str]:
        """``?severity=ERROR&service=api`` narrows the feed's rows (its summary still counts all)."""
        severity = request.query.get("severity", "")
        return {
            "severity": severity if severity in ("ERROR", "WARNING", "INFO") else "",
            "service": request.query.get("service", "")[:100],
        }

    async def _panels(self, request: web.Request) -> dict[str, Any]:
        prom, am = self.prom(), self.am()
        grid, (feed, _), rep = await asyncio.gather(
            panels.service_grid(prom, self.cards),
            panels.alerts_feed(prom, am, self.cfg.feed_range, self.cfg.runbook_url_pattern),
            panels.reputation_table(prom, self.cfg.daily_volume_query),
        )
        f = self.feed_filter(request)
        if feed.data is not None:
            feed.data["filter"] = f
            feed.data["services"] = sorted({r.service for r in feed.data["rows"] if r.service})
            feed.data["rows"] = [
                r
                for r in feed.data["rows"]
                if (not f["severity"] or r.severity == f["severity"])
                and (not f["service"] or r.service == f["service"])
            ]
        return {"grid": grid, "feed": feed, "reputation": rep}

    def render(self, name: str, **ctx: Any) -> str:
        return self.templates.get_template(name).render(page=PAGE, cfg=self.cfg, **ctx)

    def _fragments(self, data: dict[str, Any], token: str) -> dict[str, str]:
        return {
            key: self.render(
                f"panel_{key}.html",
                panel=panel,
                token=token,
                rotation=self.cfg.hooks.rotation.configured,
                ticketing=self.cfg.hooks.ticket.configured,
            )
            for key, panel in data.items()
        }

    async def page(self, request: web.Request) -> web.Response:
        token, fresh = self.csrf.token(request)
        data = await self._panels(request)
        body = self.render(
            "page.html",
            fragments=self._fragments(data, token),
            token=token,
            refresh_ms=int(self.cfg.refresh * 1000),
            flash=self.flashes.get(request.query.get("flash", ""), ("", "")),
            updated=time.strftime("%H:%M:%S UTC", time.gmtime()),
            ack_default=int(self.cfg.acknowledge_default // 60),
            ack_max=int(self.cfg.acknowledge_max // 60),
            user=self.user(request),
        )
        resp = web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-store"})
        self.csrf.set_cookie(resp, fresh, secure=request.secure)
        return resp

    async def panels_json(self, request: web.Request) -> web.Response:
        token, _ = self.csrf.token(request)
        data = await self._panels(request)
        return web.json_response(
            {"fragments": self._fragments(data, token), "updated": time.strftime("%H:%M:%S UTC", time.gmtime())},
            headers={"Cache-Control": "no-store"},
        )

    async def ip_details(self, request: web.Request) -> web.Response:
        ip = request.match_info["ip"]
        doc, error, status = None, "", 200
        try:
            api = await self.reputation().targets()
            doc = next((t for t in api.get("targets", []) if t.get("target") == ip), None)
            if doc is None:
                error, status = f"{ip} is not a target of the reputation exporter", 404
        except SourceError as exc:
            error, status = str(exc), 502
        body = self.render("ip.html", ip=ip, target=doc, error=error)
        return web.Response(text=body, content_type="text/html", status=status)

    async def ip_history(self, request: web.Request) -> web.Response:
        ip = request.match_info["ip"]
        try:
            text, queries = await history_csv(self.prom(), ip, self.cfg.history_range, self.cfg.history_step)
        except SourceError as exc:
            return web.Response(status=502, text=f"{exc}\n")
        log.info("reputation history exported", extra={"target": ip, "queries": queries, "user": self.user(request)})
        return web.Response(
            text=text,
            content_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="reputation-{safe_filename(ip)}.csv"',
                "X-Range-Queries": str(queries),
            },
        )

    # ---- actions --------------------------------------------------------------------------------
    async def _form(self, request: web.Request) -> dict[str, str]:
        form = await request.post()
        reason = self.csrf.check(request, str(form.get("csrf", "")))
        if reason:
            action = request.path.rsplit("/", 1)[-1]
            self.action_counts[(action, "refused")] = self.action_counts.get((action, "refused"), 0) + 1
            self.audit.write(self.user(request), action, "refused", reason=reason)
            raise web.HTTPForbidden(text=f"refused: {reason}\n")
        return {k: str(v) for k, v in form.items()}

    def _back(self, action: str, result: str, message: str) -> web.HTTPSeeOther:
        """Back to the page, which shows ``message``: kept here under a random id, so a crafted link
        cannot make the console's page say something it did not do."""
        self.action_counts[(action, result)] = self.action_counts.get((action, result), 0) + 1
        key = secrets.token_urlsafe(12)
        self.flashes[key] = ("ok" if result == "ok" else "bad", message)
        while len(self.flashes) > 1000:
            self.flashes.pop(next(iter(self.flashes)))
        return web.HTTPSeeOther(f"{PAGE}?flash={key}")

    async def _active_alert(self, fingerprint: str) -> dict[str, Any]:
        try:
            alerts = await self.am().alerts()
        except SourceError as exc:
            raise ActionError(str(exc)) from None
        for a in alerts:
            if a.get("fingerprint") == fingerprint:
                return a
        raise ActionError("that alert is no longer active in Alertmanager")

    def _console_url(self, request: web.Request) -> str:
        return (self.cfg.external_url or f"{request.scheme}://{request.host}") + PAGE

    async def acknowledge(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        user = self.user(request)
        author = form.get("author", "").strip()[:100]
        comment = form.get("comment", "").strip()[:1000]
        try:
            minutes = float(form.get("expiry_minutes", "0"))
        except ValueError:
            minutes = 0
        try:
            if not author or not comment:
                raise ActionError("author and comment are required")
            if not 0 < minutes * 60 <= self.cfg.acknowledge_max:
                raise ActionError(f"expiry must be between 1 and {int(self.cfg.acknowledge_max // 60)} minutes")
            alert = await self._active_alert(form.get("fingerprint", ""))
            body = silence_body(alert["labels"], author, comment, minutes * 60)
            sid = await self.am().create_silence(body)
        except (ActionError, SourceError) as exc:
            self.audit.write(user, "acknowledge", "failed", fingerprint=form.get("fingerprint", ""), error=str(exc))
            raise self._back("acknowledge", "failed", f"Acknowledge failed: {exc}") from None
        name = alert["labels"].get("alertname", "")
        self.audit.write(
            user,
            "acknowledge",
            "ok",
            alert=name,
            labels=alert["labels"],
            silence=sid,
            author=author,
            comment=comment,
            expires=body["endsAt"],
        )
        raise self._back(
            "acknowledge", "ok", f"{name} acknowledged by {author} until {body['endsAt'][:16]}Z (silence {sid[:8]})"
        )

    async def ticket(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        user = self.user(request)
        try:
            alert = await self._active_alert(form.get("fingerprint", ""))
            name = alert["labels"].get("alertname", "")
            payload = {
                "action": "create_incident_ticket",
                "requested_by": user,
                "requested_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "alert": {
                    k: alert.get(k)
                    for k in ("labels", "annotations", "startsAt", "endsAt", "fingerprint", "status", "generatorURL")
                },
                "links": {
                    "runbook": alert.get("annotations", {}).get("runbook_url")
                    or self.cfg.runbook_url_pattern % {"alert": name},
                    "source": alert.get("generatorURL", ""),
                    "console": self._console_url(request),
                    "alertmanager": f"{self.cfg.alertmanager_url}/#/alerts?filter="
                    + urllib.parse.quote(f'{{alertname="{name}"}}'),
                },
            }
            result = await call_hook(self.session, self.cfg.hooks.ticket, "ticket", payload)  # type: ignore[arg-type]
        except ActionError as exc:
            self.audit.write(user, "ticket", "failed", fingerprint=form.get("fingerprint", ""), error=str(exc))
            raise self._back("ticket", "failed", f"Ticket not created: {exc}") from None
        self.audit.write(user, "ticket", "ok", alert=name, labels=alert["labels"], hook_result=result)
        raise self._back("ticket", "ok", f"Incident ticket requested for {name}")

    async def rotate(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        user = self.user(request)
        ip = form.get("ip", "")
        try:
            if form.get("confirm") != "yes":
                raise ActionError("the rotation was not confirmed")
            rows = await self.prom().query(
                'reputation_target_info{{target="{}"}}'.format(ip.replace("\\", "").replace('"', ""))
            )
            if not rows:
                raise ActionError(f"{ip} is not a target of the reputation exporter")
            pool = rows[0]["metric"].get("pool", "")
            backup = self.cfg.backup_pools.get(pool, self.cfg.default_backup_pool)
            if not backup or backup == pool:
                raise ActionError(f"no backup pool configured for pool {pool!r}")
            payload = {
                "action": "rotate_to_backup_pool",
                "ip": ip,
                "from_pool": pool,
                "to_pool": backup,
                "requested_by": user,
                "requested_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            result = await call_hook(self.session, self.cfg.hooks.rotation, "rotation", payload)  # type: ignore[arg-type]
        except (ActionError, SourceError) as exc:
            self.audit.write(user, "rotate", "failed", ip=ip, error=str(exc))
            raise self._back("rotate", "failed", f"Rotation failed: {exc}") from None
        self.audit.write(user, "rotate", "ok", ip=ip, from_pool=pool, to_pool=backup, hook_result=result)
        raise self._back("rotate", "ok", f"Sending moved from pool {pool} to {backup} ({ip} is out of rotation)")
