"""Async UDP stub resolver for DNSBL lookups through the operator's resolver.

One unconnected UDP socket per nameserver, queries multiplexed by 16-bit ID.  A reply is accepted
only if it comes from that nameserver and echoes our ID and question (case-insensitively), so a
stray or spoofed packet cannot turn into a listing.  A query that gets no reply within ``timeout``
is sent again (next nameserver, new ID) up to ``retries`` times, then reported as a timeout;
SERVFAIL, REFUSED and garbled replies are retried the same way.  Nothing is ever dropped silently:
every call returns an ``Answer``, and an answer that is not NOERROR/NXDOMAIN carries a ``reason``
from the bounded set ``REASONS`` (never the query name: it may hold a Spamhaus DQS key).

A truncated UDP reply (TC bit) is never used: the query is asked again over TCP, on the same
nameserver (RFC 7766), and only the TCP answer counts.  One TCP connection per nameserver carries
every such query at once (pipelined, matched by ID), so a cycle with many large TXT answers stays
fast; a TCP failure is retried like a lost packet and ends as ``truncated``, never as "not listed".
A TCP follow-up never runs past the lookup's deadline ((retries + 1) x timeout from its first
packet): a truncated reply that came late leaves it only what remains.
Every packet sent (UDP, TCP, retries) is recorded in ``Answer.packets`` with its outcome: that is
what a list's usage policy counts.

Speed (bench/dnsbl_throughput): sockets are read with ``add_reader`` and drained until empty on
each wake-up (asyncio's datagram transport reads one packet per event-loop iteration), at most
``concurrency`` queries are in flight (a FIFO of waiting queries instead of a semaphore), and
timeouts are found by one periodic sweep over the in-flight queries, which are kept in send
order, instead of one timer per query.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import time
from collections import deque
from dataclasses import dataclass, field

from . import dnswire

RETRYABLE_RCODES = {dnswire.RCODE_SERVFAIL, dnswire.RCODE_REFUSED}

# Why a lookup gave no usable answer: a bounded set (it becomes a label value).  The classifier
# adds the reasons that come from a list's answer (blocked_resolver, rate_limited, ...).
REASONS: dict[str, str] = {
    "timeout": "no reply within the timeout, after every retry",
    "servfail": "the resolver answered SERVFAIL (it could not reach the list)",
    "refused": "the resolver or the list refused the query (REFUSED)",
    "truncated": "the UDP reply was truncated and the TCP retry failed",
    "malformed": "the reply could not be parsed (garbled, wrong question)",
    "rcode": "the resolver answered another error code (FORMERR, NOTIMP, ...)",
    "network": "the query could not be sent (network error)",
    "invalid_name": "the query name is not a valid DNS name (e.g. too long)",
    "closed": "the resolver was closed while the query was outstanding",
}
_RCODE_REASON = {dnswire.RCODE_SERVFAIL: "servfail", dnswire.RCODE_REFUSED: "refused"}
_RESULTS = {code: name.lower() for code, name in dnswire.RCODE_NAMES.items()}  # per-packet outcome
_TCP_LEN = struct.Struct("!H")


@dataclass(slots=True)
class Answer:
    """The outcome of one (name, type) lookup."""

    rcode: int | None  # None: no usable answer (timeout, network error)
    addresses: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    addresses6: list[str] = field(default_factory=list)  # AAAA (hostname targets)
    exchanges: list[tuple[int, str]] = field(default_factory=list)  # MX (hostname targets)
    ttl: int | None = None
    error: str = ""  # human-readable: "timeout", "SERVFAIL", "REFUSED", "network: ..." (never the name)
    attempts: int = 1
    reason: str = ""  # one of REASONS when the answer is not usable
    packets: list[str] = field(default_factory=list)  # outcome of every packet sent for this lookup
    tcp: bool = False  # the answer came over TCP (after a truncated UDP reply)

    @property
    def ok(self) -> bool:
        return self.rcode in (dnswire.RCODE_NOERROR, dnswire.RCODE_NXDOMAIN) and not self.error


class _Pending:
    __slots__ = (
        "attempt",
        "deadline",
        "expires",
        "fut",
        "packets",
        "qname",
        "qname_lower",
        "qtype",
        "question",
        "tcp_server",
    )

    def __init__(self, fut: asyncio.Future, qname: str, qtype: int, question: bytes):
        self.fut = fut
        self.question = question
        self.qname = qname
        self.qname_lower = qname.lower().rstrip(".")
        self.qtype = qtype
        self.attempt = 0
        self.deadline = 0.0  # of the packet in flight
        self.expires = 0.0  # of the whole lookup: (retries + 1) x timeout after the first packet
        self.packets: list[str] = []
        self.tcp_server: _Server | None = None  # set once a UDP reply came back truncated


class _Server:
    __slots__ = ("addr", "family", "index", "sock", "tcp")

    def __init__(self, index: int, sock: socket.socket, addr: tuple, family: int):
        self.index = index
        self.sock = sock
        self.addr = addr
        self.family = family
        self.tcp: _TcpChannel | None = None


class _TcpChannel(asyncio.Protocol):
    """One pipelined TCP connection to a nameserver (RFC 7766 §6.2.1.1: many queries in flight)."""

    def __init__(self, resolver: Resolver, server: _Server):
        self.resolver = resolver
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.backlog: list[bytes] = []  # framed queries written once the connection is up
        self.buf = bytearray()
        self.closed = False
        self.task = asyncio.ensure_future(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: self, self.server.addr[0], self.server.addr[1])
        except OSError as exc:
            self._fail(f"tcp connect: {exc.strerror or exc}")

    def send(self, packet: bytes) -> None:
        framed = _TCP_LEN.pack(len(packet)) + packet
        if self.transport is not None:
            self.transport.write(framed)
        else:
            self.backlog.append(framed)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.backlog:
            transport.write(b"".join(self.backlog))
            self.backlog.clear()

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos = 0
        while len(buf) - pos >= 2:
            (n,) = _TCP_LEN.unpack_from(buf, pos)
            if len(buf) - pos - 2 < n:
                break
            msg = bytes(buf[pos + 2 : pos + 2 + n])
            pos += 2 + n
            self.resolver._on_tcp_message(self.server, msg)
        del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail("tcp connection closed" + (f": {exc}" if exc else ""))

    def _fail(self, why: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self.server.tcp is self:
            self.server.tcp = None
        self.resolver._on_tcp_lost(self.server, why)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        elif not self.task.done():
            self.task.cancel()


class Resolver:
    def __init__(
        self, nameservers: list[tuple[str, int]], timeout: float = 2.0, retries: int = 2, concurrency: int = 128
    ):
        if not nameservers:
            raise ValueError("at least one nameserver is required")
        self.nameservers = nameservers
        self.timeout = timeout
        self.retries = retries
        self.concurrency = concurrency
        self._servers: list[_Server] = []
        self._pending: dict[tuple[int, int], _Pending] = {}  # (server, id) -> query, in send order
        # TCP follow-ups whose deadline was cut to the lookup's (out of send order: swept separately)
        self._clipped: dict[tuple[int, int], _Pending] = {}
        self._waiting: deque[_Pending] = deque()
        self._inflight = 0
        self._open_lock = asyncio.Lock()
        self._rand = random.Random(random.SystemRandom().getrandbits(64))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._rr = 0
        self.sent_total = 0
        self.timeouts_total = 0
        self.rejected_total = 0  # replies that did not match an outstanding query
        self.truncated_total = 0  # UDP replies with the TC bit (each asked again over TCP)
        self.tcp_sent_total = 0

    async def _open(self) -> None:
        async with self._open_lock:
            if self._servers:
                return
            self._loop = asyncio.get_running_loop()
            for i, (host, port) in enumerate(self.nameservers):
                infos = await self._loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
                family, _, _, _, sockaddr = infos[0]
                sock = socket.socket(family, socket.SOCK_DGRAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
                sock.setblocking(False)
                sock.bind(("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0))
                # Connected: the kernel drops datagrams from any other address or port before we see
                # them (our own source check stays), and send() skips a route lookup per packet.
                sock.connect(sockaddr)
                server = _Server(i, sock, sockaddr, family)
                self._loop.add_reader(sock.fileno(), self._read_ready, server)
                self._servers.append(server)

    async def close(self) -> None:
        for s in self._servers:
            if self._loop is not None:
                self._loop.remove_reader(s.sock.fileno())
            s.sock.close()
            if s.tcp is not None:
                s.tcp.close()
                s.tcp = None
        self._servers.clear()
        if self._sweeper:
            self._sweeper.cancel()
            self._sweeper = None
        for p in [*self._pending.values(), *self._waiting]:
            if not p.fut.done():
                p.fut.set_result(
                    Answer(None, error="resolver closed", attempts=p.attempt, reason="closed", packets=p.packets)
                )
        self._pending.clear()
        self._clipped.clear()
        self._waiting.clear()
        self._inflight = 0

    async def query(self, qname: str, qtype: int = dnswire.TYPE_A) -> Answer:
        if not self._servers:
            await self._open()
        return await self.submit(qname, qtype)

    async def ensure_open(self) -> None:
        if not self._servers:
            await self._open()

    def submit(self, qname: str, qtype: int = dnswire.TYPE_A) -> asyncio.Future:
        """Start a lookup and return the future of its ``Answer`` (after ``ensure_open``).

        Batch callers gather these futures directly, which costs no task per lookup.
        """
        assert self._loop is not None, "call ensure_open() first"
        fut = self._loop.create_future()
        try:
            question = dnswire.encode_question(qname, qtype)
        except (dnswire.WireError, UnicodeError):
            # The message would name the query, which may contain a DQS key: say what, not which.
            fut.set_result(
                Answer(None, error="invalid query name (too long or bad label)", attempts=0, reason="invalid_name")
            )
            return fut
        p = _Pending(fut, qname, qtype, question)
        if self._inflight < self.concurrency:
            self._inflight += 1
            self._send(p)
        else:
            self._waiting.append(p)
        return fut

    # -- sending, retrying, finishing ---------------------------------------------------------
    def _send(self, p: _Pending) -> None:
        tcp = p.tcp_server is not None
        if tcp:
            server = p.tcp_server
            assert server is not None
        else:
            n = len(self._servers)
            server = self._servers[(self._rr + p.attempt) % n] if n > 1 else self._servers[0]
            if p.attempt == 0 and n > 1:
                self._rr += 1
        # TCP queries live in their own ID space per server: key (-1 - index, id).
        space = -1 - server.index if tcp else server.index
        while True:
            qid = self._rand.getrandbits(16)
            key = (space, qid)
            if key not in self._pending:
                break
        packet = dnswire.query_header(qid) + p.question
        p.attempt += 1
        now = time.monotonic()
        p.deadline = now + self.timeout
        if not p.expires:
            # The lookup's deadline; the sweep's granularity added so a UDP retry keeps its full timeout.
            p.expires = p.deadline + self.timeout * self.retries + self._sweep_interval()
        elif tcp and p.deadline > p.expires:
            # A TCP follow-up (a truncated reply came late) never stretches the lookup past its deadline.
            p.deadline = p.expires
            self._clipped[key] = p
        self._pending[key] = p
        self.sent_total += 1
        if self._sweeper is None:
            assert self._loop is not None
            self._sweeper = self._loop.call_later(self._sweep_interval(), self._sweep)
        if tcp:
            self.tcp_sent_total += 1
            if server.tcp is None or server.tcp.closed:
                server.tcp = _TcpChannel(self, server)
            server.tcp.send(packet)
            return
        try:
            server.sock.send(packet)
        except (BlockingIOError, ConnectionRefusedError):
            # Send buffer full, or the ICMP "port unreachable" of an earlier packet reported on
            # this connected socket: the timeout sweep retries it like a lost packet.
            pass
        except OSError as exc:
            p.packets.append("error")
            self._complete(
                key, Answer(None, error=f"network: {exc.strerror or exc}", attempts=p.attempt, reason="network")
            )

    def _sweep_interval(self) -> float:
        return max(0.01, min(self.timeout / 4, 0.25))

    def _sweep(self) -> None:
        self._sweeper = None
        now = time.monotonic()
        expired = []
        for key, p in self._pending.items():
            if p.deadline > now:
                break  # send order == deadline order (except the clipped ones, below)
            expired.append(key)
        if self._clipped:
            for key, p in list(self._clipped.items()):
                if self._pending.get(key) is not p:
                    del self._clipped[key]  # answered or retried meanwhile
                elif p.deadline <= now:
                    del self._clipped[key]
                    if key not in expired:
                        expired.append(key)
        for key in expired:
            p = self._pending.get(key)
            if p is None:
                continue
            self.timeouts_total += 1
            p.packets.append("timeout")
            if p.tcp_server is not None:
                self._retry_or_complete(key, Answer(None, error="truncated; TCP timed out", reason="truncated"))
            else:
                self._retry_or_complete(key, Answer(None, error="timeout", reason="timeout"))
        if self._pending and self._sweeper is None:
            assert self._loop is not None
            self._sweeper = self._loop.call_later(self._sweep_interval(), self._sweep)

    def _complete(self, key: tuple[int, int], answer: Answer) -> None:
        p = self._pending.pop(key, None)
        if p is None:
            return
        answer.packets = p.packets
        if not p.fut.done():
            p.fut.set_result(answer)
        self._release()

    def _release(self) -> None:
        while self._waiting:
            nxt = self._waiting.popleft()
            if not nxt.fut.done():
                self._send(nxt)
                return
        self._inflight -= 1

    def _retry_or_complete(self, key: tuple[int, int], answer: Answer) -> None:
        p = self._pending.pop(key, None)
        if p is None:
            return
        if p.fut.done():
            self._release()
        elif p.attempt <= self.retries:
            self._send(p)
        else:
            answer.attempts = p.attempt
            answer.packets = p.packets
            p.fut.set_result(answer)
            self._release()

    # -- receiving ----------------------------------------------------------------------------
    def _read_ready(self, server: _Server) -> None:
        sock = server.sock
        for _ in range(1024):  # drain what is queued, but let other callbacks run eventually
            try:
                data, addr = sock.recvfrom(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue  # e.g. ICMP port unreachable on some kernels: the timeout handles it
            self._on_datagram(server, data, addr)

    def _on_datagram(self, server: _Server, data: bytes, addr: tuple) -> None:
        if addr[:2] != server.addr[:2]:
            self.rejected_total += 1
            return
        self._on_reply(server.index, data, tcp_server=None, udp_server=server)

    def _on_tcp_message(self, server: _Server, data: bytes) -> None:
        self._on_reply(-1 - server.index, data, tcp_server=server, udp_server=None)

    def _on_tcp_lost(self, server: _Server, why: str) -> None:
        """The TCP connection broke: its outstanding queries are retried (a new connection) or fail."""
        space = -1 - server.index
        for key in [k for k in self._pending if k[0] == space]:
            p = self._pending[key]
            p.packets.append("error")
            self._retry_or_complete(key, Answer(None, error=f"truncated; {why}", reason="truncated"))

    def _on_reply(self, space: int, data: bytes, tcp_server: _Server | None, udp_server: _Server | None) -> None:
        key = (space, int.from_bytes(data[:2], "big"))
        p = self._pending.get(key)
        if p is None or len(data) < 12:
            self.rejected_total += 1  # not one of our IDs (or no header): a stray
            return
        try:
            resp = dnswire.decode_response(data, p.question)
        except dnswire.QuestionMismatch:
            self.rejected_total += 1  # our ID, another question: ignored, the real reply may follow
            return
        except dnswire.WireError:
            # Garbled reply to one of our queries: retried, and when retries run out "malformed"
            # (unknown, never clean).
            p.packets.append("malformed")
            self._retry_or_complete(key, Answer(None, error="malformed reply", reason="malformed"))
            return
        if resp.truncated:
            if udp_server is not None:
                # RFC 7766: ask the same server again over TCP; the partial UDP answer is discarded.
                p.packets.append("truncated")
                self.truncated_total += 1
                del self._pending[key]
                p.tcp_server = udp_server
                p.attempt -= 1  # the TCP follow-up is part of this attempt, not a retry
                self._send(p)
                return
            p.packets.append("truncated")
            self._complete(key, Answer(None, error="truncated even over TCP", attempts=p.attempt, reason="truncated"))
            return
        p.packets.append(_RESULTS.get(resp.rcode, "error"))
        if resp.rcode in RETRYABLE_RCODES:
            self._retry_or_complete(
                key, Answer(resp.rcode, error=dnswire.RCODE_NAMES[resp.rcode], reason=_RCODE_REASON[resp.rcode])
            )
            return
        if resp.rcode not in (dnswire.RCODE_NOERROR, dnswire.RCODE_NXDOMAIN):
            self._complete(
                key,
                Answer(
                    resp.rcode,
                    error=dnswire.RCODE_NAMES.get(resp.rcode, f"RCODE{resp.rcode}"),
                    attempts=p.attempt,
                    reason="rcode",
                ),
            )
            return
        ttl = resp.answer_ttl if resp.answer_ttl is not None else resp.negative_ttl
        self._complete(
            key,
            Answer(
                resp.rcode,
                addresses=resp.addresses,
                texts=resp.texts,
                addresses6=resp.addresses6,
                exchanges=resp.exchanges,
                ttl=ttl,
                attempts=p.attempt,
                tcp=tcp_server is not None,
            ),
        )
