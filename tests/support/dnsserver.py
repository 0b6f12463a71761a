"""A tiny authoritative DNS server (dnspython messages, asyncio UDP + TCP) for prober tests.

It runs in the test's own event loop on a free loopback port.  Records come from a zone text
(``name ttl IN type rdata`` lines, relative to ``origin``); names under the origin without data
get NXDOMAIN with the SOA in the authority section, names outside it get REFUSED.  Each answer
also carries the zone's NS records in the authority section and their A records as additional
data, so all three sections can be validated.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

from support.procs import free_udp_port


@dataclass
class DNSServer:
    origin: str
    zone_text: str
    host: str = "127.0.0.1"
    port: int = 0
    queries: list[tuple[str, str, str]] = field(default_factory=list)  # (transport, name, type)
    # With a server SSLContext the TCP listener speaks DNS over TLS (RFC 7858) instead of plain TCP.
    tls_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        self.zone = dns.zone.from_text(self.zone_text, origin=self.origin, relativize=False)
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    def answer(self, wire: bytes, transport: str) -> bytes:
        q = dns.message.from_wire(wire)
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        question = q.question[0]
        self.queries.append((transport, question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
        origin = self.zone.origin
        if not question.name.is_subdomain(origin):
            r.set_rcode(dns.rcode.REFUSED)
            return r.to_wire()
        node = self.zone.get_node(question.name)
        if node is None:
            r.set_rcode(dns.rcode.NXDOMAIN)
            soa = self.zone.get_rdataset(origin, dns.rdatatype.SOA)
            r.authority.append(dns.rrset.from_rdata_list(origin, soa.ttl, list(soa)))
            return r.to_wire()
        for rds in node.rdatasets:
            if question.rdtype in (rds.rdtype, dns.rdatatype.ANY):
                r.answer.append(dns.rrset.from_rdata_list(question.name, rds.ttl, list(rds)))
        ns = self.zone.get_rdataset(origin, dns.rdatatype.NS)
        if ns is not None and question.rdtype != dns.rdatatype.NS:
            r.authority.append(dns.rrset.from_rdata_list(origin, ns.ttl, list(ns)))
            for rd in ns:
                glue = self.zone.get_rdataset(rd.target, dns.rdatatype.A)
                if glue is not None:
                    r.additional.append(dns.rrset.from_rdata_list(rd.target, glue.ttl, list(glue)))
        return r.to_wire()

    async def start(self) -> DNSServer:
        loop = asyncio.get_running_loop()
        self.port = self.port or free_udp_port(self.host)
        server = self

        class UDP(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: tuple) -> None:
                self.transport.sendto(server.answer(data, "udp"), addr)  # type: ignore[attr-defined]

        self._udp, _ = await loop.create_datagram_endpoint(UDP, local_addr=(self.host, self.port))

        async def tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    (size,) = struct.unpack("!H", await reader.readexactly(2))
                    out = server.answer(await reader.readexactly(size), "tls" if server.tls_context else "tcp")
                    writer.write(struct.pack("!H", len(out)) + out)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        self._tcp = await asyncio.start_server(tcp, self.host, self.port, ssl=self.tls_context)
        return self

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
