"""What every prober shares: the probe context, metric sink, failure reasons and probe log.

A prober is ``async def probe_x(ctx: ProbeContext) -> bool`` (blackbox_exporter's
``ProbeFn(ctx, target, module, registry, logger) bool``): it records gauges on ``ctx.metrics``,
writes what it did to ``ctx.log`` and returns success.  On failure it calls
``ctx.fail(reason, message)`` with a reason from ``FAILURE_REASONS`` so
``probe_failure_info{reason}`` stays a small, fixed label set.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..module import Module

FAILURE_REASONS = (
    "dns",  # the target's name did not resolve
    "connect_refused",  # TCP RST / ECONNREFUSED
    "connect_timeout",  # no TCP handshake before the deadline
    "connect_error",  # another socket error (unreachable, reset during connect)
    "tls",  # TLS handshake or certificate verification failed
    "timeout",  # the probe deadline passed after connecting
    "status_code",  # HTTP status not in valid_status_codes
    "http_version",  # HTTP version not in valid_http_versions
    "body_regex",  # fail_if_body_(not_)matches_regexp / header regexps
    "body_size",  # body larger than body_size_limit
    "redirect",  # too many redirects / no_follow_redirects rules
    "health_check",  # JSON health document says down/fail
    "protocol",  # the peer spoke but not as expected (query_response, SMTP codes, ...)
    "auth",  # authentication refused (Redis AUTH, PostgreSQL password)
    "dns_answer",  # DNS answer failed validation (rcode, fail_if_* regexps)
    "query",  # a query (PostgreSQL, Redis command) failed
    "config",  # module cannot probe this target (e.g. bad target syntax)
    "internal",  # a bug in the prober; logged with a traceback
)


@dataclass
class Sample:
    name: str
    help: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)
    type: str = "gauge"


class MetricSink:
    """Gauges recorded by one probe, in the order they were set (exposition keeps it)."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def gauge(self, name: str, help: str, value: float, **labels: str) -> None:
        self.samples.append(Sample(name, help, float(value), {k: str(v) for k, v in labels.items()}))

    def get(self, name: str, **labels: str) -> float | None:
        for s in self.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
        return None


class ProbeLog:
    """Lines a person reads in ``/probe?debug=true`` and on the status page."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.t0 = time.monotonic()

    def __call__(self, msg: str, **kv: Any) -> None:
        extra = " ".join(f"{k}={v!r}" for k, v in kv.items())
        self.lines.append(f"+{time.monotonic() - self.t0:7.3f}s {msg}" + (f" {extra}" if extra else ""))


@dataclass
class ProbeContext:
    target: str
    module: Module
    timeout: float
    metrics: MetricSink = field(default_factory=MetricSink)
    log: ProbeLog = field(default_factory=ProbeLog)
    failure_reason: str | None = None
    failure_message: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def remaining(self) -> float:
        return max(0.0, self.timeout - (time.monotonic() - self.started))

    def fail(self, reason: str, message: str) -> bool:
        """Record the first failure (later ones are consequences) and return False."""
        assert reason in FAILURE_REASONS, reason
        if self.failure_reason is None:
            self.failure_reason = reason
            self.failure_message = message
        self.log(f"FAIL [{reason}] {message}")
        return False


def classify_os_error(exc: BaseException) -> str:
    """Map a connect exception to a failure reason."""
    import errno
    import socket
    import ssl

    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls"
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "connect_timeout"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return "connect_refused"
    return "connect_error"
