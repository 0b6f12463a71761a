"""Prober table: module ``prober:`` name -> (config section dataclass, probe function).

Adding a protocol is one file in this folder plus one entry here.  The config dataclass becomes
the module key of the same name (``http:``, ``tcp:`` ...), as in blackbox_exporter's YAML.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .base import ProbeContext


@dataclass(frozen=True)
class ProberSpec:
    config: type[Any]
    probe: Callable[[ProbeContext], Awaitable[bool]]
    description: str


PROBERS: dict[str, ProberSpec] = {}

# blackbox_exporter probers infrawatch does not implement; named so the error says so clearly.
UNSUPPORTED = {"icmp": "needs raw sockets; use blackbox_exporter for ICMP",
               "grpc": "not implemented yet; use the http prober against a gRPC health gateway"}
