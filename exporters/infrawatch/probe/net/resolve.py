"""Target name resolution shared by the probers and the dial helpers (blackbox's ``chooseProtocol``).

``preferred_ip_protocol`` picks the family tried first; with ``ip_protocol_fallback`` the other
family is used when the preferred one has no address.  Records ``probe_dns_lookup_time_seconds``,
``probe_ip_protocol`` and ``probe_ip_addr_hash`` as blackbox does.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import time
from typing import Any, Literal

from ...core.metrics import MetricFamily
from ..context import ProbeContext
from ..failures import FailureReason

IPProtocol = Literal["ip4", "ip6", "ipv4", "ipv6", "tcp4", "tcp6", "udp4", "udp6"]

DNS_LOOKUP_TIME = MetricFamily(
    "probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds"
)
IP_PROTOCOL = MetricFamily("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6")
IP_ADDR_HASH = MetricFamily(
    "probe_ip_addr_hash", "Specifies the hash of IP address. It's useful to detect if the IP address changes."
)
FAMILIES = (DNS_LOOKUP_TIME, IP_PROTOCOL, IP_ADDR_HASH)


def _family(proto: str) -> int:
    return socket.AF_INET6 if proto.endswith("6") else socket.AF_INET


@functools.lru_cache(maxsize=1024)
def _literal(host: str) -> tuple[str, int] | None:
    """``(normalised address, IP version)`` when ``host`` is an IP literal, else None.

    Cached: the same few targets are probed over and over, and ``ipaddress`` parsing was a visible
    part of a tcp probe's CPU profile.
    """
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return None
    return str(addr), addr.version


def _record(ctx: ProbeContext[Any], lookup_seconds: float, addr: str | None, version: int | None = None) -> None:
    ctx.metrics.set(DNS_LOOKUP_TIME, lookup_seconds)
    if addr is None:  # blackbox registers both before resolving: 0 when no address was found
        ctx.metrics.set(IP_PROTOCOL, 0)
        ctx.metrics.set(IP_ADDR_HASH, 0)
    else:
        if version is None:
            version = ipaddress.ip_address(addr).version
        ctx.metrics.set(IP_PROTOCOL, version)
        ctx.metrics.set(IP_ADDR_HASH, ip_addr_hash(addr))


@functools.lru_cache(maxsize=1024)
def ip_addr_hash(addr: str) -> int:
    """blackbox's ``probe_ip_addr_hash``: FNV-1a 32-bit of the address bytes (4 for IPv4, 16 for IPv6)."""
    h = 0x811C9DC5
    for b in ipaddress.ip_address(addr).packed:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


async def resolve(ctx: ProbeContext[Any], host: str, preferred: str = "ip4", fallback: bool = True) -> str | None:
    """Return an IP address string for ``host`` or ``None`` after ``ctx.fail('dns', ...)``."""
    host = host.strip("[]")
    t0 = time.monotonic()
    literal = _literal(host)
    if literal is not None:
        if not fallback and literal[1] != (6 if _family(preferred) == socket.AF_INET6 else 4):
            # Go's LookupIP("ip6", "127.0.0.1") finds nothing: an IP literal obeys the protocol too.
            _record(ctx, 0.0, None)
            ctx.fail(
                FailureReason.DNS,
                f"{host} is not an IPv{6 if literal[1] == 4 else 4} address "
                f"(preferred_ip_protocol {preferred}, ip_protocol_fallback false)",
            )
            return None
        _record(ctx, 0.0, *literal)
        return literal[0]
    loop = asyncio.get_running_loop()
    first = _family(preferred)
    other = socket.AF_INET if first == socket.AF_INET6 else socket.AF_INET6
    last_err = "no address"
    for fam in [first, other] if fallback else [first]:
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, None, family=fam, type=socket.SOCK_STREAM), ctx.remaining
            )
        except TimeoutError:
            _record(ctx, time.monotonic() - t0, None)
            ctx.fail(FailureReason.DNS, f"resolving {host} timed out")
            return None
        except socket.gaierror as exc:
            last_err = exc.strerror or str(exc)
            continue
        if infos:
            addr = infos[0][4][0]
            ctx.log("resolved target address", host=host, ip=addr)
            _record(ctx, time.monotonic() - t0, addr)
            return addr
    _record(ctx, time.monotonic() - t0, None)
    ctx.fail(FailureReason.DNS, f"cannot resolve {host}: {last_err}")
    return None
