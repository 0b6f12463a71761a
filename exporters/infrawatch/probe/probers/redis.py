"""Redis prober: connect (optionally TLS), AUTH (ACL user + password file), PING, then INFO.

Uses redis-py's asyncio ``Connection`` (one connection, no pool, no retries) so the handshake,
AUTH and RESP parsing are the library's; the only thing added is the TLS context from
``tls_config`` so certificate metrics and ``server_name`` work as in the other probers.
INFO is optional and best-effort: a monitoring ACL user without ``+info`` still gets a passing
probe, just without the role/memory gauges.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ...core.config import Context, Secret
from ...core.metrics import MetricFamily
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext
from ..failures import classify_os_error, extend_reasons
from ..net import resolve, tls
from ..net.dial import IP_PROTOCOLS, target_host_port
from ..net.tls import record_tls, server_hostname, verify_error_text
from ..spec import ProberSpec

DEFAULT_PORT = 6379
REDIS_DURATION = MetricFamily("probe_redis_duration_seconds", "Duration of the Redis probe by phase", labels=("phase",))
REDIS_ROLE_INFO = MetricFamily(
    "probe_redis_role_info", "Replication role reported by INFO (master or slave)", labels=("role",)
)
REDIS_VERSION_INFO = MetricFamily(
    "probe_redis_version_info", "Redis server version reported by INFO", labels=("version",)
)
REDIS_MASTER_LINK_UP = MetricFamily("probe_redis_master_link_up", "1 when a replica's link to its master is up")
# INFO field -> family
REDIS_INFO_NUMBERS = (
    ("connected_clients", MetricFamily("probe_redis_connected_clients", "Client connections reported by INFO")),
    ("used_memory", MetricFamily("probe_redis_used_memory_bytes", "Memory used by Redis in bytes (INFO used_memory)")),
    ("maxmemory", MetricFamily("probe_redis_maxmemory_bytes", "Configured maxmemory in bytes, 0 when unlimited")),
    ("connected_slaves", MetricFamily("probe_redis_connected_replicas", "Replicas connected to this server")),
    ("uptime_in_seconds", MetricFamily("probe_redis_uptime_seconds", "Seconds since the Redis server started")),
)
FAMILIES = (
    REDIS_DURATION,
    REDIS_ROLE_INFO,
    REDIS_VERSION_INFO,
    *(family for _, family in REDIS_INFO_NUMBERS),
    REDIS_MASTER_LINK_UP,
    *resolve.FAMILIES,
    *tls.FAMILIES,
)
RedisFailure = extend_reasons(
    "RedisFailure",
    "auth",  # AUTH refused, or PING not permitted
    "query",  # Redis refused the set-up (SELECT) or PING
    "health_check",  # INFO's role is not one of valid_roles
)
# redis-py is imported by the probe (and preloaded when a redis module is configured, see
# ProberSpec.libraries), not with this module: it costs ~5 MB of RSS.


@dataclass
class RedisProbe:
    # ACL user (Redis 6+); empty means the legacy ``requirepass`` AUTH with the password alone.
    username: str = ""
    password_file: str = ""
    db: int = 0
    tls: bool = False
    tls_config: TLSConfig = field(default_factory=TLSConfig)
    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True
    # Read INFO for role/memory/clients gauges (needs +info for an ACL user).
    info: bool = True
    # Fail (reason health_check) unless INFO's role is one of these, e.g. [master].
    valid_roles: list[Literal["master", "slave", "replica"]] = field(default_factory=list)
    password: Secret | None = field(default=None, metadata={"internal": True})

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.password_file:
            self.password = ctx.read_secret_file((*path, "password_file"), self.password_file)
        elif self.username:
            ctx.error((*path, "password_file"), "an ACL username needs a password_file")
        if self.db < 0:
            ctx.error((*path, "db"), "db must be >= 0")
        if self.valid_roles and not self.info:
            ctx.error((*path, "valid_roles"), "valid_roles needs info: true (the role comes from INFO)")
        if self.preferred_ip_protocol not in IP_PROTOCOLS:
            ctx.error((*path, "preferred_ip_protocol"), f"expected ip4 or ip6, got {self.preferred_ip_protocol!r}")


@functools.cache
def _connection_class() -> type:
    """redis-py's TCP connection with our own SSLContext and SNI name (None for plain TCP)."""
    import redis.asyncio.connection as rconn

    class _ProbeConnection(rconn.Connection):
        def __init__(self, *, probe_ssl: ssl.SSLContext | None, probe_sni: str | None, **kw: Any):
            self._probe_ssl = probe_ssl
            self._probe_sni = probe_sni
            super().__init__(**kw)

        def _connection_arguments(self) -> Mapping:
            args = dict(super()._connection_arguments())
            if self._probe_ssl is not None:
                args["ssl"] = self._probe_ssl
                args["server_hostname"] = self._probe_sni or ""
            return args

    return _ProbeConnection


