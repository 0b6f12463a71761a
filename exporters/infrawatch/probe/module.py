"""Module definitions (blackbox_exporter's ``modules:`` format).

The ``Module`` dataclass is built from the prober table, so a new prober's config section is a
valid module key without touching this file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

from ..core.config import Context, Duration, DurationOrZero, required
from ..core.tlsclient import tls_files
from .table import PROBERS, UNSUPPORTED


class ModuleBase:
    """What code outside the loader sees of a module (the dataclass itself is built below)."""

    prober: str
    timeout: Duration
    # (key path, file) of the TLS files the section names; checked before each probe, since a
    # file missing at load is a warning (blackbox starts without it) and fails the probe instead.
    tls_files: tuple[tuple[str, str], ...] = ()
    # Set when the prober is known (blackbox's) but not implemented: the module loads, its probes fail.
    unsupported: str = ""

    def section(self) -> Any:
        """The config section of this module's prober (``module.http`` for prober http)."""
        return getattr(self, self.prober)


def _validate(self: Any, ctx: Context, path: tuple) -> None:
    if self.prober in UNSUPPORTED and self.prober not in PROBERS:
        # A blackbox module file must load unchanged: the module is kept, warned about, and its
        # probes fail with this reason (the rest of the file works).
        self.unsupported = f"prober {self.prober!r} is not supported by infrawatch: {UNSUPPORTED[self.prober]}"
        ctx.warn((*path, "prober"), self.unsupported + "; probes of this module fail")
        return
    if self.prober not in PROBERS:
        ctx.error((*path, "prober"), f"unknown prober {self.prober!r}; expected one of {', '.join(sorted(PROBERS))}")
        return
    for name in PROBERS:
        if name != self.prober and getattr(self, name) is not None:
            ctx.error((*path, name), f"section {name!r} does not apply to prober {self.prober!r}")
    if getattr(self, self.prober) is None:
        setattr(self, self.prober, PROBERS[self.prober].config())
    self.tls_files = tuple((f"{self.prober}.{k}", v) for k, v in tls_files(getattr(self, self.prober)))


def _build_module_class() -> type:
    fields: list[tuple[str, Any, Any]] = [
        ("prober", str, required(default="")),
        # 0 means: take the scrape timeout (X-Prometheus-Scrape-Timeout-Seconds minus the offset).
        ("timeout", DurationOrZero, field(default=DurationOrZero(0))),
        ("tls_files", tuple, field(default=(), metadata={"internal": True})),
        ("unsupported", str, field(default="", metadata={"internal": True})),
    ]
    for name, spec in PROBERS.items():
        fields.append((name, spec.config | None, field(default=None)))
    for name in [n for n in UNSUPPORTED if n not in PROBERS]:  # a prober added to the table wins
        fields.append((name, dict[str, Any] | None, field(default=None)))
    return dataclasses.make_dataclass("Module", fields, bases=(ModuleBase,), namespace={"validate": _validate})


Module = _build_module_class()
