"""A fault-injecting DNS server of the tests' own (UDP + pipelined TCP on one loopback port).

rbldnsd answers correctly or not at all, and speaks no TCP; this server misbehaves on purpose, per
query name, the ways real resolvers and networks do:

    server = FaultDNS({"2.0.0.127.zen.test": Rule(a=["127.0.0.2"], txt=["test"], udp="truncate")})
    await server.start()           # in the test's event loop; server.address -> "127.0.0.1:PORT"

UDP faults (``Rule.udp``): ``ok``, ``truncate`` (TC bit, empty answer section: the client must ask
again over TCP), ``truncate_partial`` (TC bit with the first record only), ``servfail``,
``refused``, ``formerr``, ``drop`` (no reply), ``drop_first`` (no reply to the first query of
that name and type, then ``ok``: one lost packet), ``wrong_id`` (reply with another ID),
``wrong_port`` (correct reply sent from another socket), ``garbage`` (our ID, then junk),
``wrong_question`` (reply for another name); ``Rule.udp_delay`` holds the UDP reply back.
TCP faults (``Rule.tcp``): ``ok``, ``drop``
(read and never answer), ``close`` (close the connection without answering), ``servfail``,
``truncate`` (TC even over TCP).  Names without a rule get NXDOMAIN (with an SOA: negative TTL).
Messages are built and parsed with dnspython, independently of the codec under test.  Every query
received is recorded in ``queries`` as (transport, name, type).  TCP replies may be sent out of
order (``tcp_reverse=True`` answers a batch of pipelined queries last-first).  ``tcp_accepted``
counts the TCP connections accepted (pipelining: many queries, one connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from support.procs import free_udp_port


@dataclass
class Rule:
    a: list[str] = field(default_factory=list)
    txt: list[str] = field(default_factory=list)
    ttl: int = 60
    udp: str = "ok"
    tcp: str = "ok"
    udp_delay: float = 0.0  # seconds before the UDP reply is sent (a slow resolver)


@dataclass
class FaultDNS:
    rules: dict[str, Rule] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 0
    # name, qtype -> Rule, consulted when ``rules`` has no entry (e.g. "every 10th name truncates")
    fallback: Callable[[str, int], Rule | None] | None = None
    tcp_reverse: bool = False
    queries: list[tuple[str, str, str]] = field(default_factory=list)
    tcp_accepted: int = 0

    def __post_init__(self) -> None:
        self._dropped: set[tuple[str, int]] = set()  # (name, type) whose first query ``drop_first`` ate
        self._udp: asyncio.DatagramTransport | None = None
        self._other: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def rule(self, name: str, qtype: int) -> Rule | None:
        r = self.rules.get(name)
        if r is None and self.fallback is not None:
            r = self.fallback(name, qtype)
        return r

    def response(self, q: dns.message.Message, rule: Rule | None, rcode: int | None = None) -> dns.message.Message:
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA | dns.flags.RA
        question = q.question[0]
        if rcode is not None:
            r.set_rcode(rcode)
            return r
        if rule is None:
            r.set_rcode(dns.rcode.NXDOMAIN)
            origin = question.name.parent() if len(question.name) > 2 else question.name
            r.authority.append(
                dns.rrset.from_text(origin, 30, "IN", "SOA", f"ns.{origin} hostmaster.{origin} 1 600 600 86400 30")
            )
            return r
        if question.rdtype == dns.rdatatype.A and rule.a:
            r.answer.append(dns.rrset.from_text_list(question.name, rule.ttl, "IN", "A", rule.a))
        if question.rdtype == dns.rdatatype.TXT and rule.txt:
            strings = []
            for t in rule.txt:
                chunks = [t[i : i + 255] for i in range(0, len(t), 255)] or [""]
                strings.append(" ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks))
            r.answer.append(dns.rrset.from_text_list(question.name, rule.ttl, "IN", "TXT", strings))
        return r

    # -- UDP ---------------------------------------------------------------------------------
    def udp_delay(self, data: bytes) -> float:
        q = dns.message.from_wire(data).question[0]
        rule = self.rule(q.name.to_text().rstrip(".").lower(), q.rdtype)
        return rule.udp_delay if rule else 0.0

    def _udp_reply(self, data: bytes) -> tuple[str, bytes | None]:
        q = dns.message.from_wire(data)
        question = q.question[0]
        name = question.name.to_text().rstrip(".").lower()
        self.queries.append(("udp", name, dns.rdatatype.to_text(question.rdtype)))
        rule = self.rule(name, question.rdtype)
        mode = rule.udp if rule else "ok"
        rcodes = {"servfail": dns.rcode.SERVFAIL, "refused": dns.rcode.REFUSED, "formerr": dns.rcode.FORMERR}
        if mode == "drop":
            return mode, None
        if mode == "drop_first":
            if (name, question.rdtype) not in self._dropped:
                self._dropped.add((name, question.rdtype))
                return mode, None
            mode = "ok"
        if mode in rcodes:
            return mode, self.response(q, rule, rcodes[mode]).to_wire()
        r = self.response(q, rule)
        if mode == "truncate":
            r.answer.clear()
            r.flags |= dns.flags.TC
        elif mode == "truncate_partial":
            if r.answer:
                first = r.answer[0]
                r.answer = [dns.rrset.from_rdata(first.name, first.ttl, next(iter(first)))]
            r.flags |= dns.flags.TC
        elif mode == "wrong_id":
            r.id = (q.id + 1) % 65536
        elif mode == "garbage":
            return mode, data[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xff\xff\xff"
        elif mode == "wrong_question":
            other = dns.message.make_query("other." + name, question.rdtype)
            other.id = q.id
            r = self.response(other, rule)
        return mode, r.to_wire()

    async def start(self) -> FaultDNS:
        fixed = bool(self.port)
        for attempt in range(20):
            self.port = self.port if fixed else free_udp_port(self.host)
            try:
                return await self._bind()
            except OSError as exc:
                # free_udp_port checks, then closes: another process (2 cores, 3 lanes running tests)
                # can take the port before we bind it again.  Pick another one.
                await self.stop()
                if fixed or exc.errno != errno.EADDRINUSE or attempt == 19:
                    raise
        raise AssertionError("unreachable")

    async def _bind(self) -> FaultDNS:
        loop = asyncio.get_running_loop()
        server = self

        class Other(asyncio.DatagramProtocol):
            pass

        self._other, _ = await loop.create_datagram_endpoint(Other, local_addr=(self.host, 0))

        class UDP(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: tuple) -> None:
                try:
                    mode, wire = server._udp_reply(data)
                except Exception:  # a test server must survive any query
                    return
                if wire is None:
                    return
                sock = server._other if mode == "wrong_port" else self.transport
                assert sock is not None
                delay = server.udp_delay(data)
                if delay:
                    loop.call_later(delay, sock.sendto, wire, addr)  # type: ignore[attr-defined]
                else:
                    sock.sendto(wire, addr)  # type: ignore[attr-defined]

        self._udp, _ = await loop.create_datagram_endpoint(UDP, local_addr=(self.host, self.port))
        self._tcp = await asyncio.start_server(self._tcp_client, self.host, self.port)
        return self

    # -- TCP ---------------------------------------------------------------------------------
    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self.tcp_accepted += 1
        try:
            while True:
                batch: list[bytes] = []
                # read what is queued (pipelined queries) before answering, so replies can be reordered
                while True:
                    head = await reader.readexactly(2)
                    batch.append(await reader.readexactly(struct.unpack("!H", head)[0]))
                    if not self.tcp_reverse or not reader._buffer:  # type: ignore[attr-defined]
                        break
                out = []
                for data in batch:
                    reply = self._tcp_reply(data)
                    if reply == b"close":
                        writer.close()
                        return
                    if reply is not None:
                        out.append(reply)
                if self.tcp_reverse:
                    out.reverse()
                for reply in out:
                    writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    def _tcp_reply(self, data: bytes) -> bytes | None:
        q = dns.message.from_wire(data)
        question = q.question[0]
        name = question.name.to_text().rstrip(".").lower()
        self.queries.append(("tcp", name, dns.rdatatype.to_text(question.rdtype)))
        rule = self.rule(name, question.rdtype)
        mode = rule.tcp if rule else "ok"
        if mode == "drop":
            return None
        if mode == "close":
            return b"close"
        if mode == "servfail":
            return self.response(q, rule, dns.rcode.SERVFAIL).to_wire()
        r = self.response(q, rule)
        if mode == "truncate":
            r.flags |= dns.flags.TC
        return r.to_wire()

    def count(self, transport: str, name: str | None = None) -> int:
        return sum(1 for t, n, _ in self.queries if t == transport and (name is None or n == name))

    async def stop(self) -> None:
        for t in (self._udp, self._other):
            if t is not None:
                t.close()
        self._udp = self._other = None
        for w in list(self._writers):
            w.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
            self._tcp = None

    async def __aenter__(self) -> FaultDNS:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