def parse_info(raw: bytes | str) -> dict[str, str]:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def _num(info: dict[str, str], key: str) -> float | None:
    try:
        return float(info[key])
    except (KeyError, ValueError):
        return None


def _record_info(ctx: ProbeContext[RedisProbe], info: dict[str, str]) -> None:
    m = ctx.metrics
    role = info.get("role", "")
    if role:
        m.set(REDIS_ROLE_INFO, 1, {"role": role})
    if "redis_version" in info:
        m.set(REDIS_VERSION_INFO, 1, {"version": info["redis_version"]})
    for key, family in REDIS_INFO_NUMBERS:
        v = _num(info, key)
        if v is not None:
            m.set(family, v)
    if role == "slave" and "master_link_status" in info:
        m.set(REDIS_MASTER_LINK_UP, 1 if info["master_link_status"] == "up" else 0)


async def probe_redis(ctx: ProbeContext[RedisProbe]) -> bool:
    import redis.exceptions as rexc
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    cfg: RedisProbe = ctx.config
    parsed = target_host_port(ctx, DEFAULT_PORT)
    if parsed is None:
        return False
    host, port = parsed
    ip = await resolve.resolve(ctx, host, cfg.preferred_ip_protocol, cfg.ip_protocol_fallback)
    if ip is None:
        return False
    sslctx = ctx.tls.get(cfg.tls_config) if cfg.tls else None
    conn = _connection_class()(
        probe_ssl=sslctx,
        probe_sni=server_hostname(cfg.tls_config, host) if cfg.tls else None,
        host=ip,
        port=port,
        db=cfg.db,
        username=cfg.username or None,
        password=str(cfg.password) if cfg.password is not None else None,
        socket_timeout=max(0.05, ctx.remaining),
        socket_connect_timeout=max(0.05, ctx.remaining),
        # No client_name: CLIENT SETNAME needs a permission monitoring ACL users rarely have.
        retry=Retry(NoBackoff(), 0),
    )
    try:
        async with asyncio.timeout(ctx.remaining):
            return await _dialogue(ctx, cfg, conn, sslctx)
    except TimeoutError:
        return ctx.fail(RedisFailure.TIMEOUT, "Redis did not answer before the deadline")
    finally:
        # disconnect() may wait for a close handshake; the probe is over, so cap it.
        try:
            async with asyncio.timeout(1):
                await conn.disconnect(nowait=True)
        except (TimeoutError, OSError, rexc.RedisError):
            pass


