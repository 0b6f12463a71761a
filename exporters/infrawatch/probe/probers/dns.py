"""blackbox_exporter's ``dns`` prober: one query to the DNS server named by the target.

The target is the server, ``host[:port]`` (port 53, 853 with ``dns_over_tls``), as in blackbox.
The query goes out through dnspython's async API over UDP, TCP or TLS; the answer, authority and
additional sections are validated with blackbox's four regexp lists.  Records are matched in
miekg/dns's text form (``name<TAB>ttl<TAB>class<TAB>type<TAB>rdata``) so the regexps in existing
blackbox.yml files (``"www.example.org.\\t300\\tIN\\tA\\t192.0.2.1"``) keep working.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ...core import regexp
from ...core.config import Context, required
from ...core.metrics import MetricFamily
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext
from ..failures import classify_os_error, extend_reasons
from ..net import resolve, tls
from ..net.dial import IP_PROTOCOLS, check_regexp, check_source_ip, target_host_port
from ..net.tls import inspect_unverified, record_tls, server_hostname, verify_error_text
from ..spec import ProberSpec

if TYPE_CHECKING:
    import dns.rrset

DNS_DURATION = MetricFamily("probe_dns_duration_seconds", "Duration of DNS request by phase", labels=("phase",))
DNS_QUERY_SUCCEEDED = MetricFamily(
    "probe_dns_query_succeeded", "Displays whether or not the query was executed successfully"
)
DNS_ANSWER_RRS = MetricFamily("probe_dns_answer_rrs", "Returns number of entries in the answer resource record list")
DNS_AUTHORITY_RRS = MetricFamily(
    "probe_dns_authority_rrs", "Returns number of entries in the authority resource record list"
)
DNS_ADDITIONAL_RRS = MetricFamily(
    "probe_dns_additional_rrs", "Returns number of entries in the additional resource record list"
)
DNS_SERIAL = MetricFamily("probe_dns_serial", "Returns the serial number of the zone")
FAMILIES = (
    DNS_DURATION,
    DNS_QUERY_SUCCEEDED,
    DNS_ANSWER_RRS,
    DNS_AUTHORITY_RRS,
    DNS_ADDITIONAL_RRS,
    DNS_SERIAL,
    *resolve.FAMILIES,
    *tls.FAMILIES,
)
DNSFailure = extend_reasons("DNSFailure", "dns_answer")  # dns_answer: rcode or fail_if_* regexps

# dnspython is imported where it is used (config validation of a dns module, the probe), not with
# this module: ~2 MB of RSS that an exporter without a dns module should not pay.


@dataclass
class DNSRRValidator:
    fail_if_matches_regexp: list[str] = field(default_factory=list)
    fail_if_all_match_regexp: list[str] = field(default_factory=list)
    fail_if_not_matches_regexp: list[str] = field(default_factory=list)
    fail_if_none_matches_regexp: list[str] = field(default_factory=list)
    # key -> compiled RE2 patterns, in the order written
    compiled: dict[str, list[regexp.Pattern]] = field(default_factory=dict, metadata={"internal": True})

    def validate(self, ctx: Context, path: tuple) -> None:
        for key in (
            "fail_if_matches_regexp",
            "fail_if_all_match_regexp",
            "fail_if_not_matches_regexp",
            "fail_if_none_matches_regexp",
        ):
            out = self.compiled[key] = []
            for i, rx in enumerate(getattr(self, key)):
                pattern = check_regexp(rx, ctx, (*path, key, i))
                if pattern is not None:
                    out.append(pattern)

    def _patterns(self, key: str) -> list[regexp.Pattern]:
        if key not in self.compiled:  # built without validate() (tests constructing it directly)
            self.compiled[key] = [regexp.compile_pattern(rx) for rx in getattr(self, key)]
        return self.compiled[key]

    def check(self, rrs: list[str], section: str) -> str | None:
        """blackbox's ``validRRs``: return why the section fails, or None when it passes."""
        if not rrs and self.fail_if_not_matches_regexp:
            return f"{section}: fail_if_not_matches_regexp set but no records returned"
        if not rrs and self.fail_if_none_matches_regexp:
            return f"{section}: fail_if_none_matches_regexp set but no records returned"
        for rr in rrs:
            for rx in self._patterns("fail_if_matches_regexp"):
                if rx.search(rr):
                    return f"{section}: record {rr!r} matched fail_if_matches_regexp {rx.pattern!r}"
            for rx in self._patterns("fail_if_not_matches_regexp"):
                if not rx.search(rr):
                    return f"{section}: record {rr!r} did not match fail_if_not_matches_regexp {rx.pattern!r}"
        for rx in self._patterns("fail_if_all_match_regexp"):
            if rrs and all(rx.search(rr) for rr in rrs):
                return f"{section}: every record matched fail_if_all_match_regexp {rx.pattern!r}"
        for rx in self._patterns("fail_if_none_matches_regexp"):
            if not any(rx.search(rr) for rr in rrs):
                return f"{section}: no record matched fail_if_none_matches_regexp {rx.pattern!r}"
        return None


