"""Target parsing and TCP dialling shared by the socket-level probers (tcp, smtp, redis, postgres, dns).

``dial`` resolves with ``preferred_ip_protocol``/``ip_protocol_fallback`` (blackbox's
``chooseProtocol``), binds ``source_ip_address`` when given, connects within the probe deadline and
maps errors to failure reasons.  ``start_tls`` upgrades an open stream (STARTTLS) and records the TLS
metrics; on a verification failure it returns ``None`` after ``ctx.fail('tls', ...)``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Protocol

from ...core import regexp
from ...core.config import Context
from ...core.hostport import HostPortError
from ...core.hostport import split_host_port as parse_host_port
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext
from ..failures import FailureReason, classify_os_error
from .resolve import resolve
from .tls import inspect_unverified, record_tls, server_hostname, verify_error_text

# blackbox accepts ip4/ip6 (and the tcp4/udp6 spellings); infrawatch's own examples use ip4/ip6.
IP_PROTOCOLS = ("ip4", "ip6", "ipv4", "ipv6", "tcp4", "tcp6", "udp4", "udp6")


def split_host_port(target: str, default_port: int | None = None) -> tuple[str, int] | None:
    """``host:port``, ``[v6]:port``, or a bare host (or IPv6 address) when ``default_port`` is
    given; None if malformed (``core.hostport`` parses).

    A ``scheme://`` prefix is accepted and ignored (``redis://host:6379`` reads as ``host:6379``) so
    targets copied from connection strings work.
    """
    t = target.strip()
    if "://" in t:
        t = t.split("://", 1)[1].rstrip("/")
    try:
        host, port = parse_host_port(t, default_port)
    except HostPortError:
        return None
    return (host, port) if host else None


def target_host_port(ctx: ProbeContext[Any], default_port: int | None = None) -> tuple[str, int] | None:
    """Parse ``ctx.target`` or fail the probe with reason ``config``."""
    parsed = split_host_port(ctx.target, default_port)
    if parsed is None:
        need = "host:port" if default_port is None else f"host[:port] (default port {default_port})"
        ctx.fail(FailureReason.CONFIG, f"target {ctx.target!r} is not {need}")
    return parsed


def check_source_ip(value: str, ctx: Context, path: tuple) -> None:
    """Config validation for ``source_ip_address``."""
    if value:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            ctx.error((*path, "source_ip_address"), f"not an IP address: {value!r}")


def check_regexp(value: str, ctx: Context, path: tuple) -> regexp.Pattern | None:
    """Compile a configured pattern with RE2 (``core.regexp``), or report it located."""
    return regexp.check(value, ctx, path)


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    host: str
    ip: str
    port: int

    def close(self) -> None:
        # abort(): no FIN/TLS close_notify dance; the probe is over and the deadline may have passed.
        self.writer.transport.abort()


async def dial(
    ctx: ProbeContext[Any],
    host: str,
    port: int,
    *,
    preferred: str = "ip6",
    fallback: bool = True,
    source_ip: str = "",
    tls: ssl.SSLContext | None = None,
    tls_name: str | None = None,
    tls_cfg: TLSConfig | None = None,
) -> Connection | None:
    """Resolve and connect; with ``tls`` handshake immediately (``tls: true``) and record TLS metrics.

    Returns ``None`` after ``ctx.fail(...)`` on any error.  On a certificate verification failure
    the chain is read again without verification so the TLS metrics stay present.
    """
    ip = await resolve(ctx, host, preferred, fallback)
    if ip is None:
        return None
    kwargs: dict = {}
    if source_ip:
        kwargs["local_addr"] = (source_ip, 0)
    if tls is not None:
        kwargs["ssl"] = tls
        kwargs["server_hostname"] = tls_name or ""
        kwargs["ssl_handshake_timeout"] = max(0.05, ctx.remaining)
    t0 = time.monotonic()
    try:
        async with asyncio.timeout(ctx.remaining):
            reader, writer = await asyncio.open_connection(ip, port, **kwargs)
    except TimeoutError:
        ctx.fail(FailureReason.CONNECT_TIMEOUT, f"no connection to {ip}:{port} before the deadline")
        return None
    except ssl.SSLCertVerificationError as exc:
        ctx.fail(FailureReason.TLS, f"certificate verification failed: {verify_error_text(exc)}")
        await inspect_unverified(ctx, ip, port, tls_name, tls_cfg)
        return None
    except (OSError, ssl.SSLError) as exc:
        reason = classify_os_error(exc)
        ctx.fail(reason, f"connecting to {ip}:{port}: {exc}")
        return None
    ctx.log("connected", ip=ip, port=port, seconds=round(time.monotonic() - t0, 6))
    if tls is not None:
        obj = writer.get_extra_info("ssl_object")
        if obj is not None:
            record_tls(ctx, obj, verified=tls.verify_mode != ssl.CERT_NONE)
    return Connection(reader, writer, host, ip, port)


class DialSettings(Protocol):
    """The connection keys every TCP-based module section shares (``tcp:``, ``smtp:``)."""

    tls: bool
    tls_config: TLSConfig
    preferred_ip_protocol: str
    ip_protocol_fallback: bool
    source_ip_address: str


async def dial_module(ctx: ProbeContext[Any], cfg: DialSettings, host: str, port: int) -> Connection | None:
    """``dial`` with a module section's own settings (address family, source address, implicit TLS)."""
    return await dial(
        ctx,
        host,
        port,
        preferred=cfg.preferred_ip_protocol,
        fallback=cfg.ip_protocol_fallback,
        source_ip=cfg.source_ip_address,
        tls=ctx.tls.get(cfg.tls_config) if cfg.tls else None,
        tls_name=server_hostname(cfg.tls_config, host),
        tls_cfg=cfg.tls_config,
    )


