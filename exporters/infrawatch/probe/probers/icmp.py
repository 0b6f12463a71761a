"""blackbox_exporter's ``icmp`` prober: one echo request, success when the matching reply arrives.

Socket choice, as blackbox: an unprivileged ping socket (``SOCK_DGRAM``/``IPPROTO_ICMP``, allowed
when the process's group is inside ``net.ipv4.ping_group_range``; the kernel then owns the echo
identifier) first, a raw socket (root or ``CAP_NET_RAW``) when the kernel refuses it.  Unlike
blackbox, ``dont_fragment`` does not force a raw socket: the DF bit is set with ``IP_MTU_DISCOVER``
(``IP_PMTUDISC_DO``), which ping sockets accept too.

Metrics as blackbox 0.23+: ``probe_icmp_duration_seconds{phase="resolve|setup|rtt"}`` (all three
always present, 0 for a phase not reached) and, on success, ``probe_icmp_reply_hop_limit`` (the
reply's TTL / hop limit, from ``IP_RECVTTL`` / ``IPV6_RECVHOPLIMIT``).
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import os
import random
import socket
import struct
import sys
import time
from dataclasses import dataclass

from ...core.config import Context
from ...core.metrics import MetricFamily
from ..context import ProbeContext
from ..failures import extend_reasons
from ..net import resolve
from ..net.dial import IP_PROTOCOLS, check_source_ip
from ..spec import ProberSpec

ICMP_DURATION = MetricFamily("probe_icmp_duration_seconds", "Duration of icmp request by phase", labels=("phase",))
ICMP_REPLY_HOP_LIMIT = MetricFamily("probe_icmp_reply_hop_limit", "Replied packet hop limit (TTL for ipv4)")
FAMILIES = (ICMP_DURATION, ICMP_REPLY_HOP_LIMIT, *resolve.FAMILIES)
ICMPFailure = extend_reasons("ICMPFailure", "socket")  # neither a ping socket nor a raw socket could be opened
PHASES = ("resolve", "setup", "rtt")

# Linux values; the socket module does not export all of them on every Python build.
IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DO = getattr(socket, "IP_PMTUDISC_DO", 2)
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)
IPV6_RECVHOPLIMIT = getattr(socket, "IPV6_RECVHOPLIMIT", 51)
IPV6_HOPLIMIT = getattr(socket, "IPV6_HOPLIMIT", 52)
PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"
MAX_PAYLOAD = 65507  # largest ICMP payload in one IPv4 datagram

ECHO_REQUEST = {4: 8, 6: 128}
ECHO_REPLY = {4: 0, 6: 129}
# 28 bytes, the length of blackbox's default payload, so both send packets of the same size.
DEFAULT_PAYLOAD = b"infrawatch icmp echo payload"

# The echo identifier of raw sockets: the PID, or a random one when running as PID 1 (a
# container) so two exporters do not match each other's replies; the sequence starts at a random
# offset for the same reason (blackbox does both, see its issue #411).
_ECHO_ID = random.randrange(1 << 16) if os.getpid() == 1 else os.getpid() & 0xFFFF
_SEQUENCE = itertools.count(random.randrange(1 << 16))


@dataclass
class ICMPProbe:
    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True
    source_ip_address: str = ""
    # Payload bytes of the echo request; 0 sends the 28-byte default.
    payload_size: int = 0
    # Set the DF bit (IPv4 only, as blackbox).
    dont_fragment: bool = False
    # TTL / hop limit of the request; 0 keeps the system default.
    ttl: int = 0

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.preferred_ip_protocol not in IP_PROTOCOLS:
            ctx.error((*path, "preferred_ip_protocol"), f"expected ip4 or ip6, got {self.preferred_ip_protocol!r}")
        check_source_ip(self.source_ip_address, ctx, path)
        if not 0 <= self.payload_size <= MAX_PAYLOAD:
            ctx.error((*path, "payload_size"), f"must be between 0 and {MAX_PAYLOAD}, got {self.payload_size}")
        if not 0 <= self.ttl <= 255:
            ctx.error((*path, "ttl"), f"must be between 0 and 255, got {self.ttl}")


class SocketRefused(OSError):
    """Neither a ping socket nor a raw socket could be opened."""


def _ping_group_range() -> str:
    try:
        with open(PING_GROUP_RANGE, encoding="ascii") as f:
            return " ".join(f.read().split())
    except OSError:
        return "unknown"


def open_icmp_socket(version: int) -> tuple[socket.socket, bool, str]:
    """``(socket, privileged, why)``: a ping socket when the kernel allows one, else a raw socket.

    ``why`` says why the ping socket was not used (empty when it was).  Raises ``SocketRefused``
    with both reasons when neither can be opened.
    """
    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    proto = socket.IPPROTO_ICMPV6 if version == 6 else socket.IPPROTO_ICMP
    try:
        return socket.socket(family, socket.SOCK_DGRAM, proto), False, ""
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EPROTONOSUPPORT, errno.EAFNOSUPPORT):
            raise
        why = (
            f"ping socket refused ({exc.strerror}; net.ipv4.ping_group_range is {_ping_group_range()!r},"
            f" gid {os.getgid()})"
        )
    try:
        return socket.socket(family, socket.SOCK_RAW, proto), True, why
    except PermissionError as exc:
        raise SocketRefused(
            exc.errno, f"{why}; raw socket refused too ({exc.strerror}: needs root or CAP_NET_RAW)"
        ) from None


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_request(version: int, ident: int, seq: int, payload: bytes) -> bytes:
    """An ICMP / ICMPv6 echo request.  The kernel fills the ICMPv6 checksum (and, on ping
    sockets, the identifier and the ICMP checksum)."""
    head = struct.pack("!BBHHH", ECHO_REQUEST[version], 0, 0, ident, seq)
    csum = 0 if version == 6 else checksum(head + payload)
    return struct.pack("!BBHHH", ECHO_REQUEST[version], 0, csum, ident, seq) + payload


def payload_for(size: int) -> bytes:
    if size == 0:
        return DEFAULT_PAYLOAD
    return (DEFAULT_PAYLOAD * (size // len(DEFAULT_PAYLOAD) + 1))[:size]


def _hop_limit(ancdata: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancdata:
        if (level, kind) in ((socket.IPPROTO_IP, socket.IP_TTL), (socket.IPPROTO_IPV6, IPV6_HOPLIMIT)):
            if len(data) >= 4:
                return int.from_bytes(data[:4], sys.byteorder)
            if data:
                return data[0]
    return None


@dataclass
class _Echo:
    version: int
    dst: str
    privileged: bool
    ident: int
    seq: int
    payload: bytes

    def matches(self, data: bytes, peer: str) -> bool:
        if self.version == 4 and self.privileged:  # raw IPv4 sockets deliver the IP header too
            if len(data) < 20:
                return False
            data = data[(data[0] & 0x0F) * 4 :]
        if len(data) < 8 or peer.split("%")[0] != self.dst:
            return False
        typ, code, _, ident, seq = struct.unpack("!BBHHH", data[:8])
        if typ != ECHO_REPLY[self.version] or code != 0 or seq != self.seq:
            return False
        # A ping socket's identifier is chosen by the kernel, which only hands us our own replies.
        return (not self.privileged or ident == self.ident) and data[8:] == self.payload


def _configure(sock: socket.socket, cfg: ICMPProbe, version: int) -> None:
    sock.setblocking(False)
    if version == 4:
        sock.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        if cfg.ttl:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, cfg.ttl)
        if cfg.dont_fragment:
            sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    else:
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
        if cfg.ttl:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, cfg.ttl)
    if cfg.source_ip_address:
        sock.bind((cfg.source_ip_address, 0))


async def _wait_reply(sock: socket.socket, echo: _Echo, timeout: float) -> tuple[float, int | None]:
    """Read until the matching reply arrives: ``(monotonic arrival time, hop limit)``."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[float, int | None]] = loop.create_future()

    def readable() -> None:
        while not done.done():
            try:
                data, anc, _flags, addr = sock.recvmsg(65536, socket.CMSG_SPACE(4) * 2)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                done.set_exception(exc)
                return
            if echo.matches(data, addr[0]):
                done.set_result((time.monotonic(), _hop_limit(anc)))

    loop.add_reader(sock.fileno(), readable)
    try:
        async with asyncio.timeout(timeout):
            return await done
    finally:
        loop.remove_reader(sock.fileno())


