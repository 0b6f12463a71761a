"""The prober table: module ``prober:`` name -> ``ProberSpec`` (config section, probe function,
metric families, failure reasons).

Adding a protocol is one file in ``probers/`` plus one entry here.  The config dataclass becomes
the module key of the same name (``http:``, ``tcp:`` ...), as in blackbox_exporter's YAML; the
label names a target may not use are derived from the families listed here.  The prober files do
not import this module (it imports them).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from ..core.metrics import MetricFamily
from .families import COMMON, PROMETHEUS_LABELS, TARGET_LABELS
from .probers import dns, elasticsearch, grpc, http, icmp, postgres, redis, smtp, tcp, unix
from .spec import ProberSpec

PROBERS: dict[str, ProberSpec] = {
    "http": http.SPEC,
    "tcp": tcp.SPEC,
    "dns": dns.SPEC,
    "smtp": smtp.SPEC,
    "redis": redis.SPEC,
    "postgres": postgres.SPEC,
    "elasticsearch": elasticsearch.SPEC,
    "icmp": icmp.SPEC,  # probers lane
    "grpc": grpc.SPEC,  # probers lane
    "unix": unix.SPEC,  # probers lane
}

# blackbox_exporter probers infrawatch does not implement; named so the error says so clearly.
UNSUPPORTED = {
    "websocket": "blackbox's websocket prober (main branch, unreleased after 0.28) is not supported",
}


def all_families() -> list[MetricFamily]:
    """Every probe family, each once (COMMON first, then by prober)."""
    out = dict.fromkeys(COMMON)
    for spec in PROBERS.values():
        out.update(dict.fromkeys(spec.families))
    return list(out)


def reserved_labels() -> frozenset[str]:
    """Label names a target may not set: those the exporter puts on every result, Prometheus'
    own, and every label name of every probe family (a clash makes the scrape invalid)."""
    names = set(TARGET_LABELS) | set(PROMETHEUS_LABELS)
    for fam in all_families():
        names.update(fam.labels)
    return frozenset(names)


RESERVED_LABELS = reserved_labels()


def preload(probers: Iterable[str]) -> None:
    """Import the client libraries of the named probers (once; later calls are dict look-ups)."""
    for name in set(probers):
        spec = PROBERS.get(name)
        for lib in spec.libraries if spec else ():
            importlib.import_module(lib)
