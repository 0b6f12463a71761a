"""What this machine's loopback offers (tests skip with the reason when ::1 is absent)."""

from __future__ import annotations

import functools
import socket


@functools.cache
def has_ipv6_loopback() -> bool:
    """True when a socket can bind ::1 (the kernel has IPv6 and lo carries ::1)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


NO_IPV6_REASON = "no IPv6 loopback (::1) on this machine"