@dataclass
class DNSProbe:
    query_name: str = required(default="")
    query_type: str = "ANY"
    query_class: str = "IN"
    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True
    source_ip_address: str = ""
    transport_protocol: Literal["udp", "tcp"] = "udp"
    dns_over_tls: bool = False
    tls_config: TLSConfig = field(default_factory=TLSConfig)
    recursion_desired: bool = True
    valid_rcodes: list[str] = field(default_factory=lambda: ["NOERROR"])
    validate_answer_rrs: DNSRRValidator = field(default_factory=DNSRRValidator)
    validate_authority_rrs: DNSRRValidator = field(default_factory=DNSRRValidator)
    validate_additional_rrs: DNSRRValidator = field(default_factory=DNSRRValidator)

    def validate(self, ctx: Context, path: tuple) -> None:
        import dns.exception
        import dns.name
        import dns.rcode
        import dns.rdataclass
        import dns.rdatatype

        if not self.query_name:
            ctx.error((*path, "query_name"), "query name must be set for a DNS module")
        else:
            try:
                dns.name.from_text(self.query_name)
            except dns.exception.DNSException as exc:
                ctx.error((*path, "query_name"), f"invalid query name {self.query_name!r}: {exc}")
        try:
            dns.rdatatype.from_text(self.query_type)
        except dns.exception.DNSException:
            ctx.error((*path, "query_type"), f"unknown query type {self.query_type!r} (e.g. A, AAAA, MX, SOA, TXT)")
        try:
            dns.rdataclass.from_text(self.query_class)
        except dns.exception.DNSException:
            ctx.error((*path, "query_class"), f"unknown query class {self.query_class!r} (e.g. IN, CH)")
        for i, rc in enumerate(self.valid_rcodes):
            try:
                dns.rcode.from_text(rc)
            except dns.exception.DNSException:
                ctx.error((*path, "valid_rcodes", i), f"unknown rcode {rc!r} (e.g. NOERROR, NXDOMAIN, SERVFAIL)")
        if self.dns_over_tls and self.transport_protocol != "tcp":
            ctx.error((*path, "dns_over_tls"), "dns_over_tls needs transport_protocol: tcp")
        if self.preferred_ip_protocol not in IP_PROTOCOLS:
            ctx.error((*path, "preferred_ip_protocol"), f"expected ip4 or ip6, got {self.preferred_ip_protocol!r}")
        check_source_ip(self.source_ip_address, ctx, path)


def rr_strings(rrsets: list[dns.rrset.RRset]) -> list[str]:
    """One miekg/dns-style text line per record."""
    import dns.rdataclass
    import dns.rdatatype

    out = []
    for rrset in rrsets:
        name = rrset.name.to_text()
        cls = dns.rdataclass.to_text(rrset.rdclass)
        typ = dns.rdatatype.to_text(rrset.rdtype)
        for rd in rrset:
            out.append(f"{name}\t{rrset.ttl}\t{cls}\t{typ}\t{rd.to_text()}")
    return out


def _duration(ctx: ProbeContext[DNSProbe], phase: str, seconds: float) -> None:
    ctx.metrics.set(DNS_DURATION, seconds, {"phase": phase})


async def probe_dns(ctx: ProbeContext[DNSProbe]) -> bool:
    return await _probe(ctx, ctx.config)


