"""dns prober against DNS servers on loopback: a small dnspython-based authoritative server
(tests/support/dnsserver.py, UDP and TCP, all three sections filled) and a real rbldnsd."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.dnsserver import DNSServer
from support.procs import free_port
from support.protocols import config_errors, load_modules, probe
from support.rbldnsd import Zone, start_rbldnsd
from support.tls import Certs

ZONE = """
@      3600 IN SOA ns1.example.test. hostmaster.example.test. 2024010101 3600 600 86400 300
@      3600 IN NS  ns1.example.test.
ns1    3600 IN A   192.0.2.53
www     300 IN A   192.0.2.10
www     300 IN A   192.0.2.11
mail    300 IN MX  10 mx1.example.test.
txt     300 IN TXT "v=spf1 -all"
"""

MODULES = r"""
modules:
  www_a:
    prober: dns
    dns:
      query_name: www.example.test
      query_type: A
      preferred_ip_protocol: ip4
      validate_answer_rrs:
        fail_if_not_matches_regexp: ["www\\.example\\.test\\.\t300\tIN\tA\t192\\.0\\.2\\.1[01]"]
      validate_authority_rrs:
        fail_if_none_matches_regexp: ["IN\tNS\tns1\\.example\\.test\\."]
      validate_additional_rrs:
        fail_if_not_matches_regexp: ["ns1\\.example\\.test\\..*IN\tA\t192\\.0\\.2\\.53"]
  www_a_tcp:
    prober: dns
    dns: {query_name: www.example.test, query_type: A, transport_protocol: tcp, recursion_desired: false}
  soa:
    prober: dns
    dns: {query_name: example.test, query_type: SOA}
  mx_forbidden_answer:
    prober: dns
    dns:
      query_name: mail.example.test
      query_type: MX
      validate_answer_rrs: {fail_if_matches_regexp: ["mx1\\.example\\.test"]}
  all_match:
    prober: dns
    dns:
      query_name: www.example.test
      query_type: A
      validate_answer_rrs: {fail_if_all_match_regexp: ["192\\.0\\.2\\."]}
  nxdomain_default:
    prober: dns
    dns: {query_name: missing.example.test, query_type: A}
  nxdomain_expected:
    prober: dns
    dns: {query_name: missing.example.test, query_type: A, valid_rcodes: [NXDOMAIN]}
  txt_required:
    prober: dns
    dns:
      query_name: mail.example.test
      query_type: TXT
      validate_answer_rrs: {fail_if_none_matches_regexp: ["spf1"]}
