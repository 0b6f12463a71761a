"""``ProberSpec``: what one prober file declares about itself for the prober table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..core.metrics import MetricFamily
from .context import ProbeContext
from .failures import FailureReason
from .families import COMMON


@dataclass(frozen=True)
class ProberSpec:
    config: type[Any]  # the module section dataclass (``http:``, ``tcp:`` ...)
    probe: Callable[[ProbeContext[Any]], Awaitable[bool]]
    description: str
    families: tuple[MetricFamily, ...]  # every family the prober (and the helpers it calls) records
    reasons: type[StrEnum] = FailureReason  # FailureReason or an ``extend_reasons`` of it
    # Client libraries the probe imports on first use.  They are not imported with the prober
    # module (redis-py, asyncpg and dnspython together cost ~10 MB of RSS), only by ``preload``
    # when a module using this prober is configured, so the first probe does not pay the import.
    libraries: tuple[str, ...] = ()
    reason_values: frozenset[str] = field(init=False, repr=False)
    all_families: tuple[MetricFamily, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason_values", frozenset(r.value for r in self.reasons))
        fams = dict.fromkeys((*COMMON, *self.families))
        object.__setattr__(self, "all_families", tuple(fams))