async def connect_only(
    ctx: ProbeContext[Any], host: str, port: int, *, preferred: str = "ip6", fallback: bool = True
) -> bool:
    """``dial`` for a TCP check with nothing to say (no TLS, no dialogue, no source address): connect
    and close, as blackbox's tcp prober does without ``query_response``.

    A bare non-blocking socket and ``loop.sock_connect``: no transport, StreamReader and
    StreamWriter are built for a connection that is closed at once (about a fifth of a tcp probe's
    CPU).  Resolution, errors, failure reasons and log lines are those of ``dial``: a refused or
    unreachable connect raises the same ``OSError`` from the same ``sock_connect`` that
    ``open_connection`` runs.  Returns False after ``ctx.fail(...)``.
    """
    ip = await resolve(ctx, host, preferred, fallback)
    if ip is None:
        return False
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    t0 = time.monotonic()
    try:
        sock.setblocking(False)
        async with asyncio.timeout(ctx.remaining):
            await loop.sock_connect(sock, (ip, port))
    except TimeoutError:
        return ctx.fail(FailureReason.CONNECT_TIMEOUT, f"no connection to {ip}:{port} before the deadline")
    except OSError as exc:
        return ctx.fail(classify_os_error(exc), f"connecting to {ip}:{port}: {exc}")
    finally:
        sock.close()
    ctx.log("connected", ip=ip, port=port, seconds=round(time.monotonic() - t0, 6))
    return True


async def start_tls(ctx: ProbeContext[Any], conn: Connection, cfg: TLSConfig | None, *, verify: bool = True) -> bool:
    """Upgrade ``conn`` to TLS in place (STARTTLS).  Returns False after ``ctx.fail('tls', ...)``."""
    sslctx = ctx.tls.get(cfg, verify=verify)
    name = server_hostname(cfg, conn.host)
    try:
        async with asyncio.timeout(max(0.05, ctx.remaining)):
            await conn.writer.start_tls(
                sslctx, server_hostname=name or "", ssl_handshake_timeout=max(0.05, ctx.remaining)
            )
    except TimeoutError:
        ctx.fail(FailureReason.TIMEOUT, "TLS handshake after STARTTLS did not finish before the deadline")
        return False
    except ssl.SSLCertVerificationError as exc:
        ctx.fail(FailureReason.TLS, f"certificate verification failed after STARTTLS: {verify_error_text(exc)}")
        return False
    except (OSError, ssl.SSLError) as exc:
        ctx.fail(FailureReason.TLS, f"TLS handshake after STARTTLS failed: {exc}")
        return False
    obj = conn.writer.get_extra_info("ssl_object")
    if obj is not None:
        record_tls(ctx, obj, verified=sslctx.verify_mode != ssl.CERT_NONE)
    ctx.log("STARTTLS handshake done")
    return True
