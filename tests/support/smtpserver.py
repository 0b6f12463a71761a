"""A real SMTP server for tests: aiosmtpd's Controller (its own thread) on a free loopback port.

    with smtp_server(tls_context=certs.server_context("valid")) as srv:   # STARTTLS offered
        srv.port, srv.messages

``implicit_tls`` wraps the listener in TLS from the first byte (SMTPS); ``credentials`` enables
AUTH PLAIN/LOGIN with that one user (allowed without TLS so plain-text tests work too).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from support.procs import free_port


@dataclass
class SMTPServer:
    host: str
    port: int
    hostname: str
    messages: list[Any] = field(default_factory=list)


class _Handler:
    def __init__(self, server: SMTPServer):
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.server.messages.append(envelope)
        return "250 OK"


@contextlib.contextmanager
def smtp_server(
    *,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    credentials: tuple[str, str] | None = None,
    hostname: str = "mx.infrawatch.test",
    require_starttls: bool = False,
) -> Iterator[SMTPServer]:
    port = free_port()
    server = SMTPServer("127.0.0.1", port, hostname)
    kwargs: dict[str, Any] = {}
    if tls_context is not None:
        kwargs["tls_context"] = tls_context
        kwargs["require_starttls"] = require_starttls
    if credentials is not None:
        user, password = credentials

        def authenticator(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_require_tls=False)
    controller = Controller(
        _Handler(server),
        hostname="127.0.0.1",
        port=port,
        ssl_context=implicit_tls,
        server_hostname=hostname,
        ready_timeout=10,
        **kwargs,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
