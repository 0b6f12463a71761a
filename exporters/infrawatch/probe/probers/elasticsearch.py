"""Elasticsearch / OpenSearch prober: ``GET /_cluster/health`` -> cluster status and shard counts.

green is healthy (``probe_health_status`` 1), yellow degraded (0.5, the probe still succeeds
unless ``fail_on_yellow``), red down (0, the probe fails with reason ``health_check``).
The target is ``host[:port]`` (port 9200) or a base URL ``http(s)://host:port[/prefix]``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ...core.config import Context, Secret
from ...core.metrics import MetricFamily
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext
from ..failures import classify_os_error, extend_reasons
from ..families import HTTP_STATUS_CODE
from ..net import health, resolve, tls
from ..net.dial import IP_PROTOCOLS, split_host_port
from ..net.health import HealthParseError, parse_health, record_health
from ..net.tls import inspect_unverified, record_tls, server_hostname, verify_error_text
from ..spec import ProberSpec

DEFAULT_PORT = 9200
MAX_BODY = 1 << 20
STATUSES = ("green", "yellow", "red")
_COUNTS = (
    ("number_of_nodes", MetricFamily("probe_elasticsearch_nodes", "Nodes in the cluster")),
    ("number_of_data_nodes", MetricFamily("probe_elasticsearch_data_nodes", "Data nodes in the cluster")),
    ("active_primary_shards", MetricFamily("probe_elasticsearch_active_primary_shards", "Active primary shards")),
    ("active_shards", MetricFamily("probe_elasticsearch_active_shards", "Active shards, primaries and replicas")),
    ("relocating_shards", MetricFamily("probe_elasticsearch_relocating_shards", "Shards moving between nodes")),
    ("initializing_shards", MetricFamily("probe_elasticsearch_initializing_shards", "Shards being initialised")),
    ("unassigned_shards", MetricFamily("probe_elasticsearch_unassigned_shards", "Shards not allocated to any node")),
    (
        "delayed_unassigned_shards",
        MetricFamily("probe_elasticsearch_delayed_unassigned_shards", "Unassigned shards whose allocation is delayed"),
    ),
    (
        "number_of_pending_tasks",
        MetricFamily("probe_elasticsearch_pending_tasks", "Cluster-level changes not yet executed"),
    ),
    (
        "active_shards_percent_as_number",
        MetricFamily("probe_elasticsearch_active_shards_percent", "Share of shards that are active, in percent"),
    ),
)
ES_CLUSTER_STATUS = MetricFamily(
    "probe_elasticsearch_cluster_status", "Cluster health status (state set: green, yellow, red)", labels=("status",)
)
ES_TIMED_OUT = MetricFamily("probe_elasticsearch_timed_out", "1 if the health request timed out inside the cluster")
ES_REQUEST_DURATION = MetricFamily("probe_elasticsearch_request_duration_seconds", "Time of the cluster health request")
FAMILIES = (
    HTTP_STATUS_CODE,
    ES_REQUEST_DURATION,
    ES_CLUSTER_STATUS,
    *(family for _, family in _COUNTS),
    ES_TIMED_OUT,
    *health.FAMILIES,
    *resolve.FAMILIES,
    *tls.FAMILIES,
)
ESFailure = extend_reasons(
    "ESFailure",
    "auth",  # HTTP 401/403
    "body_size",  # health document larger than MAX_BODY
    "status_code",  # an HTTP error without a cluster health document
    "health_check",  # red (or yellow with fail_on_yellow), or not a cluster health document
)


@dataclass
class BasicAuth:
    username: str = ""
    # Inline passwords are accepted for blackbox compatibility, masked and warned about.
    password: Secret | None = field(default=None, metadata={"secret": True})
    password_file: str = ""

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.password and self.password_file:
            ctx.error((*path, "password_file"), "password and password_file are mutually exclusive")
        elif self.password:
            ctx.warn((*path, "password"), "inline password: prefer password_file (the value is masked)")
        elif self.password_file:
            self.password = ctx.read_secret_file((*path, "password_file"), self.password_file)
        if self.password and not self.username:
            ctx.error((*path, "username"), "basic_auth needs a username")


@dataclass
class ElasticsearchProbe:
    # Used when the target has no scheme; a target ``https://...`` always means TLS.
    tls: bool = False
    tls_config: TLSConfig = field(default_factory=TLSConfig)
    basic_auth: BasicAuth = field(default_factory=BasicAuth)
    path: str = "/_cluster/health"
    fail_on_yellow: bool = False
    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True

    def validate(self, ctx: Context, path: tuple) -> None:
        if not self.path.startswith("/"):
            ctx.error((*path, "path"), f"path must start with '/', got {self.path!r}")
        if self.preferred_ip_protocol not in IP_PROTOCOLS:
            ctx.error((*path, "preferred_ip_protocol"), f"expected ip4 or ip6, got {self.preferred_ip_protocol!r}")


def _parse_target(target: str, default_tls: bool) -> tuple[bool, str, int, str] | None:
    """-> (tls, host, port, path prefix)."""
    t = target.strip()
    tls = default_tls
    prefix = ""
    if "://" in t:
        scheme, t = t.split("://", 1)
        if scheme not in ("http", "https"):
            return None
        tls = scheme == "https"
        if "/" in t:
            t, rest = t.split("/", 1)
            prefix = "/" + rest.rstrip("/") if rest.strip("/") else ""
    parsed = split_host_port(t, DEFAULT_PORT)
    if parsed is None:
        return None
    return tls, parsed[0], parsed[1], prefix


class _Connector(aiohttp.TCPConnector):
    """Remembers the TLS object of the connection it opens (aiohttp may release the connection
    before the response object is handed out, so ``resp.connection`` cannot be relied on)."""

    ssl_object: Any = None

    async def _wrap_create_connection(self, *args: Any, **kwargs: Any) -> Any:
        transport, proto = await super()._wrap_create_connection(*args, **kwargs)
        self.ssl_object = transport.get_extra_info("ssl_object")
        return transport, proto


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):  # "NaN" on a cluster without shards
        try:
            v = float(value)
        except ValueError:
            return None
        return v if math.isfinite(v) else None
    return None


def record_cluster_health(ctx: ProbeContext[ElasticsearchProbe], doc: dict[str, Any]) -> str:
    """Record the cluster metrics; returns the status word."""
    m = ctx.metrics
    status = str(doc.get("status", "")).lower()
    for s in STATUSES:
        m.set(ES_CLUSTER_STATUS, 1 if s == status else 0, {"status": s})
    for key, family in _COUNTS:
        v = _number(doc.get(key))
        if v is not None:
            m.set(family, v)
    if isinstance(doc.get("timed_out"), bool):
        m.set(ES_TIMED_OUT, 1 if doc["timed_out"] else 0)
    return status


async def probe_elasticsearch(ctx: ProbeContext[ElasticsearchProbe]) -> bool:
    cfg: ElasticsearchProbe = ctx.config
    parsed = _parse_target(ctx.target, cfg.tls)
    if parsed is None:
        return ctx.fail(ESFailure.CONFIG, f"target {ctx.target!r} is not host[:port] or http(s)://host[:port][/prefix]")
    use_tls, host, port, prefix = parsed
    ip = await resolve.resolve(ctx, host, cfg.preferred_ip_protocol, cfg.ip_protocol_fallback)
    if ip is None:
        return False
    sslctx = ctx.tls.get(cfg.tls_config) if use_tls else None
    sni = server_hostname(cfg.tls_config, host) if use_tls else None
    netloc = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    url = f"{'https' if use_tls else 'http'}://{netloc}{prefix}{cfg.path}"
    host_header = f"[{host}]" if ":" in host else host
    headers = {
        "Host": host_header if port == (443 if use_tls else 80) else f"{host_header}:{port}",
        "Accept": "application/json",
        "User-Agent": "infrawatch-probe",
    }
    if cfg.basic_auth.username:
        token = base64.b64encode(f"{cfg.basic_auth.username}:{cfg.basic_auth.password or ''}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    m = ctx.metrics
    t0 = time.monotonic()
    connector = _Connector(force_close=True, limit=1)
    try:
        async with asyncio.timeout(ctx.remaining), aiohttp.ClientSession(connector=connector) as session:
            kwargs: dict[str, Any] = {"headers": headers, "allow_redirects": False}
            if sslctx is not None:
                kwargs["ssl"] = sslctx
                kwargs["server_hostname"] = sni
            async with session.get(url, **kwargs) as resp:
                if sslctx is not None and connector.ssl_object is not None:
                    record_tls(ctx, connector.ssl_object, verified=sslctx.verify_mode != ssl.CERT_NONE)
                body = await resp.content.read(MAX_BODY + 1)
                status_code = resp.status
    except TimeoutError:
        return ctx.fail(ESFailure.TIMEOUT, f"no answer from {url} before the deadline")
    except aiohttp.ClientConnectorCertificateError as exc:
        ctx.fail(ESFailure.TLS, f"certificate verification failed: {verify_error_text(exc.certificate_error)}")
        await inspect_unverified(ctx, ip, port, sni, cfg.tls_config)
        return False
    except aiohttp.ClientSSLError as exc:
        return ctx.fail(ESFailure.TLS, f"TLS handshake failed: {exc}")
    except aiohttp.ClientConnectorError as exc:
        return ctx.fail(classify_os_error(exc.os_error), f"connecting to {netloc}: {exc.os_error}")
    except (aiohttp.ClientError, OSError) as exc:
        return ctx.fail(ESFailure.PROTOCOL, f"GET {cfg.path}: {exc}")
    m.set(HTTP_STATUS_CODE, status_code)
    m.set(ES_REQUEST_DURATION, time.monotonic() - t0)
    ctx.log("response", status=status_code, bytes=len(body))
    if status_code in (401, 403):
        return ctx.fail(ESFailure.AUTH, f"cluster health refused with HTTP {status_code}")
    if len(body) > MAX_BODY:
        return ctx.fail(ESFailure.BODY_SIZE, f"cluster health document larger than {MAX_BODY} bytes")
    try:
        doc = json.loads(body)
    except ValueError as exc:
        return ctx.fail(
            ESFailure.HEALTH_CHECK if status_code < 300 else "status_code",
            f"HTTP {status_code}, body is not JSON: {exc}",
        )
    # A red cluster answers 503 when ?wait_for_status is used; the document is still the truth.
    if not isinstance(doc, dict) or str(doc.get("status", "")).lower() not in STATUSES:
        if status_code >= 300:
            return ctx.fail(ESFailure.STATUS_CODE, f"HTTP {status_code}")
        return ctx.fail(ESFailure.HEALTH_CHECK, "response is not an Elasticsearch cluster health document")
    status = record_cluster_health(ctx, doc)
    try:
        result = parse_health(doc)
    except HealthParseError as exc:  # pragma: no cover - the status word was checked above
        return ctx.fail(ESFailure.HEALTH_CHECK, str(exc))
    record_health(m, result)
    ctx.log(
        "cluster health",
        cluster=doc.get("cluster_name"),
        status=status,
        nodes=doc.get("number_of_nodes"),
        unassigned_shards=doc.get("unassigned_shards"),
    )
    if status == "red":
        return ctx.fail(ESFailure.HEALTH_CHECK, f"cluster {doc.get('cluster_name')!r} is red")
    if status == "yellow" and cfg.fail_on_yellow:
        return ctx.fail(
            ESFailure.HEALTH_CHECK, f"cluster {doc.get('cluster_name')!r} is yellow and fail_on_yellow is set"
        )
    return True


SPEC = ProberSpec(ElasticsearchProbe, probe_elasticsearch, "Elasticsearch cluster health", FAMILIES, ESFailure)
