"""blackbox_exporter's ``tcp`` prober: connect, optional TLS, a ``query_response`` dialogue.

Each ``query_response`` step may ``expect`` a line (a regexp; lines are read until one matches, as
blackbox does) or exact bytes (``expect_bytes``), export ``labels`` on ``probe_expect_info`` from
the match, ``send`` a line (``${1}`` expands the match; a newline is appended, so SMTP steps write
``"EHLO prober\\r"`` as in blackbox's examples) and ``starttls`` to upgrade the connection.

Patterns run on RE2 (``core.regexp``), as Go's ``regexp`` does in blackbox: ``^+OK`` is blackbox's
POP3 example and ``OK$`` does not match before a trailing newline.  ``send`` may be ``!!binary``
(blackbox's PostgreSQL SSLRequest example), sent as those bytes.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field

from ...core import regexp
from ...core.config import Context, required
from ...core.labels import label_name_problem
from ...core.metrics import MetricFamily
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext
from ..failures import FailureReason
from ..families import FAILED_DUE_TO_REGEX, TARGET_LABELS
from ..net import resolve, tls
from ..net.dial import (
    IP_PROTOCOLS,
    Connection,
    check_regexp,
    check_source_ip,
    connect_only,
    dial_module,
    start_tls,
    target_host_port,
)
from ..spec import ProberSpec

MAX_LINE = 64 * 1024  # Go's bufio.Scanner token limit, which blackbox inherits
# Label names come from query_response; they are checked against the reserved ones at load.
EXPECT_INFO = MetricFamily("probe_expect_info", "Explicit content matched", dynamic_labels=True)
FAILED_DUE_TO_BYTES = MetricFamily("probe_failed_due_to_bytes", "Indicates if probe failed due to bytes")
FAMILIES = (FAILED_DUE_TO_REGEX, FAILED_DUE_TO_BYTES, EXPECT_INFO, *resolve.FAMILIES, *tls.FAMILIES)
TCPFailure = FailureReason
expand = regexp.expand  # Go's Regexp.Expand, for ${1} in send and label values


@dataclass
class ExpectLabel:
    name: str = required(default="")
    value: str = required(default="")


@dataclass
class QueryResponse:
    expect: str = ""
    # newer blackbox: exact bytes expected next on the wire (mutually exclusive with expect)
    expect_bytes: str | bytes = ""
    send: str | bytes = ""  # YAML !!binary gives bytes, sent as they are
    starttls: bool = False
    labels: list[ExpectLabel] = field(default_factory=list)
    compiled: regexp.Pattern | None = field(default=None, metadata={"internal": True})

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.expect:
            self.compiled = check_regexp(self.expect, ctx, (*path, "expect"))
        if self.expect and self.expect_bytes:
            ctx.error((*path, "expect_bytes"), "expect and expect_bytes cannot both be set in one step")
        if self.labels and not self.expect:
            ctx.error((*path, "labels"), "labels need an 'expect' regexp in the same step to take values from")
        for i, lab in enumerate(self.labels):
            problem = label_name_problem(lab.name)
            if problem is None and lab.name in TARGET_LABELS:
                problem = f"label {lab.name!r} is reserved (every scheduled result carries it)"
            if problem:
                ctx.error((*path, "labels", i, "name"), problem)


@dataclass
class TCPProbe:
    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True
    source_ip_address: str = ""
    query_response: list[QueryResponse] = field(default_factory=list)
    tls: bool = False
    tls_config: TLSConfig = field(default_factory=TLSConfig)

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.preferred_ip_protocol not in IP_PROTOCOLS:
            ctx.error((*path, "preferred_ip_protocol"), f"expected ip4 or ip6, got {self.preferred_ip_protocol!r}")
        check_source_ip(self.source_ip_address, ctx, path)
        names: dict[str, int] = {}
        for i, qr in enumerate(self.query_response):
            for lab in qr.labels:
                if lab.name in names:
                    ctx.error(
                        (*path, "query_response", i, "labels"),
                        f"label {lab.name!r} is already set in step {names[lab.name]}",
                    )
                names[lab.name] = i


class _Dialogue:
    """Runs the query_response steps on one connection and records their metrics."""

    def __init__(self, ctx: ProbeContext[TCPProbe], cfg: TCPProbe, conn: Connection, verify: bool = True):
        self.ctx, self.cfg, self.conn, self.verify = ctx, cfg, conn, verify
        self.failed_regex = False

    async def readline(self) -> str | None:
        try:
            raw = await self.conn.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            raw = exc.partial
            if not raw:
                return None
        except asyncio.LimitOverrunError:
            raise ValueError(f"line longer than {MAX_LINE} bytes") from None
        return raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")

    async def run(self, stop_after_starttls: bool = False) -> bool:
        ctx = self.ctx
        for i, qr in enumerate(self.cfg.query_response):
            send = qr.send
            if qr.expect and qr.compiled is not None:
                pattern = qr.compiled
                match = None
                while True:
                    line = await self.readline()
                    if line is None:
                        break
                    ctx.log("read line", step=i, line=line[:200])
                    match = pattern.search(line)
                    if match:
                        break
                if match is None:
                    self.failed_regex = True
                    return ctx.fail(
                        TCPFailure.PROTOCOL, f"step {i}: no line matched {qr.expect!r} before the connection closed"
                    )
                ctx.log("regexp matched", step=i, regexp=qr.expect)
                if qr.labels and self.verify:
                    ctx.metrics.set(EXPECT_INFO, 1, {lab.name: expand(lab.value, match) for lab in qr.labels})
                if isinstance(send, str):
                    send = expand(send, match)
            elif qr.expect_bytes:
                want = qr.expect_bytes if isinstance(qr.expect_bytes, bytes) else qr.expect_bytes.encode()
                try:
                    got = await self.conn.reader.readexactly(len(want))
                except asyncio.IncompleteReadError as exc:
                    got = exc.partial
                if got != want:
                    if self.verify:
                        ctx.metrics.set(FAILED_DUE_TO_BYTES, 1)
                    return ctx.fail(TCPFailure.PROTOCOL, f"step {i}: expected bytes {want!r}, got {got!r}")
            if send:
                ctx.log("sending line", step=i, line=str(send[:200]))
                self.conn.writer.write((send if isinstance(send, bytes) else send.encode()) + b"\n")
                await self.conn.writer.drain()
            if qr.starttls:
                if not await start_tls(ctx, self.conn, self.cfg.tls_config, verify=self.verify):
                    return False
                if stop_after_starttls:
                    return True
        return True


async def _unverified_starttls(ctx: ProbeContext[TCPProbe], cfg: TCPProbe, host: str, port: int) -> None:
    """After a STARTTLS verification failure, replay the dialogue without verification up to the
    first STARTTLS to record the certificate metrics (``probe_tls_verified 0``)."""
    conn = await dial_module(ctx.side(), cfg, host, port)
    if conn is None:
        return
    probe_ctx = ctx.side(metrics=ctx.metrics)
    try:
        async with asyncio.timeout(max(0.05, ctx.remaining)):
            await _Dialogue(probe_ctx, cfg, conn, verify=False).run(stop_after_starttls=True)
    except (TimeoutError, OSError, ValueError, ssl.SSLError) as exc:
        ctx.log("could not read the certificate without verification", err=str(exc))
    finally:
        conn.close()


async def probe_tcp(ctx: ProbeContext[TCPProbe]) -> bool:
    cfg: TCPProbe = ctx.config
    parsed = target_host_port(ctx)
    if parsed is None:
        return False
    host, port = parsed
    ctx.metrics.set(FAILED_DUE_TO_REGEX, 0)  # blackbox registers it before dialling: present on every outcome
    if not cfg.query_response and not cfg.tls and not cfg.source_ip_address:
        # blackbox's plain tcp_connect: nothing to read or write, so no streams to set up.
        if not await connect_only(
            ctx, host, port, preferred=cfg.preferred_ip_protocol, fallback=cfg.ip_protocol_fallback
        ):
            return False
        ctx.metrics.set(FAILED_DUE_TO_REGEX, 0)
        return True
    conn = await dial_module(ctx, cfg, host, port)
    if conn is None:
        return False
    dialogue = _Dialogue(ctx, cfg, conn)
    try:
        async with asyncio.timeout(ctx.remaining):
            ok = await dialogue.run()
    except TimeoutError:
        return ctx.fail(TCPFailure.TIMEOUT, "the query_response dialogue did not finish before the deadline")
    except ValueError as exc:
        return ctx.fail(TCPFailure.PROTOCOL, str(exc))
    except (ConnectionError, OSError) as exc:
        return ctx.fail(TCPFailure.PROTOCOL, f"connection error during the dialogue: {exc}")
    finally:
        conn.close()
        ctx.metrics.set(FAILED_DUE_TO_REGEX, 1 if dialogue.failed_regex else 0)
    if (
        not ok
        and ctx.failure_reason == TCPFailure.TLS
        and any(q.starttls for q in cfg.query_response)
        and ctx.metrics.get(tls.TLS_VERIFIED) is None
    ):
        await _unverified_starttls(ctx, cfg, host, port)
    return ok


SPEC = ProberSpec(TCPProbe, probe_tcp, "TCP connect, TLS, query_response dialogue with STARTTLS", FAMILIES, TCPFailure)