async def _dialogue(ctx: ProbeContext[RedisProbe], cfg: RedisProbe, conn: Any, sslctx: ssl.SSLContext | None) -> bool:
    import redis.exceptions as rexc

    m = ctx.metrics
    t0 = time.monotonic()
    try:
        await conn.connect()
    except rexc.AuthenticationError as exc:
        return ctx.fail(
            RedisFailure.AUTH, f"AUTH refused{' for user ' + repr(cfg.username) if cfg.username else ''}: {exc}"
        )
    except rexc.ResponseError as exc:
        # e.g. SELECT on a db that does not exist, CLIENT SETNAME refused
        return ctx.fail(RedisFailure.QUERY, f"Redis refused the connection set-up: {exc}")
    except rexc.ConnectionError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ssl.SSLCertVerificationError):
            return ctx.fail(RedisFailure.TLS, f"certificate verification failed: {verify_error_text(cause)}")
        if isinstance(cause, ssl.SSLError):
            return ctx.fail(RedisFailure.TLS, f"TLS handshake failed: {cause}")
        if isinstance(cause, OSError):
            return ctx.fail(classify_os_error(cause), f"connecting to {conn.host}:{conn.port}: {cause}")
        text = str(exc)
        reason = RedisFailure.CONNECT_REFUSED if "refused" in text.lower() else RedisFailure.CONNECT_ERROR
        return ctx.fail(reason, f"connecting to {conn.host}:{conn.port}: {text}")
    except rexc.TimeoutError:
        return ctx.fail(RedisFailure.CONNECT_TIMEOUT, f"no connection to {conn.host}:{conn.port} before the deadline")
    m.set(REDIS_DURATION, time.monotonic() - t0, {"phase": "connect"})
    ctx.log("connected", ip=conn.host, port=conn.port, user=cfg.username or "default")
    if sslctx is not None:
        writer = getattr(conn, "_writer", None)
        obj = writer.get_extra_info("ssl_object") if writer is not None else None
        if obj is not None:
            record_tls(ctx, obj, verified=sslctx.verify_mode != ssl.CERT_NONE)

    t1 = time.monotonic()
    try:
        await conn.send_command("PING")
        reply = await conn.read_response()
    except rexc.AuthenticationError as exc:
        return ctx.fail(RedisFailure.AUTH, f"PING refused, authentication required: {exc}")
    except rexc.NoPermissionError as exc:
        return ctx.fail(RedisFailure.AUTH, f"PING not permitted for this user: {exc}")
    except rexc.ResponseError as exc:
        return ctx.fail(RedisFailure.QUERY, f"PING failed: {exc}")
    except (rexc.ConnectionError, rexc.TimeoutError) as exc:
        return ctx.fail(RedisFailure.PROTOCOL, f"connection lost during PING: {exc}")
    m.set(REDIS_DURATION, time.monotonic() - t1, {"phase": "ping"})
    if reply not in (b"PONG", "PONG", True):
        return ctx.fail(RedisFailure.PROTOCOL, f"unexpected PING reply {reply!r}")
    ctx.log("PING answered", reply=reply)

    if not cfg.info:
        return True
    t2 = time.monotonic()
    try:
        await conn.send_command("INFO")
        info = parse_info(await conn.read_response())
    except rexc.NoPermissionError as exc:
        ctx.log("INFO not permitted for this user; role and memory gauges skipped", err=str(exc))
        return True
    except rexc.ResponseError as exc:
        ctx.log("INFO failed; role and memory gauges skipped", err=str(exc))
        return True
    except (rexc.ConnectionError, rexc.TimeoutError) as exc:
        return ctx.fail(RedisFailure.PROTOCOL, f"connection lost during INFO: {exc}")
    m.set(REDIS_DURATION, time.monotonic() - t2, {"phase": "info"})
    _record_info(ctx, info)
    ctx.log(
        "INFO",
        role=info.get("role"),
        version=info.get("redis_version"),
        used_memory=info.get("used_memory"),
        clients=info.get("connected_clients"),
    )
    if cfg.valid_roles:
        role = info.get("role", "")
        wanted = {"slave" if r == "replica" else r for r in cfg.valid_roles}
        if role not in wanted:
            return ctx.fail(RedisFailure.HEALTH_CHECK, f"role {role!r} is not one of {', '.join(cfg.valid_roles)}")
    return True


SPEC = ProberSpec(
    RedisProbe,
    probe_redis,
    "Redis AUTH + PING, role and memory from INFO",
    FAMILIES,
    RedisFailure,
    ("redis.asyncio.connection", "redis.exceptions", "redis.backoff", "redis.retry"),
)
