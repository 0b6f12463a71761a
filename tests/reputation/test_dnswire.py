"""The hand-written DNS codec, differentially against dnspython (hypothesis)."""

from __future__ import annotations

import contextlib

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infrawatch.reputation import dnswire
from infrawatch.reputation.names import query_name, reverse_ip

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20)
names = st.lists(label, min_size=1, max_size=6).map(".".join)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
txt = st.lists(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80), min_size=1, max_size=3
)


@settings(max_examples=300, deadline=None)
@given(qid=st.integers(0, 65535), name=names, qtype=st.sampled_from([dnswire.TYPE_A, dnswire.TYPE_TXT]))
def test_query_encoding_matches_dnspython(qid: int, name: str, qtype: int) -> None:
    ours = dns.message.from_wire(dnswire.encode_query(qid, name, qtype))
    theirs = dns.message.make_query(name, qtype)
    assert ours.id == qid
    assert ours.flags & dns.flags.RD and not ours.flags & dns.flags.QR
    assert ours.question == theirs.question


@settings(max_examples=300, deadline=None)
@given(
    qid=st.integers(0, 65535),
    name=names,
    rcode=st.sampled_from([0, 2, 3, 5]),
    addrs=st.lists(ipv4, max_size=6, unique=True),
    texts=st.lists(txt, max_size=3),
    ttl=st.integers(0, 2**31 - 1),
    soa=st.none() | st.tuples(st.integers(0, 100000), st.integers(0, 100000)),
    tc=st.booleans(),
)
def test_response_decoding_matches_dnspython(
    qid: int,
    name: str,
    rcode: int,
    addrs: list[str],
    texts: list[list[str]],
    ttl: int,
    soa: tuple[int, int] | None,
    tc: bool,
) -> None:
    query = dns.message.make_query(name, "A")
    query.id = qid
    resp = dns.message.make_response(query)
    resp.set_rcode(rcode)
    if tc:
        resp.flags |= dns.flags.TC
    qname = dns.name.from_text(name)
    if addrs:
        resp.answer.append(dns.rrset.from_text_list(qname, ttl, "IN", "A", addrs))
    if texts:
        strings = [" ".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in t) for t in texts]
        resp.answer.append(dns.rrset.from_text_list(qname, ttl, "IN", "TXT", strings))
    if soa:
        zone = dns.name.from_text(name.split(".", 1)[-1])
        resp.authority.append(
            dns.rrset.from_text(zone, soa[0], "IN", "SOA", f"ns.{zone} hostmaster.{zone} 1 600 600 86400 {soa[1]}")
        )
    wire = resp.to_wire()  # dnspython compresses names: the decoder must follow pointers
    ours = dnswire.decode_response(wire)
    parsed = dns.message.from_wire(wire)
    assert ours.qid == parsed.id
    assert ours.rcode == parsed.rcode()
    assert ours.truncated == bool(parsed.flags & dns.flags.TC)
    assert ours.qname == str(parsed.question[0].name).rstrip(".")
    want_a = [r.address for rr in parsed.answer if rr.rdtype == dns.rdatatype.A for r in rr]
    assert sorted(ours.addresses) == sorted(want_a)
    want_txt = [
        b"".join(r.strings).decode("utf-8", "replace")
        for rr in parsed.answer
        if rr.rdtype == dns.rdatatype.TXT
        for r in rr
    ]
    assert sorted(ours.texts) == sorted(want_txt)
    if parsed.answer:
        assert ours.answer_ttl == min(rr.ttl for rr in parsed.answer)
    if soa:
        soa_rr = parsed.authority[0]
        assert ours.negative_ttl == min(soa_rr.ttl, soa_rr[0].minimum)
    else:
        assert ours.negative_ttl is None


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_raises_only_wire_error(data: bytes) -> None:
    with contextlib.suppress(dnswire.WireError):
        dnswire.decode_response(data)