async def _probe(ctx: ProbeContext[DNSProbe], cfg: DNSProbe) -> bool:
    import dns.asyncbackend
    import dns.asyncquery
    import dns.exception
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype

    m = ctx.metrics
    parsed = target_host_port(ctx, 853 if cfg.dns_over_tls else 53)
    if parsed is None:
        return False
    host, port = parsed
    t0 = time.monotonic()
    ip = await resolve.resolve(ctx, host, cfg.preferred_ip_protocol, cfg.ip_protocol_fallback)
    _duration(ctx, "resolve", time.monotonic() - t0)
    if ip is None:
        _duration(ctx, "connect", 0)
        _duration(ctx, "request", 0)
        m.set(DNS_QUERY_SUCCEEDED, 0)
        return False

    qtype = dns.rdatatype.from_text(cfg.query_type)
    query = dns.message.make_query(cfg.query_name, qtype, dns.rdataclass.from_text(cfg.query_class))
    if not cfg.recursion_desired:
        query.flags &= ~dns.flags.RD
    ctx.log(
        "making DNS query",
        server=f"{ip}:{port}",
        transport="tls" if cfg.dns_over_tls else cfg.transport_protocol,
        name=cfg.query_name,
        type=cfg.query_type,
        qclass=cfg.query_class,
    )
    source = cfg.source_ip_address or None
    connect_time = request_time = 0.0
    response = None
    sock = None
    try:
        if cfg.transport_protocol == "udp":
            t1 = time.monotonic()
            # A connected UDP socket, as Go's: an ICMP port unreachable ends the query at once as
            # "connection refused" instead of waiting for the deadline.
            backend = dns.asyncbackend.get_default_backend()
            sock = await backend.make_socket(
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_DGRAM,
                0,
                (source, 0) if source else None,
                (ip, port),
            )
            # A truncated (TC) answer is returned as is, as blackbox does; there is no TCP retry.
            response = await dns.asyncquery.udp(query, ip, timeout=ctx.remaining, port=port, sock=sock)
            request_time = time.monotonic() - t1
        else:
            af = socket.AF_INET6 if ":" in ip else socket.AF_INET
            sslctx = ctx.tls.get(cfg.tls_config) if cfg.dns_over_tls else None
            t1 = time.monotonic()
            backend = dns.asyncbackend.get_default_backend()
            sock = await backend.make_socket(
                af,
                socket.SOCK_STREAM,
                0,
                (source, 0) if source else None,
                (ip, port),
                ctx.remaining,
                ssl_context=sslctx,
                server_hostname=server_hostname(cfg.tls_config, host) if sslctx else None,
            )
            connect_time = time.monotonic() - t1
            if sslctx is not None:
                obj = sock.writer.get_extra_info("ssl_object") if hasattr(sock, "writer") else None
                if obj is not None:
                    record_tls(ctx, obj, verified=sslctx.verify_mode != ssl.CERT_NONE)
            t2 = time.monotonic()
            response = await dns.asyncquery.tcp(query, ip, timeout=ctx.remaining, port=port, sock=sock)
            request_time = time.monotonic() - t2
    except dns.exception.Timeout:
        request_time = time.monotonic() - t0 - connect_time
        ctx.fail(DNSFailure.TIMEOUT, "no DNS response before the deadline")
    except ssl.SSLCertVerificationError as exc:
        ctx.fail(DNSFailure.TLS, f"DNS over TLS certificate verification failed: {verify_error_text(exc)}")
        await inspect_unverified(ctx, ip, port, server_hostname(cfg.tls_config, host), cfg.tls_config)
    except ssl.SSLError as exc:
        ctx.fail(DNSFailure.TLS, f"DNS over TLS handshake failed: {exc}")
    except (OSError, EOFError) as exc:
        reason = (
            classify_os_error(exc)
            if sock is None or cfg.transport_protocol == "udp" or isinstance(exc, ConnectionRefusedError)
            else DNSFailure.PROTOCOL
        )
        ctx.fail(reason, f"DNS query to {ip}:{port} failed: {exc}")
    except dns.exception.DNSException as exc:
        ctx.fail(DNSFailure.PROTOCOL, f"invalid DNS response: {exc}")
    finally:
        if sock is not None:
            await sock.close()
    _duration(ctx, "connect", connect_time)
    _duration(ctx, "request", request_time)
    m.set(DNS_QUERY_SUCCEEDED, 1 if response is not None else 0)
    if response is None:
        for family in (DNS_ANSWER_RRS, DNS_AUTHORITY_RRS, DNS_ADDITIONAL_RRS):
            m.set(family, 0)  # blackbox registers them before the query: present on every outcome
        return False

    answer, authority, additional = (
        rr_strings(response.answer),
        rr_strings(response.authority),
        rr_strings(response.additional),
    )
    ctx.log(
        "got response",
        rcode=dns.rcode.to_text(response.rcode()),
        answer=len(answer),
        authority=len(authority),
        additional=len(additional),
        truncated=bool(response.flags & dns.flags.TC),
    )
    for line in answer + authority + additional:
        ctx.log("record", rr=line)
    m.set(DNS_ANSWER_RRS, len(answer))
    m.set(DNS_AUTHORITY_RRS, len(authority))
    m.set(DNS_ADDITIONAL_RRS, len(additional))
    if qtype == dns.rdatatype.SOA:
        serial = next((rd.serial for rrset in response.answer if rrset.rdtype == dns.rdatatype.SOA for rd in rrset), 0)
        m.set(DNS_SERIAL, serial)

    rcode = dns.rcode.to_text(response.rcode())
    valid = [dns.rcode.to_text(dns.rcode.from_text(r)) for r in cfg.valid_rcodes]
    if rcode not in valid:
        return ctx.fail(DNSFailure.DNS_ANSWER, f"rcode {rcode} is not one of the valid rcodes {', '.join(valid)}")
    for rrs, validator, section in (
        (answer, cfg.validate_answer_rrs, "answer"),
        (authority, cfg.validate_authority_rrs, "authority"),
        (additional, cfg.validate_additional_rrs, "additional"),
    ):
        why = validator.check(rrs, section)
        if why:
            return ctx.fail(DNSFailure.DNS_ANSWER, why)
    return True


SPEC = ProberSpec(
    DNSProbe,
    probe_dns,
    "one DNS query to the target server, answer validation",
    FAMILIES,
    DNSFailure,
    ("dns.asyncbackend", "dns.asyncquery", "dns.message"),
)
