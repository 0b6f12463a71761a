"""The hand-written resolver and codec against c-ares (aiodns/pycares) and dnspython, on the same
inputs: hypothesis draws what a DNS server answers (records, rcode, truncation), the fault server
(support.faultdns) sends exactly that over UDP and TCP, and all three clients must read the same
outcome.  TCP framing is fuzzed too: a stream of replies cut at arbitrary points decodes to what
dnspython reads from each message, and arbitrary bytes on the TCP connection never raise."""

from __future__ import annotations

import asyncio
import struct

import aiodns
import aiodns.error
import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrawatch.reputation import dnswire
from infrawatch.reputation.resolver import Resolver, _TcpChannel
from support.faultdns import FaultDNS, Rule

ipv4 = st.tuples(st.just(127), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)).map(
    lambda t: ".".join(map(str, t))
)
text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=400)
answers = st.fixed_dictionaries(
    {
        "exists": st.booleans(),
        "a": st.lists(ipv4, max_size=8, unique=True),
        "txt": st.lists(text, max_size=3, unique=True),
        "udp": st.sampled_from(["ok", "truncate", "truncate_partial", "servfail", "refused"]),
        "qtype": st.sampled_from(["A", "TXT"]),
    }
)
NAME = "4.3.2.1.zen.test"


def outcome_ours(a) -> tuple:  # type: ignore[no-untyped-def]
    if a.reason in ("servfail", "refused"):
        return ("error", a.reason)
    if a.rcode == dnswire.RCODE_NXDOMAIN:
        return ("nxdomain",)
    return ("noerror", sorted(a.addresses) if a.addresses else sorted(a.texts))


async def outcome_cares(server: FaultDNS, qtype: str) -> tuple:
    res = aiodns.DNSResolver(nameservers=[server.address], timeout=2.0, tries=1)
    try:
        r = await res.query_dns(NAME, qtype)
    except aiodns.error.DNSError as exc:
        code = exc.args[0]
        if code == 4:  # ARES_ENOTFOUND: NXDOMAIN
            return ("nxdomain",)
        if code == 1:  # ARES_ENODATA: NOERROR without records of the type
            return ("noerror", [])
        return ("error", {3: "servfail", 6: "refused"}.get(code, f"ares{code}"))
    finally:
        await res.close()
    if qtype == "A":
        return ("noerror", sorted(x.data.addr for x in r.answer if x.type == 1))
    return ("noerror", sorted(x.data.data.decode() for x in r.answer if x.type == 16))


async def outcome_dnspython(server: FaultDNS, qtype: str) -> tuple:
    q = dns.message.make_query(NAME, qtype)
    r, _tcp = await dns.asyncquery.udp_with_fallback(q, "127.0.0.1", timeout=2.0, port=server.port)
    rcode = r.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return ("nxdomain",)
    if rcode != dns.rcode.NOERROR:
        return ("error", dns.rcode.to_text(rcode).lower())
    if qtype == "A":
        return ("noerror", sorted(x.address for rr in r.answer if rr.rdtype == dns.rdatatype.A for x in rr))
    return (
        "noerror",
        sorted(b"".join(x.strings).decode() for rr in r.answer if rr.rdtype == dns.rdatatype.TXT for x in rr),
    )


async def three_clients(case: dict) -> tuple[tuple, tuple, tuple]:
    rule = Rule(a=case["a"], txt=case["txt"], udp=case["udp"]) if case["exists"] else None
    async with FaultDNS({NAME: rule} if rule else {}) as server:
        r = Resolver([("127.0.0.1", server.port)], timeout=2.0, retries=0)
        qtype = dnswire.TYPE_A if case["qtype"] == "A" else dnswire.TYPE_TXT
        ours = outcome_ours(await r.query(NAME, qtype))
        await r.close()
        cares = await outcome_cares(server, case["qtype"])
        dnspy = await outcome_dnspython(server, case["qtype"])
    return ours, cares, dnspy


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers)
def test_resolver_agrees_with_c_ares_and_dnspython(case: dict) -> None:
    ours, cares, dnspy = asyncio.run(three_clients(case))
    assert ours == cares == dnspy, case