"""


@pytest.fixture
async def dns_server() -> AsyncIterator[DNSServer]:
    server = await DNSServer("example.test.", ZONE).start()
    yield server
    await server.stop()


@pytest.fixture
def modules(tmp_path: Path) -> object:
    return load_modules(tmp_path, MODULES)


def _target(server: DNSServer) -> str:
    return f"127.0.0.1:{server.port}"


async def test_answer_authority_additional_validated(dns_server: DNSServer, modules: object) -> None:
    r = await probe(modules, "www_a", _target(dns_server))
    assert r.success, r.log_lines
    assert r.value("probe_dns_answer_rrs") == 2
    assert r.value("probe_dns_authority_rrs") == 1
    assert r.value("probe_dns_additional_rrs") == 1
    assert r.value("probe_dns_query_succeeded") == 1
    assert r.value("probe_dns_duration_seconds", phase="request") > 0
    assert dns_server.queries == [("udp", "www.example.test.", "A")]


async def test_tcp_transport(dns_server: DNSServer, modules: object) -> None:
    r = await probe(modules, "www_a_tcp", _target(dns_server))
    assert r.success, r.log_lines
    assert dns_server.queries == [("tcp", "www.example.test.", "A")]
    assert r.value("probe_dns_duration_seconds", phase="connect") > 0


async def test_soa_serial(dns_server: DNSServer, modules: object) -> None:
    r = await probe(modules, "soa", _target(dns_server))
    assert r.success, r.log_lines
    assert r.value("probe_dns_serial") == 2024010101


async def test_fail_if_matches_and_all_match(dns_server: DNSServer, modules: object) -> None:
    r = await probe(modules, "mx_forbidden_answer", _target(dns_server))
    assert (r.success, r.failure_reason) == (False, "dns_answer")
    assert r.value("probe_dns_query_succeeded") == 1  # the query worked; the answer did not pass
    r = await probe(modules, "all_match", _target(dns_server))
    assert (r.success, r.failure_reason) == (False, "dns_answer")
    assert "fail_if_all_match_regexp" in r.failure_message


async def test_rcodes(dns_server: DNSServer, modules: object) -> None:
    r = await probe(modules, "nxdomain_default", _target(dns_server))
    assert (r.success, r.failure_reason) == (False, "dns_answer")
    assert "NXDOMAIN" in r.failure_message
    r = await probe(modules, "nxdomain_expected", _target(dns_server))
    assert r.success, r.log_lines
    assert r.value("probe_dns_authority_rrs") == 1  # the SOA of the negative answer


async def test_none_matches_with_empty_answer(dns_server: DNSServer, modules: object) -> None:
    r = await probe(modules, "txt_required", _target(dns_server))
    assert (r.success, r.failure_reason) == (False, "dns_answer")
    assert r.value("probe_dns_answer_rrs") == 0


async def test_server_down(modules: object) -> None:
    r = await probe(modules, "www_a_tcp", f"127.0.0.1:{free_port()}")
    assert (r.success, r.failure_reason) == (False, "connect_refused")
    assert r.value("probe_dns_query_succeeded") == 0
    # UDP: ICMP port unreachable (refused) or no answer at all (timeout); never a success.
    r = await probe(modules, "www_a", f"127.0.0.1:{free_port()}", timeout=1.0)
    assert not r.success and r.failure_reason in ("connect_refused", "timeout")
    assert r.value("probe_dns_query_succeeded") == 0


async def test_dns_over_tls(tmp_path: Path) -> None:
    certs = Certs(tmp_path / "certs")
    server = await DNSServer("example.test.", ZONE, tls_context=certs.server_context("valid")).start()
    try:
        cfg = load_modules(
            tmp_path,
            f"""
            modules:
              dot:
                prober: dns
                dns:
                  query_name: www.example.test
                  query_type: A
                  transport_protocol: tcp
                  dns_over_tls: true
                  tls_config: {{ca_file: {certs.ca_file}, server_name: localhost}}
              dot_untrusted:
                prober: dns
                dns: {{query_name: www.example.test, transport_protocol: tcp, dns_over_tls: true}}
            """,
        )
        r = await probe(cfg, "dot", f"127.0.0.1:{server.port}")
        assert r.success, r.log_lines
        assert r.value("probe_tls_verified") == 1
        assert r.value("probe_dns_answer_rrs") == 2
        assert server.queries == [("tls", "www.example.test.", "A")]
        r = await probe(cfg, "dot_untrusted", f"127.0.0.1:{server.port}")
        assert (r.success, r.failure_reason) == (False, "tls")
        assert r.value("probe_tls_verified") == 0
        assert r.value("probe_ssl_earliest_cert_expiry") == pytest.approx(certs.not_after("valid"))
    finally:
        await server.stop()


async def test_real_rbldnsd(tmp_path: Path) -> None:
    """A real DNS server implementation (rbldnsd) answering A and TXT for a listed address."""
    zones = [Zone("bl.test", "ip4set", ["192.0.2.1 :127.0.0.2:Listed for tests"])]
    with start_rbldnsd(tmp_path, zones) as dnsbl:
        cfg = load_modules(
            tmp_path,
            r"""
            modules:
              listed_a:
                prober: dns
                dns:
                  query_name: 1.2.0.192.bl.test
                  query_type: A
                  validate_answer_rrs: {fail_if_not_matches_regexp: ["IN\tA\t127\\.0\\.0\\.2$"]}
              listed_txt:
                prober: dns
                dns:
                  query_name: 1.2.0.192.bl.test
                  query_type: TXT
                  validate_answer_rrs: {fail_if_none_matches_regexp: ["Listed for tests"]}
              not_listed:
                prober: dns
                dns: {query_name: 2.2.0.192.bl.test, query_type: A, valid_rcodes: [NXDOMAIN]}
            """,
        )
        for module in ("listed_a", "listed_txt", "not_listed"):
            r = await probe(cfg, module, dnsbl.address)
            assert r.success, (module, r.log_lines)
        assert r.value("probe_dns_answer_rrs") == 0


def test_invalid_module_configs(tmp_path: Path) -> None:
    cases = {
        "modules:\n  m:\n    prober: dns\n    dns: {query_type: A}\n": ("modules.m.dns.query_name", "missing"),
        "modules:\n  m:\n    prober: dns\n    dns: {query_name: x.test, query_type: AAAAA}\n": (
            "modules.m.dns.query_type",
            "unknown query type",
        ),
        "modules:\n  m:\n    prober: dns\n    dns: {query_name: x.test, valid_rcodes: [NOPE]}\n": (
            "modules.m.dns.valid_rcodes[0]",
            "unknown rcode",
        ),
        "modules:\n  m:\n    prober: dns\n    dns: {query_name: x.test, transport_protocol: quic}\n": (
            "modules.m.dns.transport_protocol",
            "expected one of",
        ),
        "modules:\n  m:\n    prober: dns\n    dns: {query_name: x.test, dns_over_tls: true}\n": (
            "modules.m.dns.dns_over_tls",
            "needs transport_protocol: tcp",
        ),
        "modules:\n  m:\n    prober: dns\n    dns: {query_name: x.test, "
        "validate_answer_rrs: {fail_if_matches_regexp: ['(']}}\n": (
            "modules.m.dns.validate_answer_rrs.fail_if_matches_regexp[0]",
            "invalid regular expression",
        ),
        "modules:\n  m:\n    prober: dns\n    dns: {query_name: x.test, validate_answer_rrs: {fail_if_match: [a]}}\n": (
            "modules.m.dns.validate_answer_rrs.fail_if_match",
            "unknown key",
        ),
        "modules:\n  m:\n    prober: dns\n    dns: {query_name: x.test, source_ip_address: nope}\n": (
            "modules.m.dns.source_ip_address",
            "not an IP address",
        ),
    }
    for text, (path, words) in cases.items():
        errors = config_errors(tmp_path, text)
        assert len(errors) == 1, (text, errors)
        assert f"invalid.yml:4: {path}: " in errors[0] and words in errors[0], errors
