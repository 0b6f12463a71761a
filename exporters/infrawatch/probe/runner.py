"""Run one probe under a hard deadline and turn it into a ``ProbeResult``.

The prober gets ``timeout`` and is expected to respect ``ctx.remaining``; the runner enforces it
anyway (plus a small grace) so a prober stuck in a library call can block neither the caller nor
the concurrency slot it holds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..core.tlsclient import ClientContexts
from .context import ProbeContext, ProbeLog, QuietLog
from .failures import FailureReason
from .families import DURATION, FAILURE_INFO, SUCCESS
from .module import ModuleBase
from .net.health import HEALTH_STATUS
from .sink import MetricSink, Sample
from .table import PROBERS

log = logging.getLogger("infrawatch.probe")
GRACE = 0.25  # seconds after the deadline before the probe task is cancelled


@dataclass
class ProbeResult:
    target: str
    module: str
    success: bool
    duration: float
    samples: list[Sample]
    failure_reason: str = ""
    failure_message: str = ""
    log_lines: list[str] = field(default_factory=list)
    finished_at: float = field(default_factory=time.time)
    health_value: float | None = None  # probe_health_status, kept when samples are dropped

    def value(self, name: str, labels: Mapping[str, str] | None = None, /, **kw: str) -> float | None:
        """The value of the first sample named ``name`` whose labels include ``labels``/``kw``."""
        want = {**(labels or {}), **kw}
        for s in self.samples:
            if s.family.name == name and all(s.labels.get(k) == v for k, v in want.items()):
                return s.value
        return None

    @property
    def health(self) -> str:
        """healthy / degraded / down, as the status page and infrawatch:service_status read it."""
        if not self.success:
            return "down"
        h = self.health_value
        if h is not None and h < 1:
            return "degraded"
        return "healthy"


def outcome_samples(ok: bool, duration: float, reason: str = "") -> list[Sample]:
    """``probe_success``, ``probe_duration_seconds`` and, on failure, ``probe_failure_info``."""
    samples = [Sample(SUCCESS, 1.0 if ok else 0.0), Sample(DURATION, float(duration))]
    if not ok:
        samples.append(Sample(FAILURE_INFO, 1.0, {"reason": reason or FailureReason.INTERNAL}))
    return samples


def _dedupe(samples: list[Sample]) -> list[Sample]:
    """Keep the last value per (family, labels): probers may record a gauge again (redirects)."""
    seen: dict[tuple, int] = {}
    out: list[Sample] = []
    for s in samples:
        # Labels come in the family's declared order, so equal label sets give equal keys.
        key = (s.family, tuple(s.labels.items()))
        if key in seen:
            out[seen[key]] = s
        else:
            seen[key] = len(out)
            out.append(s)
    return out


def _module_problem(module: ModuleBase) -> str:
    """Why this module cannot probe now (unsupported prober, a TLS file not there yet), or ''."""
    if module.unsupported or module.prober not in PROBERS:
        return module.unsupported or f"prober {module.prober!r} is not supported"
    for key, path in module.tls_files:
        if not os.path.isfile(path):
            return f"{key}: file {path} does not exist (it was missing at load too)"
    return ""


def _refused(target: str, module_name: str, message: str) -> ProbeResult:
    reason = FailureReason.CONFIG
    return ProbeResult(
        target, module_name, False, 0.0, outcome_samples(False, 0.0, reason), str(reason), message, [message]
    )


async def run_probe(
    target: str,
    module_name: str,
    module: ModuleBase,
    timeout: float,
    debug: bool = True,
    tls: ClientContexts | None = None,
    hop_allowed: Callable[[str], bool] | None = None,
) -> ProbeResult:
    """Probe ``target``; ``debug=False`` skips the probe log (the failure message is kept).

    ``hop_allowed``: the allow-list check for hosts a probe goes on to (redirects); None: any.

    ``tls``: the client contexts of the configuration generation ``module`` belongs to; a probe
    run outside the exporter (tests, the CLI) gets contexts of its own.
    """
    blocked = _module_problem(module)
    if blocked:
        return _refused(target, module_name, blocked)
    spec = PROBERS[module.prober]
    ctx: ProbeContext = ProbeContext(
        target=target,
        config=module.section(),
        timeout=timeout,
        tls=tls if tls is not None else ClientContexts(),
        metrics=MetricSink(spec.all_families),
        log=ProbeLog(module_name, target, module.prober) if debug else QuietLog(),
        reasons=spec.reason_values,
        hop_allowed=hop_allowed,
    )
    ctx.log("Beginning probe", probe=module.prober, timeout_seconds=round(timeout, 3))
    try:
        async with asyncio.timeout(timeout + GRACE):
            ok = await spec.probe(ctx)
    except TimeoutError:
        ok = ctx.fail(FailureReason.TIMEOUT, f"probe did not finish within its {timeout:.3f}s deadline")
    except Exception as exc:  # a prober bug: the probe fails, the exporter stays up
        log.exception("prober raised", extra={"target": target, "probe_module": module_name})
        ok = ctx.fail(FailureReason.INTERNAL, f"prober error: {type(exc).__name__}: {exc}")
    if ok and ctx.failure_reason:
        ok = False  # a prober that recorded a failure cannot succeed
    duration = time.monotonic() - ctx.started
    reason = (ctx.failure_reason or FailureReason.INTERNAL) if not ok else ""
    samples = outcome_samples(ok, duration, reason)
    samples[2:2] = _dedupe(ctx.metrics.samples)  # success, duration, the prober's, failure_info
    ctx.log(
        "Probe " + ("succeeded" if ok else "failed"),
        level="info" if ok else "error",
        duration_seconds=round(duration, 6),
    )
    return ProbeResult(
        target,
        module_name,
        ok,
        duration,
        samples,
        str(reason),
        ctx.failure_message if not ok else "",
        ctx.log.lines,
        health_value=ctx.metrics.get(HEALTH_STATUS),
    )
