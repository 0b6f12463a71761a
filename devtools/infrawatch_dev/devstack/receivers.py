"""Fake notification receivers on loopback that record what Alertmanager really sends.

- ``FakePagerDuty``: PagerDuty Events API v2 (``POST /v2/enqueue``).  Validates events the way
  PagerDuty documents them (routing_key, event_action, dedup_key, payload.summary/source/severity)
  and answers 202, or 400 "invalid event" so a malformed notification shows up as a failure in
  Alertmanager's ``alertmanager_notifications_failed_total``.
- ``FakeSlack``: a Slack incoming webhook (answers ``ok``).
- ``FakeWebhook``: a generic webhook (Alertmanager's webhook JSON), records headers (Bearer token).

Only POSTs (and other non-GET requests) are recorded: a GET, as a browser sends when someone opens
the URL the demo prints, gets a page describing the fake and is not a notification.
- ``FakeSMTP``: an SMTP server (aiosmtpd) with AUTH PLAIN/LOGIN that records messages and logins.

Each has ``start()``/``stop()``, a ``url`` (or ``host``/``port``), the list ``received``,
``wait_for(predicate, timeout)`` and ``subscribe(callback)`` (called with each item as it arrives; the
demo prints them).  Items carry ``received_at`` (epoch seconds) for latency measurements.  The HTTP
fakes are aiohttp servers running in their own thread and event loop, so synchronous tests and
scripts can use them.  ``python -m infrawatch_dev.devstack.receivers`` starts all four and prints their
addresses until interrupted.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .procs import free_port

PD_SEVERITIES = {"critical", "error", "warning", "info"}
PD_ACTIONS = {"trigger", "acknowledge", "resolve"}


@dataclass
class HTTPRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    received_at: float = field(default_factory=time.time)


class _Recorder:
    """Thread-safe list of received items with a blocking ``wait_for``."""

    def __init__(self) -> None:
        self.received: list[Any] = []
        self._cond = threading.Condition()
        self._subscribers: list[Callable[[Any], None]] = []

    def subscribe(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback(item)`` for every item received from now on (in the receiver's thread)."""
        self._subscribers.append(callback)

    def _record(self, item: Any) -> None:
        with self._cond:
            self.received.append(item)
            self._cond.notify_all()
        for callback in list(self._subscribers):
            try:
                callback(item)
            except Exception:  # a broken printer must not make the fake answer 500
                traceback.print_exc()

    def clear(self) -> None:
        with self._cond:
            self.received.clear()

    def matching(self, predicate: Callable[[Any], bool]) -> list[Any]:
        with self._cond:
            return [r for r in self.received if predicate(r)]

    def wait_for(
        self, predicate: Callable[[Any], bool] = lambda _: True, timeout: float = 30.0, count: int = 1
    ) -> list[Any]:
        """Block until ``count`` received items satisfy ``predicate``; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [r for r in self.received if predicate(r)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{type(self).__name__}: {len(found)}/{count} matching items after {timeout}s; "
                        f"received {len(self.received)}: {self.received!r:.2000}"
                    )
                self._cond.wait(left)


class RecordingHTTPServer(_Recorder):
    """An aiohttp server on 127.0.0.1 in a background thread; records every request.

    ``info_on_get``: the notification fakes set it, so a GET (a browser) gets ``info_page()`` and is
    not recorded; a plain recording server (a test's stand-in for a scrape target) answers GETs
    with ``respond()`` like any other request."""

    info_on_get = False

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__()
        self.host = host
        self.port = port or free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def respond(self, req: HTTPRequest) -> web.Response:
        """Answer one request (subclasses validate and answer like the real service)."""
        return web.Response(text="ok")

    def describe(self) -> str:
        """What this fake stands in for (the page a browser sees on a GET)."""
        return "a fake notification receiver"

    def info_page(self) -> web.Response:
        """A GET (a person opening the URL in a browser) is no notification: it is not recorded and
        gets a page saying what this is and how many notifications arrived."""
        name = type(self).__name__
        text = (
            f"<!doctype html><title>{name}</title><h1>{name}</h1><p>This is {self.describe()} of the infrawatch "
            f"dev stack. Alertmanager POSTs notifications here; a GET is not one.</p>"
            f"<p>{len(self.received)} notification(s) received so far.</p>"
        )
        return web.Response(text=text, content_type="text/html")

    async def _handle(self, request: web.Request) -> web.Response:
        if self.info_on_get and request.method in ("GET", "HEAD"):
            return self.info_page()
        body = await request.read()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        req = HTTPRequest(request.method, request.path_qs, dict(request.headers), body, parsed)
        self._record(req)
        return self.respond(req)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    def start(self) -> RecordingHTTPServer:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> RecordingHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakePagerDuty(RecordingHTTPServer):
    """PagerDuty Events API v2.  Point Alertmanager's ``pagerduty_url`` at ``events_url``."""

    info_on_get = True

    def describe(self) -> str:
        return "a fake PagerDuty Events API v2 (POST /v2/enqueue)"

    @property
    def events_url(self) -> str:
        return self.url + "/v2/enqueue"

    @staticmethod
    def problems(event: Any) -> list[str]:
        """What PagerDuty would reject in an Events API v2 event."""
        if not isinstance(event, dict):
            return ["body is not a JSON object"]
        errs = []
        if not event.get("routing_key"):
            errs.append("routing_key missing")
        if event.get("event_action") not in PD_ACTIONS:
            errs.append(f"event_action {event.get('event_action')!r} not one of {sorted(PD_ACTIONS)}")
        if event.get("event_action") in ("acknowledge", "resolve") and not event.get("dedup_key"):
            errs.append("dedup_key required for acknowledge/resolve")
        if event.get("event_action") == "trigger":
            payload = event.get("payload") or {}
            for f in ("summary", "source", "severity"):
                if not payload.get(f):
                    errs.append(f"payload.{f} missing")
            if payload.get("severity") and payload["severity"] not in PD_SEVERITIES:
                errs.append(f"payload.severity {payload['severity']!r} not one of {sorted(PD_SEVERITIES)}")
            if len(payload.get("summary", "")) > 1024:
                errs.append("payload.summary longer than 1024 characters")
        return errs

    def respond(self, req: HTTPRequest) -> web.Response:
        if req.method != "POST" or not req.path.startswith("/v2/enqueue"):
            return web.json_response({"status": "not found"}, status=404)
        errs = self.problems(req.json)
        if errs:
            return web.json_response(
                {"status": "invalid event", "message": "Event object is invalid", "errors": errs}, status=400
            )
        return web.json_response(
            {"status": "success", "message": "Event processed", "dedup_key": req.json.get("dedup_key", "")}, status=202
        )

    @property
    def events(self) -> list[dict[str, Any]]:
        return [r.json for r in self.matching(lambda r: r.path.startswith("/v2/enqueue"))]


class FakeSlack(RecordingHTTPServer):
    """A Slack incoming webhook: write ``webhook_url`` into the file Alertmanager's api_url_file names."""

    info_on_get = True

    def describe(self) -> str:
        return "a fake Slack incoming webhook"

    @property
    def webhook_url(self) -> str:
        return self.url + "/services/T000/B000/XXXX"

    def respond(self, req: HTTPRequest) -> web.Response:
        if req.method != "POST" or not isinstance(req.json, dict):
            return web.Response(status=400, text="invalid_payload")
        if not (req.json.get("text") or req.json.get("attachments") or req.json.get("blocks")):
            return web.Response(status=400, text="no_text")
        return web.Response(text="ok")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [r.json for r in self.received if isinstance(r.json, dict)]


class FakeWebhook(RecordingHTTPServer):
    """A generic webhook (incident log, heartbeat): records Alertmanager's webhook JSON and headers."""

    info_on_get = True

    def describe(self) -> str:
        return "a fake generic webhook (heartbeat, incident log, console hooks)"


@dataclass
class SMTPMessage:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    login: tuple[str, str] | None
    message: email.message.EmailMessage = field(repr=False, default=None)  # type: ignore[assignment]
    received_at: float = field(default_factory=time.time)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        for p in self.message.walk():
            if p.get_content_type() == content_type:
                return p.get_content()
        return ""


class FakeSMTP(_Recorder):
    """An SMTP server (aiosmtpd) on loopback with AUTH (no TLS); records messages and logins.

    ``user``/``password``: the only accepted credentials (None = AUTH not offered).
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, user: str | None = None, password: str | None = None
    ) -> None:
        super().__init__()
        self.host = host
        self.port = port or free_port(host)
        self.user = user
        self.password = password
        self.logins: list[tuple[str, str, bool]] = []
        self._controller: Any = None

    @property
    def smarthost(self) -> str:
        return f"{self.host}:{self.port}"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        ok = (user, password) == (self.user, self.password)
        self.logins.append((user, password, ok))
        return AuthResult(success=ok, auth_data=(user, password) if ok else None)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        login = session.auth_data if isinstance(session.auth_data, tuple) else None
        self._record(SMTPMessage(envelope.mail_from, list(envelope.rcpt_tos), raw, login, msg))
        return "250 OK"

    def start(self) -> FakeSMTP:
        from aiosmtpd.controller import Controller

        kwargs: dict[str, Any] = {}
        if self.user is not None:
            # PLAIN only: aiosmtpd's LOGIN challenges ("User Name\0") differ from the "Username:" that
            # Postfix/Dovecot send and Alertmanager expects.
            kwargs = {
                "authenticator": self._authenticate,
                "auth_require_tls": False,
                "auth_exclude_mechanism": ["LOGIN"],
            }
        self._controller = Controller(self, hostname=self.host, port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> FakeSMTP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:  # pragma: no cover - manual use
    """Start all fakes and print where they listen (for trying an Alertmanager config by hand)."""
    pd, slack, hook = FakePagerDuty().start(), FakeSlack().start(), FakeWebhook().start()
    smtp = FakeSMTP(user="alertmanager", password="smtp-secret").start()
    print(
        json.dumps(
            {
                "pagerduty_url": pd.events_url,
                "slack_webhook_url": slack.webhook_url,
                "webhook_url": hook.url,
                "smtp_smarthost": smtp.smarthost,
                "smtp_user": "alertmanager",
                "smtp_password": "smtp-secret",
            }
        ),
        flush=True,
    )
    try:
        while True:
            time.sleep(5)
            print(
                json.dumps(
                    {
                        "pagerduty": len(pd.received),
                        "slack": len(slack.received),
                        "webhook": len(hook.received),
                        "smtp": len(smtp.received),
                    }
                ),
                flush=True,
            )
    except KeyboardInterrupt:
        pass
    finally:
        for s in (pd, slack, hook, smtp):
            s.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
