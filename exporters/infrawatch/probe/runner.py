"""Run one probe under a hard deadline and turn it into a ``ProbeResult``.

The prober gets ``timeout`` and is expected to respect ``ctx.remaining``; the runner enforces it
anyway (plus a small grace) so a prober stuck in a library call can block neither the caller nor
the concurrency slot it holds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from .probers import PROBERS
from .probers.base import MetricSink, ProbeContext, ProbeLog, Sample

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

    def value(self, name: str, **labels: str) -> float | None:
        for s in self.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
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


class QuietLog(ProbeLog):
    """The probe log when nobody will read it (not ``debug=true``): formatting lines for every
    probe costs more CPU than some whole probes."""

    def __call__(self, msg: str, **kv: object) -> None:
        pass


def _dedupe(samples: list[Sample]) -> list[Sample]:
    """Keep the last value per (name, labels): probers may record a gauge again (redirects)."""
    seen: dict[tuple, int] = {}
    out: list[Sample] = []
    for s in samples:
        # Probers record a repeated gauge from the same call site, so labels come in the same order.
        key = (s.name, tuple(s.labels.items()))
        if key in seen:
            out[seen[key]] = s
        else:
            seen[key] = len(out)
            out.append(s)
    return out


async def run_probe(target: str, module_name: str, module: object, timeout: float, debug: bool = True) -> ProbeResult:
    """Probe ``target``; ``debug=False`` skips the probe log (the failure message is kept)."""
    spec = PROBERS[module.prober]  # type: ignore[attr-defined]
    ctx = ProbeContext(
        target=target,
        module=module,
        timeout=timeout,  # type: ignore[arg-type]
        log=ProbeLog() if debug else QuietLog(),
    )
    ctx.log("beginning probe", prober=module.prober, timeout_seconds=round(timeout, 3))  # type: ignore[attr-defined]
    try:
        async with asyncio.timeout(timeout + GRACE):
            ok = await spec.probe(ctx)
    except TimeoutError:
        ok = ctx.fail("timeout", f"probe did not finish within its {timeout:.3f}s deadline")
    except Exception as exc:  # a prober bug: the probe fails, the exporter stays up
        log.exception("prober raised", extra={"target": target, "probe_module": module_name})
        ok = ctx.fail("internal", f"prober error: {type(exc).__name__}: {exc}")
    if ok and ctx.failure_reason:
        ok = False  # a prober that recorded a failure cannot succeed
    duration = time.monotonic() - ctx.started
    sink = MetricSink()
    sink.gauge("probe_success", "Displays whether or not the probe was a success", 1 if ok else 0)
    sink.gauge("probe_duration_seconds", "Returns how long the probe took to complete in seconds", duration)
    samples = sink.samples + _dedupe(ctx.metrics.samples)
    if not ok:
        reason = ctx.failure_reason or "internal"
        samples.append(Sample("probe_failure_info", "Why the probe failed (1 for the reason)", 1, {"reason": reason}))
    ctx.log("probe " + ("succeeded" if ok else "failed"), duration_seconds=round(duration, 4))
    return ProbeResult(
        target,
        module_name,
        ok,
        duration,
        samples,
        (ctx.failure_reason or "internal") if not ok else "",
        ctx.failure_message if not ok else "",
        ctx.log.lines,
        health_value=ctx.metrics.get("probe_health_status"),
    )