def test_compression_loop_is_rejected() -> None:
    header = b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00"
    with pytest.raises(dnswire.WireError):
        dnswire.decode_response(header + b"\xc0\x0c\x00\x01\x00\x01")


@pytest.mark.parametrize("bad", ["a" * 64 + ".test", ".".join(["abcdefghij"] * 30), "a..b"])
def test_invalid_names_are_rejected(bad: str) -> None:
    with pytest.raises(dnswire.WireError):
        dnswire.encode_query(1, bad)


def test_rfc5782_ipv6_nibble_example() -> None:
    # RFC 5782 §2.4: 2001:db8:1:2:3:4:567:89ab
    assert reverse_ip("2001:db8:1:2:3:4:567:89ab") == "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2"
    assert query_name("192.0.2.99", "ip", "zen.example") == "99.2.0.192.zen.example"
    assert query_name("Example.COM.", "domain", "dbl.example") == "example.com.dbl.example"


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses())
def test_reverse_ip_matches_dnspython(ip) -> None:  # type: ignore[no-untyped-def]
    import dns.reversename

    want = str(dns.reversename.from_address(str(ip))).rstrip(".")
    # IPv4-mapped IPv6 addresses are looked up as IPv4, as dnspython does.
    suffix = ".in-addr.arpa" if ip.version == 4 or ip.ipv4_mapped else ".ip6.arpa"
    assert reverse_ip(str(ip)) + suffix == want


@settings(max_examples=200, deadline=None)
@given(
    name=names,
    v6=st.lists(st.ip_addresses(v=6), max_size=4, unique=True),
    mx=st.lists(st.tuples(st.integers(0, 65535), names), max_size=4, unique_by=lambda t: t[1]),
)
def test_aaaa_and_mx_decoding_matches_dnspython(name: str, v6: list, mx: list[tuple[int, str]]) -> None:  # type: ignore[type-arg]
    """Hostname targets: AAAA and MX answers (MX hosts compressed against the question)."""
    query = dns.message.make_query(name, "MX")
    resp = dns.message.make_response(query)
    qname = dns.name.from_text(name)
    if v6:
        resp.answer.append(dns.rrset.from_text_list(qname, 60, "IN", "AAAA", [str(a) for a in v6]))
    if mx:
        resp.answer.append(dns.rrset.from_text_list(qname, 60, "IN", "MX", [f"{p} {h}.{name}." for p, h in mx]))
    wire = resp.to_wire()
    ours = dnswire.decode_response(wire)
    parsed = dns.message.from_wire(wire)
    want6 = [r.address for rr in parsed.answer if rr.rdtype == dns.rdatatype.AAAA for r in rr]
    import ipaddress

    assert sorted(map(ipaddress.IPv6Address, ours.addresses6)) == sorted(map(ipaddress.IPv6Address, want6))
    want_mx = [
        (r.preference, str(r.exchange).rstrip(".")) for rr in parsed.answer if rr.rdtype == dns.rdatatype.MX for r in rr
    ]
    assert sorted(ours.exchanges) == sorted(want_mx)


@settings(max_examples=300, deadline=None)
@given(qid=st.integers(0, 65535), name=names, other=names, upper=st.booleans())
def test_question_check_on_raw_bytes(qid: int, name: str, other: str, upper: bool) -> None:
    """The resolver's fast path: the reply's question compared as bytes, case-insensitively."""
    question = dnswire.encode_question(name)
    query = dns.message.make_query(name.upper() if upper else name, "A")
    query.id = qid
    wire = dns.message.make_response(query).to_wire()
    assert dnswire.decode_response(wire, question).qid == qid  # 0x20 case changes are the same question
    if other.lower() != name.lower():
        q2 = dns.message.make_query(other, "A")
        q2.id = qid
        with pytest.raises(dnswire.QuestionMismatch):
            dnswire.decode_response(dns.message.make_response(q2).to_wire(), question)
    with pytest.raises(dnswire.QuestionMismatch):
        dnswire.decode_response(wire, dnswire.encode_question(name, dnswire.TYPE_TXT))