def framed(messages: list[bytes]) -> bytes:
    return b"".join(struct.pack("!H", len(m)) + m for m in messages)


class _Sink:
    """Stands in for the resolver behind a TCP channel: collects what the channel delivers."""

    def __init__(self) -> None:
        self.got: list[bytes] = []

    def _on_tcp_message(self, server, data: bytes) -> None:  # type: ignore[no-untyped-def]
        self.got.append(data)


def response_wire(qid: int, addrs: list[str], txts: list[str]) -> bytes:
    q = dns.message.make_query(NAME, "A")
    q.id = qid
    r = dns.message.make_response(q)
    if addrs:
        r.answer.append(dns.rrset.from_text_list(NAME + ".", 60, "IN", "A", addrs))
    if txts:
        r.answer.append(
            dns.rrset.from_text_list(
                NAME + ".", 60, "IN", "TXT", ['"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in txts]
            )
        )
    return r.to_wire()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 65535),
            st.lists(ipv4, max_size=5, unique=True),
            st.lists(text.map(lambda t: t[:200]), max_size=2),
        ),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.integers(1, 300), max_size=20),
)
def test_tcp_framing_any_chunking_decodes_like_dnspython(msgs: list, cuts: list[int]) -> None:
    wires = [response_wire(qid, a, t) for qid, a, t in msgs]
    stream = framed(wires)

    async def feed() -> list[bytes]:
        sink = _Sink()
        ch = _TcpChannel.__new__(_TcpChannel)  # no connection: only the framing is exercised
        ch.resolver, ch.server, ch.buf, ch.closed = sink, None, bytearray(), False  # type: ignore[assignment]
        pos = 0
        for c in cuts:
            ch.data_received(stream[pos : pos + c])
            pos += c
        ch.data_received(stream[pos:])
        return sink.got

    got = asyncio.run(feed())
    assert got == wires
    for w in got:
        ours, theirs = dnswire.decode_response(w), dns.message.from_wire(w)
        assert ours.qid == theirs.id
        assert sorted(ours.addresses) == sorted(x.address for rr in theirs.answer if rr.rdtype == 1 for x in rr)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=600))
def test_garbage_over_tcp_is_unknown_never_an_answer(junk: bytes) -> None:
    """A TCP peer sending arbitrary bytes (framed or not) cannot crash the resolver or answer for a name."""

    async def go() -> tuple[str, str]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await reader.readexactly(2)
            q = await reader.readexactly(struct.unpack("!H", head)[0])
            # our ID, then junk, as one framed message; then the junk unframed
            writer.write(framed([q[:2] + junk]) + junk)
            await writer.drain()
            await asyncio.sleep(0.3)
            writer.close()

        tcp = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = tcp.sockets[0].getsockname()[1]
        async with FaultDNS({NAME: Rule(a=["127.0.0.2"], udp="truncate")}, port=0) as udp:
            r = Resolver([("127.0.0.1", udp.port)], timeout=0.5, retries=0)
            await r.ensure_open()
            r._servers[0].addr = ("127.0.0.1", udp.port)
            # send the TCP follow-up to the junk server instead of the fault server's TCP side
            orig = _TcpChannel._connect

            async def connect(self: _TcpChannel) -> None:
                loop = asyncio.get_running_loop()
                try:
                    await loop.create_connection(lambda: self, "127.0.0.1", port)
                except OSError as exc:
                    self._fail(str(exc))

            _TcpChannel._connect = connect  # type: ignore[method-assign]
            try:
                a = await r.query(NAME)
            finally:
                _TcpChannel._connect = orig  # type: ignore[method-assign]
                await r.close()
        tcp.close()
        return a.reason, ",".join(a.addresses)

    reason, addrs = asyncio.run(go())
    if addrs:  # only a reply that really is a valid answer to our question may answer it
        assert reason == ""
    else:
        assert reason in ("malformed", "truncated", "rcode", "servfail", "refused", "")
