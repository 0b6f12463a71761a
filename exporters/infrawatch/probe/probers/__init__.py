"""Prober table: module ``prober:`` name -> (config section dataclass, probe function).

Adding a protocol is one file in this folder plus one entry here.  The config dataclass becomes
the module key of the same name (``http:``, ``tcp:`` ...), as in blackbox_exporter's YAML.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .base import ProbeContext


@dataclass(frozen=True)
class ProberSpec:
    config: type[Any]
    probe: Callable[[ProbeContext], Awaitable[bool]]
    description: str
    # Client libraries the probe imports on first use.  They are not imported with the prober
    # module (redis-py, asyncpg and dnspython together cost ~10 MB of RSS), only by ``preload``
    # when a module using this prober is configured, so the first probe does not pay the import.
    libraries: tuple[str, ...] = ()


def preload(probers: Iterable[str]) -> None:
    """Import the client libraries of the named probers (once; later calls are dict look-ups)."""
    for name in set(probers):
        spec = PROBERS.get(name)
        for lib in spec.libraries if spec else ():
            importlib.import_module(lib)


from .dns import DNSProbe, probe_dns  # noqa: E402
from .elasticsearch import ElasticsearchProbe, probe_elasticsearch  # noqa: E402
from .http import HTTPProbe, probe_http  # noqa: E402 - probers need ProberSpec's module loaded first
from .postgres import PostgresProbe, probe_postgres  # noqa: E402
from .redis import RedisProbe, probe_redis  # noqa: E402
from .smtp import SMTPProbe, probe_smtp  # noqa: E402
from .tcp import TCPProbe, probe_tcp  # noqa: E402

PROBERS: dict[str, ProberSpec] = {
    "http": ProberSpec(HTTPProbe, probe_http, "HTTP(S) request: status, redirects, TLS, phases, body checks, health"),
    "tcp": ProberSpec(TCPProbe, probe_tcp, "TCP connect, TLS, query_response dialogue with STARTTLS"),
    "dns": ProberSpec(
        DNSProbe,
        probe_dns,
        "one DNS query to the target server, answer validation",
        ("dns.asyncbackend", "dns.asyncquery", "dns.message"),
    ),
    "smtp": ProberSpec(SMTPProbe, probe_smtp, "SMTP banner, EHLO, STARTTLS certificate, optional AUTH"),
    "redis": ProberSpec(
        RedisProbe,
        probe_redis,
        "Redis AUTH + PING, role and memory from INFO",
        ("redis.asyncio.connection", "redis.exceptions", "redis.backoff", "redis.retry"),
    ),
    "postgres": ProberSpec(PostgresProbe, probe_postgres, "PostgreSQL login and a query", ("asyncpg",)),
    "elasticsearch": ProberSpec(ElasticsearchProbe, probe_elasticsearch, "Elasticsearch cluster health"),
}

# blackbox_exporter probers infrawatch does not implement; named so the error says so clearly.
UNSUPPORTED = {
    "icmp": "needs raw sockets; use blackbox_exporter for ICMP",
    "grpc": "not implemented yet; use the http prober against a gRPC health gateway",
}
