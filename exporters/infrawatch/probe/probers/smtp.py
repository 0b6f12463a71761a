"""SMTP prober: banner (220), EHLO, STARTTLS with certificate metrics, optional AUTH, QUIT.

Unlike a ``tcp`` query_response script this understands SMTP replies (multi-line ``250-``
continuations, the EHLO extension list), so "STARTTLS offered?", "AUTH offered after TLS?" and
"do these credentials work?" are simple keys.  ``tls: true`` is implicit TLS (SMTPS, port 465).
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import Literal

from ...core import regexp
from ...core.config import Context, Secret
from ...core.metrics import MetricFamily
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext
from ..failures import extend_reasons
from ..net import resolve, tls
from ..net.dial import IP_PROTOCOLS, Connection, check_regexp, check_source_ip, dial_module, start_tls, target_host_port
from ..spec import ProberSpec

MAX_REPLY_LINES = 200

SMTP_DURATION = MetricFamily("probe_smtp_duration_seconds", "Duration of the SMTP probe by phase", labels=("phase",))
SMTP_STATUS_CODE = MetricFamily("probe_smtp_status_code", "Last SMTP reply code received")
SMTP_STARTTLS_SUPPORTED = MetricFamily("probe_smtp_starttls_supported", "1 if the server offers STARTTLS (before TLS)")
SMTP_AUTH_SUPPORTED = MetricFamily("probe_smtp_auth_supported", "1 if the server offers AUTH (after TLS when used)")
FAMILIES = (
    SMTP_DURATION,
    SMTP_STATUS_CODE,
    SMTP_STARTTLS_SUPPORTED,
    SMTP_AUTH_SUPPORTED,
    *resolve.FAMILIES,
    *tls.FAMILIES,
)
SMTPFailure = extend_reasons("SMTPFailure", "auth")  # auth: AUTH not offered or refused


@dataclass
class SMTPAuth:
    username: str = ""
    password_file: str = ""
    mechanism: Literal["PLAIN", "LOGIN"] = "PLAIN"
    password: Secret | None = field(default=None, metadata={"internal": True})

    def validate(self, ctx: Context, path: tuple) -> None:
        if not self.username:
            ctx.error((*path, "username"), "auth needs a username")
        if not self.password_file:
            ctx.error((*path, "password_file"), "auth needs a password_file")
        else:
            self.password = ctx.read_secret_file((*path, "password_file"), self.password_file)


@dataclass
class SMTPProbe:
    # Name sent with EHLO.
    ehlo: str = "infrawatch.probe"
    # Upgrade with STARTTLS when the server offers it.
    starttls: bool = True
    # Fail (reason tls) when STARTTLS is not offered: for relays that must encrypt.
    fail_if_no_starttls: bool = False
    # Implicit TLS from the first byte (SMTPS, port 465); excludes starttls.
    tls: bool = False
    tls_config: TLSConfig = field(default_factory=TLSConfig)
    # The 220 banner must match this regexp (e.g. the MTA's host name).
    banner_regexp: str = ""
    banner_re: regexp.Pattern | None = field(default=None, metadata={"internal": True})
    # Log in after TLS (submission servers); failure reason auth.
    auth: SMTPAuth | None = None
    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True
    source_ip_address: str = ""

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.banner_regexp:
            self.banner_re = check_regexp(self.banner_regexp, ctx, (*path, "banner_regexp"))
        if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", self.ehlo):
            ctx.error((*path, "ehlo"), f"EHLO name must be a domain or address literal, got {self.ehlo!r}")
        if self.fail_if_no_starttls and not self.starttls:
            ctx.error((*path, "fail_if_no_starttls"), "fail_if_no_starttls needs starttls: true")
        if self.tls and self.fail_if_no_starttls:
            ctx.error((*path, "tls"), "tls (implicit TLS) and fail_if_no_starttls exclude each other")
        if self.preferred_ip_protocol not in IP_PROTOCOLS:
            ctx.error((*path, "preferred_ip_protocol"), f"expected ip4 or ip6, got {self.preferred_ip_protocol!r}")
        check_source_ip(self.source_ip_address, ctx, path)


class SMTPError(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class _Session:
    def __init__(self, ctx: ProbeContext[SMTPProbe], conn: Connection):
        self.ctx, self.conn = ctx, conn
        self.last_code = 0

    async def reply(self, what: str) -> tuple[int, list[str]]:
        """Read one (possibly multi-line) reply: ``250-a``, ``250-b``, ``250 c``."""
        lines: list[str] = []
        while len(lines) < MAX_REPLY_LINES:
            raw = await self.conn.reader.readline()
            if not raw:
                raise SMTPError(SMTPFailure.PROTOCOL, f"connection closed while waiting for the {what} reply")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            m = re.match(r"^(\d{3})([ -]?)(.*)$", line)
            if not m:
                raise SMTPError(SMTPFailure.PROTOCOL, f"malformed SMTP reply to {what}: {line[:200]!r}")
            lines.append(m.group(3))
            if m.group(2) != "-":
                self.last_code = int(m.group(1))
                self.ctx.log(f"{what} reply", code=self.last_code, text=" | ".join(lines)[:300])
                return self.last_code, lines
        raise SMTPError(SMTPFailure.PROTOCOL, f"{what} reply longer than {MAX_REPLY_LINES} lines")

    async def command(self, line: str, what: str, log_line: str | None = None) -> tuple[int, list[str]]:
        self.ctx.log("send", line=log_line if log_line is not None else line)
        self.conn.writer.write(line.encode() + b"\r\n")
        await self.conn.writer.drain()
        return await self.reply(what)

    async def ehlo(self, name: str) -> dict[str, str]:
        code, lines = await self.command(f"EHLO {name}", "EHLO")
        if code != 250:
            raise SMTPError(SMTPFailure.PROTOCOL, f"EHLO answered {code}: {' '.join(lines)[:200]}")
        ext = {}
        for ln in lines[1:]:
            word, _, rest = ln.partition(" ")
            ext[word.upper()] = rest
        return ext


async def _unverified_starttls(ctx: ProbeContext[SMTPProbe], cfg: SMTPProbe, host: str, port: int) -> None:
    """Replay banner/EHLO/STARTTLS without verification to record the certificate metrics."""
    side = ctx.side()
    conn = await dial_module(side, cfg, host, port)
    if conn is None:
        return
    try:
        async with asyncio.timeout(max(0.05, ctx.remaining)):
            s = _Session(side, conn)
            await s.reply("banner")
            await s.ehlo(cfg.ehlo)
            code, _ = await s.command("STARTTLS", "STARTTLS")
            if code == 220:
                side.metrics = ctx.metrics
                await start_tls(side, conn, cfg.tls_config, verify=False)
    except (TimeoutError, OSError, SMTPError, ssl.SSLError) as exc:
        ctx.log("could not read the certificate without verification", err=str(exc))
    finally:
        conn.close()


async def probe_smtp(ctx: ProbeContext[SMTPProbe]) -> bool:
    cfg: SMTPProbe = ctx.config
    parsed = target_host_port(ctx, 465 if cfg.tls else 25)
    if parsed is None:
        return False
    host, port = parsed
    conn = await dial_module(ctx, cfg, host, port)
    if conn is None:
        return False
    session = _Session(ctx, conn)
    try:
        async with asyncio.timeout(ctx.remaining):
            ok = await _dialogue(ctx, cfg, session)
    except TimeoutError:
        ok = ctx.fail(SMTPFailure.TIMEOUT, "the SMTP dialogue did not finish before the deadline")
    except SMTPError as exc:
        ok = ctx.fail(exc.reason, str(exc))
    except (ConnectionError, OSError) as exc:
        ok = ctx.fail(SMTPFailure.PROTOCOL, f"connection error during the SMTP dialogue: {exc}")
    finally:
        conn.close()
    if session.last_code:
        ctx.metrics.set(SMTP_STATUS_CODE, session.last_code)
    if (
        not ok
        and ctx.failure_reason == SMTPFailure.TLS
        and cfg.starttls
        and not cfg.tls
        and ctx.metrics.get(tls.TLS_VERIFIED) is None
    ):
        await _unverified_starttls(ctx, cfg, host, port)
    return ok


async def _dialogue(ctx: ProbeContext[SMTPProbe], cfg: SMTPProbe, s: _Session) -> bool:
    m = ctx.metrics
    t0 = time.monotonic()
    code, lines = await s.reply("banner")
    m.set(SMTP_DURATION, time.monotonic() - t0, {"phase": "banner"})
    if code != 220:
        return ctx.fail(SMTPFailure.PROTOCOL, f"banner code {code} (want 220): {' '.join(lines)[:200]}")
    if cfg.banner_re is not None and not cfg.banner_re.search(lines[0]):
        return ctx.fail(SMTPFailure.PROTOCOL, f"banner {lines[0][:200]!r} does not match {cfg.banner_regexp!r}")
    t1 = time.monotonic()
    ext = await s.ehlo(cfg.ehlo)
    m.set(SMTP_DURATION, time.monotonic() - t1, {"phase": "ehlo"})
    offered = "STARTTLS" in ext
    m.set(SMTP_STARTTLS_SUPPORTED, 1 if offered else 0)
    if cfg.starttls and not cfg.tls:
        if offered:
            t2 = time.monotonic()
            code, lines = await s.command("STARTTLS", "STARTTLS")
            if code != 220:
                return ctx.fail(SMTPFailure.TLS, f"STARTTLS answered {code}: {' '.join(lines)[:200]}")
            if not await start_tls(ctx, s.conn, cfg.tls_config):
                return False
            m.set(SMTP_DURATION, time.monotonic() - t2, {"phase": "starttls"})
            ext = await s.ehlo(cfg.ehlo)  # RFC 3207: the extension list must be fetched again
        elif cfg.fail_if_no_starttls:
            return ctx.fail(SMTPFailure.TLS, "server does not offer STARTTLS and fail_if_no_starttls is set")
    m.set(SMTP_AUTH_SUPPORTED, 1 if "AUTH" in ext else 0)
    if cfg.auth is not None:
        mechanisms = ext.get("AUTH", "").upper().split()
        if cfg.auth.mechanism not in mechanisms:
            return ctx.fail(
                SMTPFailure.AUTH,
                f"server does not offer AUTH {cfg.auth.mechanism} (offers: {' '.join(mechanisms) or 'no AUTH'})",
            )
        t3 = time.monotonic()
        code, lines = await _auth(s, cfg.auth)
        m.set(SMTP_DURATION, time.monotonic() - t3, {"phase": "auth"})
        if code != 235:
            return ctx.fail(
                SMTPFailure.AUTH,
                f"AUTH {cfg.auth.mechanism} as {cfg.auth.username!r} refused: {code} {' '.join(lines)[:200]}",
            )
    try:
        async with asyncio.timeout(min(1.0, max(0.05, ctx.remaining))):
            await s.command("QUIT", "QUIT")
    except (TimeoutError, SMTPError, OSError):
        pass  # the probe already has its answer; a server that drops the line on QUIT is fine
    return True


async def _auth(s: _Session, auth: SMTPAuth) -> tuple[int, list[str]]:
    pw = str(auth.password or "")
    if auth.mechanism == "PLAIN":
        token = base64.b64encode(f"\0{auth.username}\0{pw}".encode()).decode()
        return await s.command(f"AUTH PLAIN {token}", "AUTH", log_line="AUTH PLAIN <secret>")
    code, lines = await s.command("AUTH LOGIN", "AUTH")
    if code != 334:
        return code, lines
    code, lines = await s.command(
        base64.b64encode(auth.username.encode()).decode(), "AUTH username", log_line="<username>"
    )
    if code != 334:
        return code, lines
    return await s.command(base64.b64encode(pw.encode()).decode(), "AUTH password", log_line="<secret>")


SPEC = ProberSpec(
    SMTPProbe, probe_smtp, "SMTP banner, EHLO, STARTTLS certificate, optional AUTH", FAMILIES, SMTPFailure
)
