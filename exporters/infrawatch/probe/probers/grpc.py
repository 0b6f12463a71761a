"""blackbox_exporter's ``grpc`` prober: the standard ``grpc.health.v1.Health/Check`` call.

grpcio's asyncio client makes the call; one channel per probe with its own subchannel pool
(``grpc.use_local_subchannel_pool``), so a probe never rides on another probe's connection and its
``check`` phase includes the connection, as blackbox's does.  The channel dials the address that
``preferred_ip_protocol``/``ip_protocol_fallback`` chose, with the target's host as ``:authority``
and TLS name (or ``tls_config.server_name``).

grpcio does not show the client the server's certificate, so with ``tls: true`` the TLS metrics
come from a second, plain TLS handshake with the same ``tls_config`` (and ALPN ``h2``) after the
call: the same certificate metrics as the other probers, ``probe_tls_verified`` included.  It also
tells a certificate problem (reason ``tls``) from a refused connection when the call fails with
``UNAVAILABLE``.  grpcio cannot skip verification; ``insecure_skip_verify`` is done by trusting
the certificate the server presented in that handshake (see docs/probers.md for the limits).

grpcio is imported on first use (idle RSS 44.7 -> 54.9 MB with a grpc module configured), not with
this module.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from ... import __version__
from ...core.config import Context, Secret
from ...core.metrics import MetricFamily
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext
from ..failures import classify_os_error, extend_reasons
from ..net import resolve, tls
from ..net.dial import IP_PROTOCOLS, split_host_port
from ..net.tls import inspect_unverified, record_tls, server_hostname, verify_error_text
from ..spec import ProberSpec

GRPC_DURATION = MetricFamily("probe_grpc_duration_seconds", "Duration of gRPC request by phase", labels=("phase",))
GRPC_SSL = MetricFamily("probe_grpc_ssl", "Indicates if SSL was used for the connection")
GRPC_STATUS_CODE = MetricFamily("probe_grpc_status_code", "Response gRPC status code")
GRPC_HEALTHCHECK_RESPONSE = MetricFamily(
    "probe_grpc_healthcheck_response", "Response HealthCheck response", labels=("serving_status",)
)
FAMILIES = (GRPC_DURATION, GRPC_SSL, GRPC_STATUS_CODE, GRPC_HEALTHCHECK_RESPONSE, *resolve.FAMILIES, *tls.FAMILIES)
GRPCFailure = extend_reasons(
    "GRPCFailure",
    "health_check",  # the service answered NOT_SERVING / UNKNOWN, or the server does not know the service
    "auth",  # UNAUTHENTICATED or PERMISSION_DENIED (wrong or missing metadata credentials)
)
# grpc.health.v1.HealthCheckResponse.ServingStatus, in enum order; every one is exported (0 or 1).
SERVING_STATUSES = ("UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN")
# gRPC metadata keys: lower-case letters, digits, '-', '_', '.' (upper case is lowered, as Go does).
_METADATA_KEY = re.compile(r"^[0-9a-z_.-]+$")
LIBRARIES = ("grpc", "grpc.aio", "grpc_health.v1.health_pb2", "grpc_health.v1.health_pb2_grpc")
# gRPC core writes each failed handshake to stderr at its default verbosity; the probe reports
# failures itself.  Read by grpcio when it is first imported (an operator's setting wins).
os.environ.setdefault("GRPC_VERBOSITY", "NONE")


@dataclass
class GRPCProbe:
    service: str = ""
    tls: bool = False
    tls_config: TLSConfig = field(default_factory=TLSConfig)
    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True
    # Request metadata (newer blackbox): key -> value or list of values.  Values are often tokens,
    # so they are Secrets: masked in /config and never logged.
    metadata: dict[str, Secret | list[Secret]] = field(default_factory=dict)

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.preferred_ip_protocol not in IP_PROTOCOLS:
            ctx.error((*path, "preferred_ip_protocol"), f"expected ip4 or ip6, got {self.preferred_ip_protocol!r}")
        for key in self.metadata:
            if not _METADATA_KEY.match(key.lower()) or key.lower().startswith("grpc-"):
                ctx.error(
                    (*path, "metadata", key),
                    "not a valid gRPC metadata key (letters, digits, '-', '_', '.'; 'grpc-' is reserved)",
                )
            elif key.lower().endswith("-bin"):
                ctx.error((*path, "metadata", key), "binary ('-bin') metadata is not supported")

    def metadata_pairs(self) -> tuple[tuple[str, str], ...]:
        pairs: list[tuple[str, str]] = []
        for key, value in self.metadata.items():
            for v in value if isinstance(value, list) else [value]:
                pairs.append((key.lower(), str(v)))
        return tuple(pairs)


def grpc_target(target: str, use_tls: bool) -> tuple[str, int] | None:
    """blackbox's target rule: an optional ``http://``/``https://`` prefix, ``host[:port]``;
    without a port 443 with TLS and 80 without."""
    t = target.strip()
    for prefix in ("http://", "https://"):
        if t.startswith(prefix):
            t = t[len(prefix) :]
            break
    return split_host_port(t.rstrip("/"), 443 if use_tls else 80)


def _channel_address(ip: str, port: int) -> str:
    return f"ipv6:[{ip}]:{port}" if ":" in ip else f"ipv4:{ip}:{port}"


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _tls_handshake(
    ctx: ProbeContext[GRPCProbe], cfg: GRPCProbe, ip: str, port: int, name: str | None
) -> BaseException | None:
    """A plain TLS handshake (ALPN h2) with the module's ``tls_config`` that records the TLS
    metrics; returns the error when it fails."""
    sslctx = ctx.tls.get(cfg.tls_config, alpn=("h2",))
    writer = None
    try:
        async with asyncio.timeout(max(0.1, ctx.remaining)):
            _, writer = await asyncio.open_connection(ip, port, ssl=sslctx, server_hostname=name or "")
        obj = writer.get_extra_info("ssl_object")
        if obj is not None:
            record_tls(ctx, obj, verified=sslctx.verify_mode != ssl.CERT_NONE)
        return None
    except (OSError, ssl.SSLError, TimeoutError) as exc:
        return exc
    finally:
        if writer is not None:
            writer.transport.abort()


async def _presented_certificate(
    ctx: ProbeContext[GRPCProbe], cfg: GRPCProbe, ip: str, port: int, name: str | None
) -> bytes | None:
    """The server's leaf certificate (PEM), read without verification (``insecure_skip_verify``)."""
    writer = None
    try:
        async with asyncio.timeout(max(0.1, ctx.remaining)):
            _, writer = await asyncio.open_connection(
                ip, port, ssl=ctx.tls.get(cfg.tls_config, verify=False, alpn=("h2",)), server_hostname=name or ""
            )
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        return ssl.DER_cert_to_PEM_cert(der).encode() if der else None
    except (OSError, ssl.SSLError, TimeoutError) as exc:
        ctx.log("could not read the server certificate", err=str(exc))
        return None
    finally:
        if writer is not None:
            writer.transport.abort()


