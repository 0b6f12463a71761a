"""Failure reasons: the values of ``probe_failure_info{reason}``, and the connect-error rule.

``FailureReason`` holds the reasons any prober (and the shared network helpers) may give.  A
prober whose checks can fail in its own ways extends it in its own file::

    HTTPFailure = extend_reasons("HTTPFailure", "status_code", "body_regex", ...)

and lists the result in its ``ProberSpec``; ``ProbeContext.fail`` refuses a reason its prober
did not declare, so the label stays a small, documented set.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from enum import StrEnum


class FailureReason(StrEnum):
    DNS = "dns"  # the target's name did not resolve
    CONNECT_REFUSED = "connect_refused"  # TCP RST / ECONNREFUSED
    CONNECT_TIMEOUT = "connect_timeout"  # no TCP handshake before the deadline
    CONNECT_ERROR = "connect_error"  # another socket error (unreachable, reset during connect)
    TLS = "tls"  # TLS handshake or certificate verification failed
    TIMEOUT = "timeout"  # the probe deadline passed after connecting
    PROTOCOL = "protocol"  # the peer spoke but not as expected
    CONFIG = "config"  # the module cannot probe this target (e.g. bad target syntax)
    INTERNAL = "internal"  # a bug in the prober; logged with a traceback


def extend_reasons(name: str, *values: str) -> type[StrEnum]:
    """A StrEnum with every ``FailureReason`` member plus ``values`` (member names upper-cased)."""
    members = {m.name: m.value for m in FailureReason}
    for v in values:
        members.setdefault(v.upper(), v)
    return StrEnum(name, members)


def classify_os_error(exc: BaseException) -> FailureReason:
    """Map a connect exception to a failure reason (one rule for every prober and helper)."""
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return FailureReason.TLS
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return FailureReason.CONNECT_TIMEOUT
    if isinstance(exc, socket.gaierror):
        return FailureReason.DNS
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return FailureReason.CONNECT_REFUSED
    return FailureReason.CONNECT_ERROR
