"""PostgreSQL prober: connect with asyncpg (user, database, password file, sslmode), run a query.

``sslmode`` has libpq's meaning.  For ``require``/``verify-ca``/``verify-full`` the SSLContext is
built from ``tls_config`` (CA, client certificate, ``server_name``); the server is dialled at the
address chosen by ``preferred_ip_protocol`` while the certificate is checked against the target's
host name (or ``tls_config.server_name``).  When verification fails the certificate is read once
more over a bare SSLRequest handshake (no login) so the TLS metrics stay present.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ...core.config import Context, Secret
from ...core.metrics import MetricFamily
from ...core.tlsclient import ClientContexts, TLSConfig
from ..context import ProbeContext
from ..failures import classify_os_error, extend_reasons
from ..net import resolve, tls
from ..net.dial import IP_PROTOCOLS, target_host_port
from ..net.tls import record_tls, server_hostname, verify_error_text
from ..spec import ProberSpec

if TYPE_CHECKING:
    import asyncpg

# asyncpg is imported by the probe, not with this module: it costs ~2-3 MB of RSS that an exporter
# without a postgres module should not pay (the config dataclass above needs nothing from it).

DEFAULT_PORT = 5432
SSLMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
_SSL_REQUEST = struct.pack("!ii", 8, 80877103)

PG_DURATION = MetricFamily(
    "probe_postgres_duration_seconds", "Duration of the PostgreSQL probe by phase", labels=("phase",)
)
PG_SSL = MetricFamily("probe_postgres_ssl", "1 if the session is encrypted with TLS")
PG_SERVER_VERSION = MetricFamily(
    "probe_postgres_server_version", "Server version as server_version_num (150004 = 15.4)"
)
PG_VERSION_INFO = MetricFamily("probe_postgres_version_info", "Server version string", labels=("version",))
PG_QUERY_ROWS = MetricFamily("probe_postgres_query_rows", "Rows returned by the probe query")
PG_IN_RECOVERY = MetricFamily("probe_postgres_in_recovery", "1 on a standby (pg_is_in_recovery()), 0 on a primary")
FAMILIES = (
    PG_DURATION,
    PG_SSL,
    PG_SERVER_VERSION,
    PG_VERSION_INFO,
    PG_QUERY_ROWS,
    PG_IN_RECOVERY,
    *resolve.FAMILIES,
    *tls.FAMILIES,
)
PostgresFailure = extend_reasons(
    "PostgresFailure",
    "auth",  # login refused
    "query",  # the probe query failed
    "health_check",  # fail_if_in_recovery / fail_if_not_in_recovery
)


@dataclass
class PostgresProbe:
    user: str = "postgres"
    # Empty: the user name, as libpq does.
    database: str = ""
    password_file: str = ""
    sslmode: SSLMode = "prefer"
    tls_config: TLSConfig = field(default_factory=TLSConfig)
    query: str = "SELECT 1"
    # Fail (reason health_check) on a standby / on a primary: route probes at the right role.
    fail_if_in_recovery: bool = False
    fail_if_not_in_recovery: bool = False
    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True
    password: Secret | None = field(default=None, metadata={"internal": True})

    def validate(self, ctx: Context, path: tuple) -> None:
        if not self.user:
            ctx.error((*path, "user"), "user must not be empty")
        if self.password_file:
            self.password = ctx.read_secret_file((*path, "password_file"), self.password_file)
        if not self.query.strip():
            ctx.error((*path, "query"), "query must not be empty (the default is SELECT 1)")
        if self.fail_if_in_recovery and self.fail_if_not_in_recovery:
            ctx.error(
                (*path, "fail_if_not_in_recovery"),
                "fail_if_in_recovery and fail_if_not_in_recovery cannot both be true",
            )
        if self.preferred_ip_protocol not in IP_PROTOCOLS:
            ctx.error((*path, "preferred_ip_protocol"), f"expected ip4 or ip6, got {self.preferred_ip_protocol!r}")
        if self.sslmode in ("disable", "allow", "prefer") and self.tls_config != TLSConfig():
            ctx.warn((*path, "tls_config"), f"tls_config is ignored with sslmode {self.sslmode}")


def ssl_context(contexts: ClientContexts, cfg: TLSConfig, mode: str, name: str | None) -> ssl.SSLContext:
    """A client context for ``require``/``verify-ca``/``verify-full`` that checks ``name``
    (cached with the configuration generation's other client contexts)."""
    return contexts.custom(("postgres", cfg, mode, name), lambda: _build_ssl_context(cfg, mode, name))


def _build_ssl_context(cfg: TLSConfig, mode: str, name: str | None) -> ssl.SSLContext:
    """asyncpg hands the dialled address (an IP) to the TLS layer as the server name; the context
    substitutes ``name`` so SNI and hostname verification use the target's host name.
    """
    ctx = ssl.create_default_context(cafile=cfg.ca_file or None)
    if cfg.cert_file:
        ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
    if mode == "require" or cfg.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif mode == "verify-ca":
        ctx.check_hostname = False
    wrap_bio = ctx.wrap_bio

    def wrap_with_name(
        incoming: Any, outgoing: Any, server_side: bool = False, server_hostname: str | None = None, session: Any = None
    ) -> ssl.SSLObject:
        return wrap_bio(
            incoming, outgoing, server_side=server_side, server_hostname=name or server_hostname, session=session
        )

    ctx.wrap_bio = wrap_with_name  # type: ignore[method-assign]
    return ctx


async def _inspect_unverified(ctx: ProbeContext[PostgresProbe], ip: str, port: int, name: str | None) -> None:
    """SSLRequest + handshake without verification, only to record the certificate metrics."""
    writer = None
    try:
        async with asyncio.timeout(max(0.1, ctx.remaining)):
            reader, writer = await asyncio.open_connection(ip, port)
            writer.write(_SSL_REQUEST)
            if await reader.readexactly(1) != b"S":
                return
            nover = ssl_context(ctx.tls, TLSConfig(insecure_skip_verify=True), "require", name)
            await writer.start_tls(nover, server_hostname=name or "")
            obj = writer.get_extra_info("ssl_object")
            if obj is not None:
                record_tls(ctx, obj, verified=False)
    except (OSError, ssl.SSLError, TimeoutError, asyncio.IncompleteReadError) as exc:
        ctx.log("could not read the certificate without verification", err=str(exc))
    finally:
        if writer is not None:
            writer.transport.abort()


def _server_version_num(v: Any) -> int:
    # server_version_num style: 150004 for 15.4, 90624 for 9.6.24
    return v.major * 10000 + v.micro if v.major >= 10 else v.major * 10000 + v.minor * 100 + v.micro


async def probe_postgres(ctx: ProbeContext[PostgresProbe]) -> bool:
    import asyncpg

    cfg: PostgresProbe = ctx.config
    parsed = target_host_port(ctx, DEFAULT_PORT)
    if parsed is None:
        return False
    host, port = parsed
    ip = await resolve.resolve(ctx, host, cfg.preferred_ip_protocol, cfg.ip_protocol_fallback)
    if ip is None:
        return False
    name = server_hostname(cfg.tls_config, host)
    sslarg: Any = cfg.sslmode
    if cfg.sslmode in ("require", "verify-ca", "verify-full"):
        sslarg = ssl_context(ctx.tls, cfg.tls_config, cfg.sslmode, name)
    m = ctx.metrics
    conn = None
    t0 = time.monotonic()
    try:
        conn = await asyncpg.connect(
            host=ip,
            port=port,
            user=cfg.user,
            database=cfg.database or cfg.user,
            password=str(cfg.password) if cfg.password is not None else "",
            ssl=sslarg,
            timeout=max(0.05, ctx.remaining),
            statement_cache_size=0,
            server_settings={"application_name": "infrawatch-probe"},
        )
    except TimeoutError:
        # asyncpg's timeout spans TCP connect, TLS and login: which part hung is not known here.
        return ctx.fail(
            PostgresFailure.TIMEOUT, f"no PostgreSQL session (connect, TLS, login) with {ip}:{port} before the deadline"
        )
    except ssl.SSLCertVerificationError as exc:
        ctx.fail(PostgresFailure.TLS, f"certificate verification failed: {verify_error_text(exc)}")
        await _inspect_unverified(ctx, ip, port, name)
        return False
    except ssl.SSLError as exc:
        return ctx.fail(PostgresFailure.TLS, f"TLS handshake failed: {exc}")
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
        return ctx.fail(PostgresFailure.AUTH, f"login as {cfg.user!r} refused: {exc}")
    except asyncpg.PostgresError as exc:
        # e.g. database does not exist, too many connections, server starting up / shutting down
        return ctx.fail(PostgresFailure.PROTOCOL, f"PostgreSQL refused the session: {type(exc).__name__}: {exc}")
    except ConnectionError as exc:
        if "SSL" in str(exc) or "ssl" in str(exc):
            return ctx.fail(PostgresFailure.TLS, f"{exc}")
        return ctx.fail(classify_os_error(exc), f"connecting to {ip}:{port}: {exc}")
    except OSError as exc:
        return ctx.fail(classify_os_error(exc), f"connecting to {ip}:{port}: {exc}")
    except asyncpg.InterfaceError as exc:
        return ctx.fail(PostgresFailure.PROTOCOL, f"connecting to {ip}:{port}: {exc}")
    try:
        m.set(PG_DURATION, time.monotonic() - t0, {"phase": "connect"})
        transport = getattr(conn, "_transport", None)
        obj = transport.get_extra_info("ssl_object") if transport is not None else None
        m.set(PG_SSL, 1 if obj is not None else 0)
        if obj is not None:
            verified = not isinstance(sslarg, str) and sslarg.verify_mode != ssl.CERT_NONE
            record_tls(ctx, obj, verified=verified)
        version = conn.get_server_version()
        settings = conn.get_settings()
        m.set(PG_SERVER_VERSION, _server_version_num(version))
        m.set(PG_VERSION_INFO, 1, {"version": str(getattr(settings, "server_version", "")).split(" ")[0]})
        ctx.log(
            "connected",
            ip=ip,
            port=port,
            user=cfg.user,
            database=cfg.database or cfg.user,
            ssl=obj is not None,
            version=str(getattr(settings, "server_version", "")),
        )
        return await _queries(ctx, cfg, conn)
    finally:
        try:
            async with asyncio.timeout(1):
                await conn.close(timeout=1)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            conn.terminate()


async def _queries(ctx: ProbeContext[PostgresProbe], cfg: PostgresProbe, conn: asyncpg.Connection) -> bool:
    import asyncpg

    m = ctx.metrics
    t1 = time.monotonic()
    try:
        async with asyncio.timeout(ctx.remaining):
            rows = await conn.fetch(cfg.query)
    except TimeoutError:
        return ctx.fail(PostgresFailure.TIMEOUT, f"query {cfg.query!r} did not finish before the deadline")
    except asyncpg.PostgresError as exc:
        return ctx.fail(PostgresFailure.QUERY, f"query {cfg.query!r} failed: {type(exc).__name__}: {exc}")
    except (asyncpg.InterfaceError, OSError) as exc:
        return ctx.fail(PostgresFailure.PROTOCOL, f"connection lost during the query: {exc}")
    m.set(PG_DURATION, time.monotonic() - t1, {"phase": "query"})
    m.set(PG_QUERY_ROWS, len(rows))
    ctx.log("query done", query=cfg.query, rows=len(rows))
    try:
        async with asyncio.timeout(ctx.remaining):
            in_recovery = bool(await conn.fetchval("SELECT pg_is_in_recovery()"))
    except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        ctx.log("pg_is_in_recovery() failed; probe_postgres_in_recovery skipped", err=str(exc))
        return True
    m.set(PG_IN_RECOVERY, 1 if in_recovery else 0)
    if cfg.fail_if_in_recovery and in_recovery:
        return ctx.fail(
            PostgresFailure.HEALTH_CHECK, "server is in recovery (a standby) and fail_if_in_recovery is set"
        )
    if cfg.fail_if_not_in_recovery and not in_recovery:
        return ctx.fail(PostgresFailure.HEALTH_CHECK, "server is a primary and fail_if_not_in_recovery is set")
    return True


SPEC = ProberSpec(
    PostgresProbe, probe_postgres, "PostgreSQL login and a query", FAMILIES, PostgresFailure, ("asyncpg",)
)
