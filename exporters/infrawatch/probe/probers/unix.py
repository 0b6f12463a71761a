"""blackbox_exporter's ``unix`` prober (0.25+): connect to a Unix domain socket, optional TLS, and
run a ``query_response`` dialogue, the tcp prober's engine with the same step keys and metrics.

Target: the socket's path (``/run/app.sock``).  The dialogue is the tcp prober's (``_Dialogue``),
so ``expect``, ``expect_bytes``, ``send``, ``labels`` and ``starttls`` behave identically on both.
TLS over a Unix socket has no host name to check: ``tls_config.server_name`` names the certificate,
or ``insecure_skip_verify`` is set (checked at load; Go's TLS client refuses the same at probe time).
"""

from __future__ import annotations

import asyncio
import errno
import ssl
import time
from dataclasses import dataclass, field

from ...core.config import Context
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext
from ..families import FAILED_DUE_TO_REGEX
from ..net import tls
from ..net.dial import Connection
from ..net.tls import record_tls, verify_error_text
from ..spec import ProberSpec
from .tcp import EXPECT_INFO, FAILED_DUE_TO_BYTES, QueryResponse, TCPFailure, TCPProbe, _Dialogue

FAMILIES = (FAILED_DUE_TO_REGEX, FAILED_DUE_TO_BYTES, EXPECT_INFO, *tls.FAMILIES)
UnixFailure = TCPFailure


@dataclass
class UnixProbe:
    query_response: list[QueryResponse] = field(default_factory=list)
    tls: bool = False
    tls_config: TLSConfig = field(default_factory=TLSConfig)

    def validate(self, ctx: Context, path: tuple) -> None:
        uses_tls = self.tls or any(q.starttls for q in self.query_response)
        if uses_tls and not self.tls_config.server_name and not self.tls_config.insecure_skip_verify:
            ctx.error(
                (*path, "tls_config", "server_name"),
                "TLS over a unix socket has no host name to verify: set tls_config.server_name "
                "(or insecure_skip_verify)",
            )
        # The tcp section's checks of the keys both sections share (labels unique across steps).
        TCPProbe(query_response=self.query_response, tls=self.tls, tls_config=self.tls_config).validate(ctx, path)


async def _connect(ctx: ProbeContext[UnixProbe], cfg: UnixProbe, path: str) -> Connection | None:
    sslctx = ctx.tls.get(cfg.tls_config) if cfg.tls else None
    kwargs: dict = {}
    if sslctx is not None:
        kwargs = {
            "ssl": sslctx,
            "server_hostname": cfg.tls_config.server_name or None,
            "ssl_handshake_timeout": max(0.05, ctx.remaining),
        }
    t0 = time.monotonic()
    try:
        async with asyncio.timeout(ctx.remaining):
            reader, writer = await asyncio.open_unix_connection(path, **kwargs)
    except TimeoutError:
        ctx.fail(UnixFailure.CONNECT_TIMEOUT, f"no connection to {path} before the deadline")
        return None
    except ssl.SSLCertVerificationError as exc:
        ctx.fail(UnixFailure.TLS, f"certificate verification failed: {verify_error_text(exc)}")
        return None
    except ssl.SSLError as exc:
        ctx.fail(UnixFailure.TLS, f"TLS handshake on {path} failed: {exc}")
        return None
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            ctx.fail(UnixFailure.CONNECT_ERROR, f"permission denied connecting to unix socket {path}: {exc.strerror}")
        elif exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            # ENOENT: nothing listens there (yet); a refused TCP connect is the same situation.
            ctx.fail(UnixFailure.CONNECT_REFUSED, f"connecting to unix socket {path}: {exc.strerror}")
        else:
            ctx.fail(UnixFailure.CONNECT_ERROR, f"connecting to unix socket {path}: {exc}")
        return None
    ctx.log("connected", path=path, seconds=round(time.monotonic() - t0, 6))
    if sslctx is not None:
        obj = writer.get_extra_info("ssl_object")
        if obj is not None:
            record_tls(ctx, obj, verified=sslctx.verify_mode != ssl.CERT_NONE)
    return Connection(reader, writer, cfg.tls_config.server_name, path, 0)


async def probe_unix(ctx: ProbeContext[UnixProbe]) -> bool:
    cfg: UnixProbe = ctx.config
    path = ctx.target
    if not path.startswith("/"):
        return ctx.fail(UnixFailure.CONFIG, f"target {path!r} is not an absolute unix socket path")
    conn = await _connect(ctx, cfg, path)
    if conn is None:
        return False
    dialogue = _Dialogue(ctx, cfg, conn)  # type: ignore[arg-type]  # the tcp engine reads query_response and tls_config
    try:
        async with asyncio.timeout(ctx.remaining):
            return await dialogue.run()
    except TimeoutError:
        return ctx.fail(UnixFailure.TIMEOUT, "the query_response dialogue did not finish before the deadline")
    except ValueError as exc:
        return ctx.fail(UnixFailure.PROTOCOL, str(exc))
    except (ConnectionError, OSError) as exc:
        return ctx.fail(UnixFailure.PROTOCOL, f"connection error during the dialogue: {exc}")
    finally:
        conn.close()
        ctx.metrics.set(FAILED_DUE_TO_REGEX, 1 if dialogue.failed_regex else 0)


SPEC = ProberSpec(UnixProbe, probe_unix, "Unix socket connect, TLS, query_response dialogue", FAMILIES, UnixFailure)