def _read(path: str) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read()


@functools.cache
def _system_roots() -> bytes | None:
    """The system CA bundle, as Go and the other probers use it (grpcio would otherwise take the
    roots bundled with it)."""
    cafile = ssl.get_default_verify_paths().cafile
    try:
        return _read(cafile) if cafile else None
    except OSError:
        return None


async def _credentials(
    ctx: ProbeContext[GRPCProbe], cfg: GRPCProbe, ip: str, port: int, sni: str | None
) -> tuple[Any, str | None]:
    """grpcio channel credentials and the name the certificate must carry.  Raises OSError when
    a file of ``tls_config`` cannot be read."""
    import grpc

    tc = cfg.tls_config
    roots = _read(tc.ca_file) if tc.ca_file else _system_roots()
    name = tc.server_name or None
    if tc.insecure_skip_verify:
        roots = await _presented_certificate(ctx, cfg, ip, port, sni)
        if roots is not None and not name:
            from cryptography import x509

            cert = x509.load_pem_x509_certificate(roots)
            try:
                sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                names = [*sans.get_values_for_type(x509.DNSName), *map(str, sans.get_values_for_type(x509.IPAddress))]
            except x509.ExtensionNotFound:
                names = []
            name = names[0] if names else None
    creds = grpc.ssl_channel_credentials(
        root_certificates=roots, private_key=_read(tc.key_file), certificate_chain=_read(tc.cert_file)
    )
    return creds, name


def _record_response(ctx: ProbeContext[GRPCProbe], serving_status: str | None) -> None:
    for status in SERVING_STATUSES:
        ctx.metrics.set(GRPC_HEALTHCHECK_RESPONSE, 1 if status == serving_status else 0, {"serving_status": status})


async def probe_grpc(ctx: ProbeContext[GRPCProbe]) -> bool:
    cfg: GRPCProbe = ctx.config
    phases = {"resolve": 0.0}
    try:
        return await _probe(ctx, cfg, phases)
    finally:
        for phase, seconds in phases.items():
            ctx.metrics.set(GRPC_DURATION, seconds, {"phase": phase})


