"""Target name resolution shared by the probers (blackbox's ``chooseProtocol``).

``preferred_ip_protocol`` picks the family tried first; with ``ip_protocol_fallback`` the other
family is used when the preferred one has no address.  Records ``probe_dns_lookup_time_seconds``,
``probe_ip_protocol`` and ``probe_ip_addr_hash`` as blackbox does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import zlib
from typing import Literal

from .base import ProbeContext

IPProtocol = Literal["ip4", "ip6", "ipv4", "ipv6", "tcp4", "tcp6", "udp4", "udp6"]


def _family(proto: str) -> int:
    return socket.AF_INET6 if proto.endswith("6") else socket.AF_INET


async def resolve(ctx: ProbeContext, host: str, preferred: str = "ip4", fallback: bool = True) -> str | None:
    """Return an IP address string for ``host`` or ``None`` after ``ctx.fail('dns', ...)``."""
    host = host.strip("[]")
    t0 = time.monotonic()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        ctx.metrics.gauge("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds", 0.0)
        ctx.metrics.gauge("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6", ip.version)
        ctx.metrics.gauge("probe_ip_addr_hash", "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
                          zlib.crc32(str(ip).encode()))
        return str(ip)
    loop = asyncio.get_running_loop()
    first = _family(preferred)
    families = [first] + ([socket.AF_INET if first == socket.AF_INET6 else socket.AF_INET6] if fallback else [])
    last_err = "no address"
    for fam in families:
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, None, family=fam, type=socket.SOCK_STREAM), ctx.remaining)
        except (TimeoutError, asyncio.TimeoutError):
            ctx.metrics.gauge("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds",
                              time.monotonic() - t0)
            return (ctx.fail("dns", f"resolving {host} timed out"), None)[1]
        except socket.gaierror as exc:
            last_err = exc.strerror or str(exc)
            continue
        if infos:
            addr = infos[0][4][0]
            ctx.log("resolved target address", host=host, ip=addr)
            ctx.metrics.gauge("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds",
                              time.monotonic() - t0)
            ctx.metrics.gauge("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6",
                              6 if fam == socket.AF_INET6 else 4)
            ctx.metrics.gauge("probe_ip_addr_hash",
                              "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
                              zlib.crc32(addr.encode()))
            return addr
    ctx.metrics.gauge("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds",
                      time.monotonic() - t0)
    return (ctx.fail("dns", f"cannot resolve {host}: {last_err}"), None)[1]
