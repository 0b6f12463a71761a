"""Async UDP stub resolver for DNSBL lookups through the operator's resolver.

One connected UDP socket per nameserver, queries multiplexed by 16-bit ID.  A reply is accepted
only if it comes from that nameserver and echoes one of our outstanding IDs and the question
(case-insensitively), so a stray or spoofed packet cannot turn into a listing.

Timeouts and retries: a lookup has (retries + 1) x ``timeout`` from its first packet.  Within
that, a try that gets no reply is sent again (next nameserver, new ID) after an adaptive
retransmission timeout, as c-ares does: ``timeout`` until the server has answered a few first
tries, then 5 x its smoothed round-trip time (first tries only: Karn's rule), never under
``min_timeout`` (250 ms), doubling on each further try; the last try waits for the rest of the
lookup's time.  A retransmitted packet's ID stays valid, so a late reply to it still counts: a
slow resolver costs an extra packet, never an answer.  A lost packet (a server's receive buffer
full) thus costs about 250 ms instead of the whole timeout.  SERVFAIL, REFUSED and garbled
replies are retried the same way.  Nothing is ever dropped silently: every call returns an
``Answer``, and an answer that is not NOERROR/NXDOMAIN carries a ``reason`` from the bounded set
``REASONS`` (never the query name: it may hold a Spamhaus DQS key).

A truncated UDP reply (TC bit) is never used: the query is asked again over TCP, on the same
nameserver (RFC 7766), and only the TCP answer counts.  One TCP connection per nameserver carries
every such query at once (pipelined, matched by ID), so a cycle with many large TXT answers stays
fast; a TCP failure is retried like a lost packet and ends as ``truncated``, never as "not listed".
A TCP follow-up never runs past the lookup's deadline.
Every packet sent (UDP, TCP, retries) is recorded in ``Answer.packets`` with its outcome: that is
what a list's usage policy counts.

Speed (bench/dnsbl_throughput): sockets are read with ``add_reader`` and drained until empty on
each wake-up (asyncio's datagram transport reads one packet per event-loop iteration), at most
``concurrency`` queries are in flight (a FIFO of waiting batches instead of a semaphore), a batch
of lookups (``submit_many``) resolves one future instead of one per lookup and makes a lookup's
object only when it is sent, and timeouts are found by a periodic sweep over a heap of packet
deadlines instead of one timer per query.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import socket
import struct
import time
from collections import deque
from collections.abc import Sequence
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
_QUERY_FLAGS = dnswire.query_header(0)[2:]
# Adaptive retransmission (c-ares' server metrics): after RTT_MIN_SAMPLES answers, a first try is
# sent again after RTT_MULTIPLIER x the server's smoothed RTT (a local resolver answering from its
# cache is much faster than one that recurses, hence the wide margin), never under ``min_timeout``.
RTT_MIN_SAMPLES = 3
RTT_MULTIPLIER = 5  # a query's header after its ID (RD set, one question)


@dataclass(slots=True)
class Answer:
    """The outcome of one (name, type) lookup."""

    rcode: int | None  # None: no usable answer (timeout, network error)
    # Records by type; dnswire.EMPTY (a shared empty tuple) when there are none.
    addresses: Sequence[str] = dnswire.EMPTY
    texts: Sequence[str] = dnswire.EMPTY
    addresses6: Sequence[str] = dnswire.EMPTY  # AAAA (hostname targets)
    exchanges: Sequence[tuple[int, str]] = dnswire.EMPTY  # MX (hostname targets)
    ttl: int | None = None
    error: str = ""  # human-readable: "timeout", "SERVFAIL", "REFUSED", "network: ..." (never the name)
    attempts: int = 1
    reason: str = ""  # one of REASONS when the answer is not usable
    packets: list[str] = field(default_factory=list)  # outcome of every packet sent for this lookup
    tcp: bool = False  # the answer came over TCP (after a truncated UDP reply)

    @property
    def ok(self) -> bool:
        return self.rcode in (dnswire.RCODE_NOERROR, dnswire.RCODE_NXDOMAIN) and not self.error


class _Batch:
    """The lookups of one ``submit_many`` call (or one ``submit``): their names, where their
    answers go, and how far they have been started; one future for all of them.

    A future per lookup costs a Future, a call_soon Handle and gather's callback per answer; and a
    lookup object per waiting name makes a large batch a large heap for the garbage collector to
    scan.  A batch resolves its one future when its last answer is in, and a lookup's ``_Pending``
    is made only when the lookup is sent (at most ``concurrency`` at a time).
    """

    __slots__ = ("fut", "next", "qnames", "qtype", "remaining", "results", "single")

    def __init__(self, fut: asyncio.Future, qnames: list[str], qtype: int, single: bool):
        self.fut = fut
        self.qnames = qnames
        self.qtype = qtype
        self.next = 0  # index of the first lookup not yet started
        self.results: list[Answer | None] = [None] * len(qnames)
        self.remaining = len(qnames)
        self.single = single

    def done(self, index: int, answer: Answer) -> None:
        if self.fut.done():  # cancelled by the caller
            return
        if self.single:
            self.fut.set_result(answer)
            return
        self.results[index] = answer
        self.remaining -= 1
        if not self.remaining:
            self.fut.set_result(self.results)


class _Pending:
    __slots__ = (
        "attempt",
        "batch",
        "deadline",
        "expires",
        "index",
        "key",
        "keys",
        "packets",
        "question",
        "sent_at",
        "tcp_server",
    )

    def __init__(self, batch: _Batch, index: int, question: bytes):
        self.batch = batch
        self.index = index
        self.question = question  # the name is not kept: it may hold a DQS key
        self.attempt = 0
        self.deadline = 0.0  # of the packet in flight
        self.expires = 0.0  # of the whole lookup: (retries + 1) x timeout after the first packet
        self.key: tuple[int, int] = (0, -1)  # of the packet in flight
        # Every packet of this lookup still waited for: a reply to an earlier one (late, after a
        # retransmission) is as good as a reply to the last.  None until a second packet is sent
        # (most lookups send one: no list for them).
        self.keys: list[tuple[int, int]] | None = None
        self.sent_at = 0.0
        self.packets: list[str] = []
        self.tcp_server: _Server | None = None  # set once a UDP reply came back truncated


class _Server:
    __slots__ = ("addr", "family", "index", "rto", "samples", "sock", "srtt", "tcp")

    def __init__(self, index: int, sock: socket.socket, addr: tuple, family: int):
        self.index = index
        self.sock = sock
        self.addr = addr
        self.family = family
        self.tcp: _TcpChannel | None = None
        self.srtt = 0.0  # smoothed round-trip time of first-try UDP answers (Karn: no retransmitted ones)
        self.samples = 0
        self.rto = 0.0  # first-try retransmission timeout, once there are RTT_MIN_SAMPLES samples


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
        self,
        nameservers: list[tuple[str, int]],
        timeout: float = 2.0,
        retries: int = 2,
        concurrency: int = 64,
        min_timeout: float = 0.25,
    ):
        if not nameservers:
            raise ValueError("at least one nameserver is required")
        self.nameservers = nameservers
        self.timeout = timeout
        self.retries = retries
        self.concurrency = concurrency
        # The adaptive retransmission timeout never goes below this (c-ares' 250 ms: about a round
        # trip half-way around the globe); min_timeout >= timeout turns adaptation off.
        self.min_timeout = min(min_timeout, timeout)
        # A lookup's deadline is (retries + 1) x timeout after its first packet, plus the sweep's
        # granularity so the last UDP retry keeps its full timeout.
        self._lookup_time = timeout * (retries + 1) + self._sweep_interval()
        self._servers: list[_Server] = []
        self._pending: dict[tuple[int, int], _Pending] = {}  # (server, id) -> query
        self._timers: list[tuple[float, int, tuple[int, int], _Pending]] = []  # heap of packet deadlines
        self._timer_seq = 0
        self._waiting: deque[_Batch] = deque()  # batches with lookups not started yet, FIFO
        self._inflight = 0
        self._filling = False
        self._open_lock = asyncio.Lock()
        self._rand = random.Random(random.SystemRandom().getrandbits(64))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._rr = 0
        self.sent_total = 0
        self.timeouts_total = 0  # packets given up on (each retransmitted, or its lookup timed out)
        self.rejected_total = 0  # replies that did not match an outstanding query
        self.truncated_total = 0  # UDP replies with the TC bit (each asked again over TCP)
        self.tcp_sent_total = 0
        self.late_total = 0  # answers to a packet that had been retransmitted already

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
        lookups = {id(p): p for p in self._pending.values()}
        for p in lookups.values():
            p.batch.done(
                p.index, Answer(None, error="resolver closed", attempts=p.attempt, reason="closed", packets=p.packets)
            )
        for b in self._waiting:
            for i in range(b.next, len(b.qnames)):
                b.done(i, Answer(None, error="resolver closed", attempts=0, reason="closed"))
        self._pending.clear()
        self._timers.clear()
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
        """Start a lookup and return the future of its ``Answer`` (after ``ensure_open``)."""
        assert self._loop is not None, "call ensure_open() first"
        fut = self._loop.create_future()
        self._waiting.append(_Batch(fut, [qname], qtype, single=True))
        self._fill()
        return fut

    def submit_many(self, qnames: list[str], qtype: int = dnswire.TYPE_A) -> asyncio.Future:
        """Start one lookup per name; the future's result is their ``Answer`` list, in order.

        What the engine uses for a list's targets: one future for the whole batch.
        """
        assert self._loop is not None, "call ensure_open() first"
        fut = self._loop.create_future()
        if not qnames:
            fut.set_result([])
            return fut
        self._waiting.append(_Batch(fut, list(qnames), qtype, single=False))
        self._fill()
        return fut

    def _fill(self) -> None:
        """Start waiting lookups, in submission order, while fewer than ``concurrency`` are in flight."""
        if self._filling:
            return  # a send that failed at once finished its lookup: the loop below goes on
        self._filling = True
        try:
            self._fill_loop()
        finally:
            self._filling = False

    def _fill_loop(self) -> None:
        waiting = self._waiting
        while waiting and self._inflight < self.concurrency:
            batch = waiting[0]
            index = batch.next
            if batch.fut.done() or index >= len(batch.qnames):  # cancelled, or every lookup started
                waiting.popleft()
                continue
            batch.next = index + 1
            qname = batch.qnames[index]
            try:
                question = dnswire.encode_question(qname, batch.qtype)
            except (dnswire.WireError, UnicodeError):
                # The message would name the query, which may contain a DQS key: say what, not which.
                why = "invalid query name (too long or bad label)"
                batch.done(index, Answer(None, error=why, attempts=0, reason="invalid_name"))
                continue
            self._inflight += 1
            self._send(_Pending(batch, index, question))

    # -- sending, retrying, finishing ---------------------------------------------------------
    def _retransmit_after(self, server: _Server, attempt: int) -> float:
        """How long a UDP try waits before the next one is sent: ``timeout`` until the server has
        answered a few first tries, then 5 x its smoothed RTT within [min_timeout, timeout],
        doubled on every further try (as c-ares does since 1.32)."""
        if server.samples < RTT_MIN_SAMPLES:
            return self.timeout
        return min(self.timeout, server.rto * (1 << (attempt - 1)))

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
        pending = self._pending
        while True:
            qid = self._rand.getrandbits(16)
            key = (space, qid)
            if key not in pending:
                break
        packet = qid.to_bytes(2, "big") + _QUERY_FLAGS + p.question
        p.attempt += 1
        now = time.monotonic()
        if not p.expires:
            p.expires = now + self._lookup_time
        if tcp:
            # A TCP follow-up (a truncated reply came late) never stretches the lookup past its deadline.
            deadline = min(now + self.timeout, p.expires)
        elif p.attempt > self.retries:
            deadline = p.expires  # the last try waits for whatever the lookup has left
        else:
            deadline = min(now + self._retransmit_after(server, p.attempt), p.expires)
        p.deadline = deadline
        if p.attempt > 1 or tcp:  # a second packet of this lookup (or a TCP follow-up)
            if p.keys is None:
                p.keys = [p.key] if pending.get(p.key) is p else []
            p.keys.append(key)
        p.key = key
        p.sent_at = now
        pending[key] = p
        self._timer_seq += 1
        heapq.heappush(self._timers, (deadline, self._timer_seq, key, p))
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
        return max(0.01, min(min(self.timeout, self.min_timeout) / 4, 0.25))

    def _sweep(self) -> None:
        self._sweeper = None
        now = time.monotonic()
        timers = self._timers
        pending = self._pending
        expired = []
        while timers and timers[0][0] <= now:
            deadline, _, key, p = heapq.heappop(timers)
            # Stale unless it is still the packet in flight of a lookup still outstanding.
            if p.key == key and p.deadline == deadline and pending.get(key) is p:
                expired.append((key, p))
        for key, p in expired:
            if pending.get(key) is not p or p.key != key:
                continue  # finished while an earlier one in this sweep was handled
            self.timeouts_total += 1
            p.packets.append("timeout")
            if p.tcp_server is not None:
                self._retry_or_complete(key, Answer(None, error="truncated; TCP timed out", reason="truncated"))
            else:
                # The lost packet's key stays registered: a late reply to it still counts.
                self._retry_or_complete(key, Answer(None, error="timeout", reason="timeout"), keep=True)
        if not pending:
            timers.clear()
        elif len(timers) > 4 * len(pending) + 1024:
            # Answered packets leave their deadline behind; rebuild from the live ones now and then.
            live = {id(p): p for p in pending.values()}
            rebuilt = []
            for p in live.values():
                self._timer_seq += 1  # sequence numbers stay unique: entries never compare lookups
                rebuilt.append((p.deadline, self._timer_seq, p.key, p))
            heapq.heapify(rebuilt)
            self._timers = rebuilt
        if pending and self._sweeper is None:
            assert self._loop is not None
            self._sweeper = self._loop.call_later(self._sweep_interval(), self._sweep)

    def _forget(self, p: _Pending) -> None:
        pending = self._pending
        if p.keys is None:
            if pending.get(p.key) is p:
                del pending[p.key]
            return
        for k in p.keys:
            if pending.get(k) is p:
                del pending[k]
        p.keys = None

    def _drop_key(self, p: _Pending, key: tuple[int, int]) -> None:
        """Stop waiting for one packet of ``p`` (it failed, or belongs to a broken connection)."""
        del self._pending[key]
        if p.keys is not None:
            p.keys.remove(key)

    def _complete(self, key: tuple[int, int], answer: Answer) -> None:
        p = self._pending.get(key)
        if p is not None:
            self._finish(p, answer)

    def _finish(self, p: _Pending, answer: Answer) -> None:
        """The lookup's answer is in: forget its packets, hand the answer over, start the next one."""
        self._forget(p)
        answer.packets = p.packets
        p.batch.done(p.index, answer)
        self._release()

    def _release(self) -> None:
        self._inflight -= 1
        if self._waiting:
            self._fill()

    def _retry_or_complete(self, key: tuple[int, int], answer: Answer, keep: bool = False) -> None:
        """The packet ``key`` failed (timeout, SERVFAIL, ...): send the next try, or give up.

        ``keep``: the failed packet may still be answered (it only timed out), so its key stays.
        """
        p = self._pending.get(key)
        if p is None:
            return
        if key != p.key:
            # An earlier packet of this lookup failed late; the one in flight is still awaited.
            self._drop_key(p, key)
            return
        if p.batch.fut.done():
            self._forget(p)
            self._release()
        elif p.attempt <= self.retries:
            if not keep:
                self._drop_key(p, key)
            self._send(p)
        else:
            answer.attempts = p.attempt
            self._finish(p, answer)

    # -- receiving ----------------------------------------------------------------------------
    def _read_ready(self, server: _Server) -> None:
        recvfrom = server.sock.recvfrom
        source = server.addr[:2]
        space = server.index
        on_reply = self._on_reply
        # The lookups these replies finish make room for waiting ones: those are sent in one burst
        # once the socket is drained, not one after each reply.  A burst wakes the server once
        # (a send to a sleeping server pays for waking it), and its replies come back as a burst.
        deferred = not self._filling
        self._filling = True
        try:
            for _ in range(1024):  # drain what is queued, but let other callbacks run eventually
                try:
                    data, addr = recvfrom(4096)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    continue  # e.g. ICMP port unreachable on some kernels: the timeout handles it
                if addr[:2] != source:
                    self.rejected_total += 1  # the socket is connected, so the kernel filters too
                    continue
                on_reply(space, data, None, server)
        finally:
            if deferred:
                self._filling = False
                if self._waiting and self._inflight < self.concurrency:
                    self._fill()

    def _on_tcp_message(self, server: _Server, data: bytes) -> None:
        self._on_reply(-1 - server.index, data, server, None)

    def _on_tcp_lost(self, server: _Server, why: str) -> None:
        """The TCP connection broke: its outstanding queries are retried (a new connection) or fail."""
        space = -1 - server.index
        for key in [k for k in self._pending if k[0] == space]:
            p = self._pending.get(key)
            if p is None:
                continue
            if key != p.key:  # an earlier TCP try of a lookup whose later packet is still out
                self._drop_key(p, key)
                continue
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
                # RFC 7766: ask the same server again over TCP; the partial UDP answer is discarded,
                # and so is any other UDP packet of this lookup still out.
                p.packets.append("truncated")
                self.truncated_total += 1
                self._forget(p)
                p.tcp_server = udp_server
                p.attempt -= 1  # the TCP follow-up is part of this attempt, not a retry
                self._send(p)
                return
            p.packets.append("truncated")
            self._complete(key, Answer(None, error="truncated even over TCP", attempts=p.attempt, reason="truncated"))
            return
        rcode = resp.rcode
        p.packets.append(_RESULTS.get(rcode, "error"))
        if rcode in RETRYABLE_RCODES:
            self._retry_or_complete(key, Answer(rcode, error=dnswire.RCODE_NAMES[rcode], reason=_RCODE_REASON[rcode]))
            return
        if rcode not in (dnswire.RCODE_NOERROR, dnswire.RCODE_NXDOMAIN):
            error = dnswire.RCODE_NAMES.get(rcode, f"RCODE{rcode}")
            self._complete(key, Answer(rcode, error=error, attempts=p.attempt, reason="rcode"))
            return
        if key != p.key:
            self.late_total += 1
        elif udp_server is not None and p.attempt == 1:
            # Karn's rule: only a first try's answer is an unambiguous RTT sample.
            self._sample_rtt(udp_server, time.monotonic() - p.sent_at)
        ttl = resp.answer_ttl if resp.answer_ttl is not None else resp.negative_ttl
        self._finish(
            p,
            Answer(
                rcode,
                addresses=resp.addresses,
                texts=resp.texts,
                addresses6=resp.addresses6,
                exchanges=resp.exchanges,
                ttl=ttl,
                attempts=p.attempt,
                tcp=tcp_server is not None,
            ),
        )

    def _sample_rtt(self, server: _Server, rtt: float) -> None:
        server.samples += 1
        server.srtt = rtt if server.samples == 1 else server.srtt + (rtt - server.srtt) / 8
        server.rto = min(self.timeout, max(self.min_timeout, RTT_MULTIPLIER * server.srtt))