async def _probe(ctx: ProbeContext[GRPCProbe], cfg: GRPCProbe, phases: dict[str, float]) -> bool:
    import grpc
    import grpc.aio
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    parsed = grpc_target(ctx.target, cfg.tls)
    if parsed is None:
        return ctx.fail(GRPCFailure.CONFIG, f"target {ctx.target!r} is not [http(s)://]host[:port]")
    host, port = parsed
    t0 = time.monotonic()
    ip = await resolve.resolve(ctx, host, cfg.preferred_ip_protocol, cfg.ip_protocol_fallback)
    phases["resolve"] = time.monotonic() - t0
    if ip is None:
        return False
    t1 = time.monotonic()
    options: list[tuple[str, Any]] = [
        ("grpc.use_local_subchannel_pool", 1),
        ("grpc.enable_retries", 0),
        ("grpc.primary_user_agent", f"infrawatch-probe/{__version__}"),
        ("grpc.default_authority", _authority(host.strip("[]"), port)),
    ]
    tls_name = server_hostname(cfg.tls_config, host)
    address = _channel_address(ip, port)
    if cfg.tls:
        try:
            creds, override = await _credentials(ctx, cfg, ip, port, tls_name)
        except OSError as exc:
            phases["check"] = time.monotonic() - t1
            return ctx.fail(GRPCFailure.CONFIG, f"cannot read a tls_config file: {exc}")
        tls_name = override or tls_name
        if tls_name:
            options.append(("grpc.ssl_target_name_override", tls_name))
        channel = grpc.aio.secure_channel(address, creds, options=options)
    else:
        channel = grpc.aio.insecure_channel(address, options=options)
    ctx.log("calling grpc.health.v1.Health/Check", address=address, service=cfg.service, tls=cfg.tls)
    response = error = None
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        response = await stub.Check(
            health_pb2.HealthCheckRequest(service=cfg.service),
            timeout=max(0.05, ctx.remaining),
            metadata=cfg.metadata_pairs() or None,
        )
    except grpc.aio.AioRpcError as exc:
        error = exc
    finally:
        phases["check"] = time.monotonic() - t1
        await channel.close()

    serving = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status) if response is not None else None
    _record_response(ctx, serving)
    code = grpc.StatusCode.OK if error is None else error.code()
    ctx.metrics.set(GRPC_STATUS_CODE, code.value[0])
    ctx.metrics.set(GRPC_SSL, 1 if cfg.tls and response is not None else 0)
    tls_failure: BaseException | None = None
    if cfg.tls:
        tls_failure = await _tls_handshake(ctx, cfg, ip, port, tls_name)
        if isinstance(tls_failure, ssl.SSLCertVerificationError):
            await inspect_unverified(ctx, ip, port, tls_name, cfg.tls_config)
    if error is not None:
        return _fail_rpc(ctx, cfg, error, tls_failure, grpc.StatusCode)
    ctx.log("health check answered", serving_status=serving)
    if serving != "SERVING":
        return ctx.fail(GRPCFailure.HEALTH_CHECK, f"service {cfg.service!r} is {serving}")
    return True


def _fail_rpc(
    ctx: ProbeContext[GRPCProbe], cfg: GRPCProbe, error: Any, tls_failure: BaseException | None, codes: Any
) -> bool:
    code, details = error.code(), error.details() or ""
    text = f"{code.name}: {details}"
    if code == codes.UNAVAILABLE:
        if isinstance(tls_failure, ssl.SSLCertVerificationError):
            return ctx.fail(GRPCFailure.TLS, f"certificate verification failed: {verify_error_text(tls_failure)}")
        if isinstance(tls_failure, ssl.SSLError):
            return ctx.fail(GRPCFailure.TLS, f"TLS handshake failed: {tls_failure}")
        if isinstance(tls_failure, OSError):
            return ctx.fail(classify_os_error(tls_failure), f"connecting: {tls_failure}")
        lowered = details.lower()
        if "connection refused" in lowered:
            return ctx.fail(GRPCFailure.CONNECT_REFUSED, text)
        if cfg.tls and ("handshake" in lowered or "ssl" in lowered or "certificate" in lowered):
            return ctx.fail(GRPCFailure.TLS, text)
        return ctx.fail(GRPCFailure.CONNECT_ERROR, text)
    if code == codes.DEADLINE_EXCEEDED:
        return ctx.fail(GRPCFailure.TIMEOUT, f"no answer before the deadline ({text})")
    if code == codes.NOT_FOUND:
        return ctx.fail(GRPCFailure.HEALTH_CHECK, f"the server does not know service {cfg.service!r} ({text})")
    if code in (codes.UNAUTHENTICATED, codes.PERMISSION_DENIED):
        return ctx.fail(GRPCFailure.AUTH, text)
    if code == codes.UNIMPLEMENTED:
        return ctx.fail(GRPCFailure.PROTOCOL, f"the server has no grpc.health.v1.Health service ({text})")
    return ctx.fail(GRPCFailure.PROTOCOL, text)


SPEC = ProberSpec(GRPCProbe, probe_grpc, "gRPC grpc.health.v1 Check", FAMILIES, GRPCFailure, LIBRARIES)
