"""Module definitions (blackbox_exporter's ``modules:`` format).

The ``Module`` dataclass is built from the prober table, so a new prober's config section is a
valid module key without touching this file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

from ..core.config import Context, Duration, DurationOrZero, required
from .table import PROBERS, UNSUPPORTED


class ModuleBase:
    """What code outside the loader sees of a module (the dataclass itself is built below)."""

    prober: str
    timeout: Duration

    def section(self) -> Any:
        """The config section of this module's prober (``module.http`` for prober http)."""
        return getattr(self, self.prober)


def _validate(self: Any, ctx: Context, path: tuple) -> None:
    if self.prober in UNSUPPORTED and self.prober not in PROBERS:
        ctx.error((*path, "prober"), f"prober {self.prober!r} is not supported: {UNSUPPORTED[self.prober]}")
        return
    if self.prober not in PROBERS:
        ctx.error((*path, "prober"), f"unknown prober {self.prober!r}; expected one of {', '.join(sorted(PROBERS))}")
        return
    for name in PROBERS:
        if name != self.prober and getattr(self, name) is not None:
            ctx.error((*path, name), f"section {name!r} does not apply to prober {self.prober!r}")
    if getattr(self, self.prober) is None:
        setattr(self, self.prober, PROBERS[self.prober].config())


def _build_module_class() -> type:
    fields: list[tuple[str, Any, Any]] = [
        ("prober", str, required(default="")),
        # 0 means: take the scrape timeout (X-Prometheus-Scrape-Timeout-Seconds minus the offset).
        ("timeout", DurationOrZero, field(default=DurationOrZero(0))),
    ]
    for name, spec in PROBERS.items():
        fields.append((name, spec.config | None, field(default=None)))
    for name in [n for n in UNSUPPORTED if n not in PROBERS]:  # a prober added to the table wins
        fields.append((name, dict[str, Any] | None, field(default=None)))
    return dataclasses.make_dataclass("Module", fields, bases=(ModuleBase,), namespace={"validate": _validate})


Module = _build_module_class()
