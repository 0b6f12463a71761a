"""What a prober gets: ``ProbeContext[C]``, typed over the prober's own config section ``C``.

A prober is ``async def probe_x(ctx: ProbeContext[XProbe]) -> bool`` (blackbox_exporter's
``ProbeFn(ctx, target, module, registry, logger) bool``): it reads its section as ``ctx.config``,
records samples on ``ctx.metrics`` (a ``MetricSink``), writes what it did to ``ctx.log``, takes TLS
client contexts from ``ctx.tls`` (those of the configuration generation the probe runs under) and
returns success.  On failure it calls ``ctx.fail(reason, message)`` with a reason its spec
declares.  This module sits beneath both ``probers/`` and the network helpers in ``net/``.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from ..core.tlsclient import ClientContexts
from .failures import FailureReason
from .sink import MetricSink

C = TypeVar("C")

BASE_REASONS = frozenset(r.value for r in FailureReason)


class ProbeLog:
    """Lines a person reads in ``/probe?debug=true`` and on the status page, in blackbox's logfmt
    shape: ``ts=... caller=http.go module=m target=t level=info msg="Beginning probe" key=value``."""

    def __init__(self, module: str = "", target: str = "", prober: str = "") -> None:
        self.lines: list[str] = []
        self.t0 = time.monotonic()
        self.prefix = " ".join(
            f"{k}={_logfmt(v)}"
            for k, v in (("caller", f"{prober}.go" if prober else ""), ("module", module), ("target", target))
            if v
        )

    def __call__(self, msg: str, level: str = "info", **kv: Any) -> None:
        ts = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        # Fields as key=repr(value), as the probe log always wrote them (readers and tests match on it).
        fields = "".join(f" {k}={v!r}" for k, v in kv.items())
        self.lines.append(f"ts={ts} {self.prefix} level={level} msg={_logfmt(msg, always=True)}{fields}")


def _logfmt(value: Any, always: bool = False) -> str:
    """A logfmt value: bare when it can be, else double-quoted with Go's escaping."""
    text = value if isinstance(value, str) else repr(value) if isinstance(value, bytes) else str(value)
    if not always and text and not any(c in text for c in ' ="\\') and text.isprintable():
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class QuietLog(ProbeLog):
    """The probe log when nobody will read it (not ``debug=true``): formatting lines for every
    probe costs more CPU than some whole probes."""

    def __call__(self, msg: str, level: str = "info", **kv: Any) -> None:
        pass


class UndeclaredReason(ValueError):
    """``ctx.fail`` with a reason the prober's spec does not declare (a prober bug)."""


@dataclass
class ProbeContext(Generic[C]):
    target: str
    config: C
    timeout: float
    tls: ClientContexts = field(default_factory=ClientContexts)
    metrics: MetricSink = field(default_factory=MetricSink)
    log: ProbeLog = field(default_factory=ProbeLog)
    reasons: frozenset[str] = BASE_REASONS  # what ``fail`` accepts: the spec's reason enum
    failure_reason: str | None = None
    failure_message: str = ""
    started: float = field(default_factory=time.monotonic)
    # Which hosts a probe may go on to (redirect hops): ``None`` allows any (scheduled targets,
    # chosen by the operator); a ``/probe`` request gets its allow-list check.
    hop_allowed: Callable[[str], bool] | None = None

    @property
    def remaining(self) -> float:
        return max(0.0, self.timeout - (time.monotonic() - self.started))

    def fail(self, reason: str, message: str) -> bool:
        """Record the first failure (later ones are consequences) and return False."""
        if reason not in self.reasons:
            raise UndeclaredReason(f"failure reason {reason!r} is not declared by this prober")
        if self.failure_reason is None:
            self.failure_reason = str(reason)
            self.failure_message = message
        self.log(message, level="error", reason=str(reason))
        return False

    def may_reach(self, host: str) -> bool:
        """Whether the probe may connect to ``host`` besides its target (a redirect hop)."""
        return self.hop_allowed is None or self.hop_allowed(host)

    def side(self, metrics: MetricSink | None = None) -> ProbeContext[C]:
        """A context for a second connection of the same probe (same deadline, log and TLS
        contexts) whose failures do not count; its samples go to ``metrics`` (default: dropped)."""
        return replace(
            self,
            metrics=metrics if metrics is not None else MetricSink(self.metrics.families),
            failure_reason=None,
            failure_message="",
        )