async def probe_icmp(ctx: ProbeContext[ICMPProbe]) -> bool:
    cfg: ICMPProbe = ctx.config
    phases = dict.fromkeys(PHASES, 0.0)
    try:
        return await _probe(ctx, cfg, phases)
    finally:
        for phase, seconds in phases.items():
            ctx.metrics.set(ICMP_DURATION, seconds, {"phase": phase})


async def _probe(ctx: ProbeContext[ICMPProbe], cfg: ICMPProbe, phases: dict[str, float]) -> bool:
    host = ctx.target.strip()
    t0 = time.monotonic()
    ip = await resolve.resolve(ctx, host, cfg.preferred_ip_protocol, cfg.ip_protocol_fallback)
    phases["resolve"] = time.monotonic() - t0
    if ip is None:
        return False
    version = 6 if ":" in ip else 4
    t1 = time.monotonic()
    try:
        sock, privileged, why = open_icmp_socket(version)
    except SocketRefused as exc:
        return ctx.fail(ICMPFailure.SOCKET, f"cannot open an ICMP socket: {exc.strerror}")
    except OSError as exc:
        return ctx.fail(ICMPFailure.SOCKET, f"cannot open an ICMP socket: {exc}")
    with sock:
        if why:
            ctx.log(why + "; using a raw socket")
        ctx.log("created socket", kind="raw" if privileged else "ping", family=f"ip{version}")
        try:
            _configure(sock, cfg, version)
        except OSError as exc:
            what = f"binding {cfg.source_ip_address}" if cfg.source_ip_address else "setting socket options"
            return ctx.fail(ICMPFailure.SOCKET, f"{what}: {exc}")
        echo = _Echo(version, ip, privileged, _ECHO_ID, next(_SEQUENCE) & 0xFFFF, payload_for(cfg.payload_size))
        packet = echo_request(version, echo.ident, echo.seq, echo.payload)
        phases["setup"] = time.monotonic() - t1
        ctx.log("sending echo request", ip=ip, id=echo.ident if privileged else "kernel's", seq=echo.seq)
        t2 = time.monotonic()
        try:
            sock.sendto(packet, (ip, 0))
        except OSError as exc:
            return ctx.fail(ICMPFailure.CONNECT_ERROR, f"sending the echo request to {ip}: {exc}")
        try:
            arrived, hop_limit = await _wait_reply(sock, echo, ctx.remaining)
        except TimeoutError:
            return ctx.fail(ICMPFailure.TIMEOUT, f"no echo reply from {ip} before the deadline")
        except OSError as exc:
            return ctx.fail(ICMPFailure.CONNECT_ERROR, f"reading the echo reply from {ip}: {exc}")
    phases["rtt"] = arrived - t2
    if hop_limit is not None:
        ctx.metrics.set(ICMP_REPLY_HOP_LIMIT, hop_limit)
    ctx.log("echo reply", ip=ip, seq=echo.seq, rtt=round(phases["rtt"], 6), hop_limit=hop_limit)
    return True


SPEC = ProberSpec(ICMPProbe, probe_icmp, "ICMP echo (ping socket, raw socket fallback)", FAMILIES, ICMPFailure)
