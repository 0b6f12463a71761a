"""Async UDP stub resolver for DNSBL lookups through the operator's resolver.

One unconnected UDP socket per nameserver, queries multiplexed by 16-bit ID.  A reply is accepted
only if it comes from that nameserver and echoes our ID and question (case-insensitively), so a
stray or spoofed packet cannot turn into a listing.  A query that gets no reply within ``timeout``
is sent again (next nameserver, new ID) up to ``retries`` times, then reported as a timeout;
SERVFAIL and REFUSED are retried the same way.  Nothing is ever dropped silently: every call
returns an ``Answer``.

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
import time
from collections import deque
from dataclasses import dataclass, field

from . import dnswire

RETRYABLE_RCODES = {dnswire.RCODE_SERVFAIL, dnswire.RCODE_REFUSED}


@dataclass
class Answer:
    """The outcome of one (name, type) lookup."""

    rcode: int | None  # None: no usable answer (timeout, network error)
    addresses: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    ttl: int | None = None
    error: str = ""  # "timeout", "SERVFAIL", "REFUSED", "network: ..."
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.rcode in (dnswire.RCODE_NOERROR, dnswire.RCODE_NXDOMAIN) and not self.error


class _Pending:
    __slots__ = ("attempt", "deadline", "fut", "qname", "qname_lower", "qtype", "question")

    def __init__(self, fut: asyncio.Future, qname: str, qtype: int, question: bytes):
        self.fut = fut
        self.question = question
        self.qname = qname
        self.qname_lower = qname.lower().rstrip(".")
        self.qtype = qtype
        self.attempt = 0
        self.deadline = 0.0


class _Server:
    __slots__ = ("addr", "index", "sock")

    def __init__(self, index: int, sock: socket.socket, addr: tuple):
        self.index = index
        self.sock = sock
        self.addr = addr


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
                server = _Server(i, sock, sockaddr)
                self._loop.add_reader(sock.fileno(), self._read_ready, server)
                self._servers.append(server)

    async def close(self) -> None:
        for s in self._servers:
            if self._loop is not None:
                self._loop.remove_reader(s.sock.fileno())
            s.sock.close()
        self._servers.clear()
        if self._sweeper:
            self._sweeper.cancel()
            self._sweeper = None
        for p in [*self._pending.values(), *self._waiting]:
            if not p.fut.done():
                p.fut.set_result(Answer(None, error="resolver closed", attempts=p.attempt))
        self._pending.clear()
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
        except (dnswire.WireError, UnicodeError) as exc:
            fut.set_result(Answer(None, error=f"invalid name: {exc}", attempts=0))
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
        n = len(self._servers)
        server = self._servers[(self._rr + p.attempt) % n] if n > 1 else self._servers[0]
        if p.attempt == 0 and n > 1:
            self._rr += 1
        while True:
            qid = self._rand.getrandbits(16)
            key = (server.index, qid)
            if key not in self._pending:
                break
        packet = dnswire.query_header(qid) + p.question
        p.attempt += 1
        p.deadline = time.monotonic() + self.timeout
        self._pending[key] = p
        self.sent_total += 1
        if self._sweeper is None:
            assert self._loop is not None
            self._sweeper = self._loop.call_later(self._sweep_interval(), self._sweep)
        try:
            server.sock.sendto(packet, server.addr)
        except BlockingIOError:
            pass  # send buffer full: the timeout sweep retries it like a lost packet
        except OSError as exc:
            self._complete(key, Answer(None, error=f"network: {exc.strerror or exc}", attempts=p.attempt))

    def _sweep_interval(self) -> float:
        return max(0.01, min(self.timeout / 4, 0.25))

    def _sweep(self) -> None:
        self._sweeper = None
        now = time.monotonic()
        expired = []
        for key, p in self._pending.items():
            if p.deadline > now:
                break  # send order == deadline order
            expired.append(key)
        for key in expired:
            self.timeouts_total += 1
            self._retry_or_complete(key, Answer(None, error="timeout"))
        if self._pending and self._sweeper is None:
            assert self._loop is not None
            self._sweeper = self._loop.call_later(self._sweep_interval(), self._sweep)

    def _complete(self, key: tuple[int, int], answer: Answer) -> None:
        p = self._pending.pop(key, None)
        if p is None:
            return
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
        try:
            resp = dnswire.decode_response(data)
        except dnswire.WireError:
            self.rejected_total += 1
            return
        key = (server.index, resp.qid)
        p = self._pending.get(key)
        if p is None or resp.qtype != p.qtype or resp.qname.lower() != p.qname_lower:
            self.rejected_total += 1
            return
        if resp.rcode in RETRYABLE_RCODES:
            self._retry_or_complete(key, Answer(resp.rcode, error=dnswire.RCODE_NAMES[resp.rcode]))
            return
        if resp.rcode not in (dnswire.RCODE_NOERROR, dnswire.RCODE_NXDOMAIN):
            self._complete(
                key,
                Answer(resp.rcode, error=dnswire.RCODE_NAMES.get(resp.rcode, f"RCODE{resp.rcode}"), attempts=p.attempt),
            )
            return
        ttl = resp.answer_ttl if resp.addresses or resp.texts else resp.negative_ttl
        self._complete(key, Answer(resp.rcode, addresses=resp.addresses, texts=resp.texts, ttl=ttl, attempts=p.attempt))
