"""The differential scenarios: one table, one module per scenario, in one module file.

A scenario is (name, module, target template, expected probe_success).  ``module`` is a blackbox
module (``prober`` + its section) written as it would be in a blackbox.yml; in it ``"{ca}"`` stands
for the test CA file, ``"{client_cert}"``/``"{client_key}"`` for a client certificate the CA
issued and ``{proxy}`` (any lab port name) for that port.  The target template names lab ports
(``{http}``, ``{https_valid}``, ``{tcp_banner}``, ``{dns}``, see lab.py).  ``allowed`` lists metric
names that may differ in this scenario only, each with its reason (the suite-wide ones are
harness.INTENDED); ``params`` are more /probe URL parameters (``hostname``).

To add a prober's scenarios (icmp, grpc): append ``Scenario`` rows (a new list concatenated into
``SCENARIOS``) and, if they need a server, a port in ``Lab``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from probe.differential.harness import TLS_KEPT_ON_FAILURE


@dataclass(frozen=True)
class Scenario:
    name: str
    module: dict[str, Any]
    target: str
    success: bool
    allowed: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # more /probe URL parameters (hostname=)
    scrape_timeout: float = 5.0  # X-Prometheus-Scrape-Timeout-Seconds sent to both exporters


IP4 = {"preferred_ip_protocol": "ip4"}
CA = {"ca_file": "{ca}"}


def http(name: str, target: str, success: bool, allowed: dict[str, str] | None = None, **section: Any) -> Scenario:
    return Scenario(name, {"prober": "http", "http": {**IP4, **section}}, target, success, allowed or {})


def with_params(s: Scenario, scrape_timeout: float = 5.0, **params: str) -> Scenario:
    return Scenario(s.name, s.module, s.target, s.success, s.allowed, params, scrape_timeout)


def tcp(name: str, target: str, success: bool, allowed: dict[str, str] | None = None, **section: Any) -> Scenario:
    return Scenario(name, {"prober": "tcp", "tcp": {**IP4, **section}}, target, success, allowed or {})


BAD_CERT = TLS_KEPT_ON_FAILURE
DOT_TLS_METRICS = {
    name: "blackbox 0.23 records no TLS metric for DNS over TLS; infrawatch records the server's "
    "certificate as for every other TLS connection"
    for name in TLS_KEPT_ON_FAILURE
}
REFUSED_AFTER_HANDSHAKE = {
    name: "infrawatch records the server's certificate once its side of the handshake is done; blackbox "
    "only from a response, and a TLS 1.3 server refuses a missing client certificate after that"
    for name in TLS_KEPT_ON_FAILURE
}
UNVERIFIED_CHAIN = {
    "probe_ssl_last_chain_expiry_timestamp_seconds": "blackbox writes Go's zero time (-62135596800) when "
    "nothing was verified (insecure_skip_verify); infrawatch writes the presented chain's expiry",
}
# blackbox 0.23's fail_if_all_match_regexp fails when NOT all records match (a bug: the opposite of
# its name and docs); infrawatch fails when all match. The verdicts differ on purpose.
ALL_MATCH_BUG = {"probe_success": "blackbox's fail_if_all_match_regexp is inverted; infrawatch does what it says"}


def dns(
    name: str, success: bool, target: str = "127.0.0.1:{dns}", allowed: dict[str, str] | None = None, **section: Any
) -> Scenario:
    """``success``: infrawatch's verdict (blackbox's too unless ``allowed`` lists probe_success)."""
    return Scenario(name, {"prober": "dns", "dns": {**IP4, **section}}, target, success, allowed or {})


H = "http://127.0.0.1:{http}"
HTTP_SCENARIOS = [
    http("http_ok", H + "/ok", True),
    http("http_default_module_ip6_literal", "http://[::1]:{http6}/ok", True, preferred_ip_protocol="ip6"),
    http("http_no_scheme", "127.0.0.1:{http}/ok", True),
    http("http_404", H + "/status/404", False),
    http("http_404_valid", H + "/status/404", True, valid_status_codes=[404]),
    http("http_500", H + "/status/500", False),
    http("http_204", H + "/status/204", True),
    http("http_redirect_followed", H + "/redirect/3", True),
    http("http_redirect_not_followed", H + "/redirect/2", False, follow_redirects=False),
    http(
        "http_redirect_not_followed_302_valid",
        H + "/redirect/2",
        True,
        follow_redirects=False,
        valid_status_codes=[302],
    ),
    http("http_no_follow_redirects_old_key", H + "/redirect/1", True, no_follow_redirects=False),
    http("http_redirect_loop", H + "/loop", False),
    http("http_post", H + "/method", True, method="POST", body="{}"),
    http(
        "http_post_303_becomes_get",
        H + "/post-redirect/303",
        True,
        method="POST",
        body="x",
        fail_if_body_not_matches_regexp=["method=GET"],
    ),
    http(
        "http_post_302_becomes_get",
        H + "/post-redirect/302",
        True,
        method="POST",
        body="x",
        fail_if_body_not_matches_regexp=["method=GET"],
    ),
    http(
        "http_post_307_stays_post",
        H + "/post-redirect/307",
        True,
        method="POST",
        body="x",
        fail_if_body_not_matches_regexp=["method=POST"],
    ),
    http(
        "http_put_301_becomes_get",
        H + "/post-redirect/301",
        True,
        method="PUT",
        body="x",
        fail_if_body_not_matches_regexp=["method=GET"],
    ),  # Go: any method but HEAD becomes GET on 301-303
    http(
        "http_put_308_stays_put",
        H + "/post-redirect/308",
        True,
        method="PUT",
        body="x",
        fail_if_body_not_matches_regexp=["method=PUT"],
    ),
    http("http_head", H + "/ok", True, method="HEAD"),
    http("http_cookie_kept_across_redirect", H + "/set-cookie", True),
    http("http_version_ok", H + "/ok", True, valid_http_versions=["HTTP/1.1"]),
    http("http_version_wrong", H + "/ok", False, valid_http_versions=["HTTP/2.0"]),
    http("http_body_matches", H + "/ok", False, fail_if_body_matches_regexp=["hello"]),
    http("http_body_not_matches", H + "/ok", True, fail_if_body_not_matches_regexp=["from the"]),
    http("http_body_not_matches_fails", H + "/ok", False, fail_if_body_not_matches_regexp=["nope"]),
    http("http_body_end_anchor_go", H + "/ok", False, fail_if_body_not_matches_regexp=["target$"]),
    http("http_body_posix_class", H + "/doc", True, fail_if_body_not_matches_regexp=["[[:digit:]]"]),
    http("http_body_literal_brace", H + "/ok", False, fail_if_body_not_matches_regexp=["x{,3}"]),
    http("http_body_ok_and_status_bad", H + "/status/500", False, fail_if_body_not_matches_regexp=["status"]),
    http(
        "http_header_matches", H + "/ok", False, fail_if_header_matches=[{"header": "X-Served-By", "regexp": "target"}]
    ),
    http(
        "http_header_not_matches",
        H + "/ok",
        True,
        fail_if_header_not_matches=[{"header": "X-Served-By", "regexp": "^tar"}],
    ),
    http(
        "http_header_missing_not_matches",
        H + "/ok",
        False,
        fail_if_header_not_matches=[{"header": "X-Absent", "regexp": "."}],
    ),
    http(
        "http_header_missing_allowed",
        H + "/ok",
        True,
        fail_if_header_not_matches=[{"header": "X-Absent", "regexp": ".", "allow_missing": True}],
    ),
    http(
        "http_header_missing_matches", H + "/ok", False, fail_if_header_matches=[{"header": "X-Absent", "regexp": "."}]
    ),
    http(
        "http_header_missing_matches_allow",
        H + "/ok",
        True,
        fail_if_header_matches=[{"header": "X-Absent", "regexp": ".", "allow_missing": True}],
    ),
    http(
        "http_header_repeated_second_matches",
        H + "/multi",
        False,
        fail_if_header_matches=[{"header": "X-Multi", "regexp": "second"}],
    ),
    http(
        "http_header_repeated_not_matches_one",
        H + "/multi",
        True,
        fail_if_header_not_matches=[{"header": "X-Multi", "regexp": "first"}],
    ),
    http("http_gzip", H + "/gzip", True, compression="gzip"),
    http("http_gzip_accept_encoding", H + "/gzip", True, compression="gzip", headers={"Accept-Encoding": "gzip"}),
    http("http_gzip_not_compressed", H + "/plain", False, compression="gzip"),
    http("http_deflate_zlib_wrapped", H + "/deflate", False, compression="deflate"),  # Go: raw DEFLATE only
    http("http_deflate_raw", H + "/raw-deflate", True, compression="deflate"),
    http("http_gzip_without_header", H + "/gzip-unlabelled", True, compression="gzip"),
    http(
        "http_gzip_body_regexp",
        H + "/gzip",
        True,
        compression="gzip",
        fail_if_body_not_matches_regexp=["compressed hello"],
    ),
    http("http_gzip_raw_body_regexp", H + "/gzip", False, fail_if_body_not_matches_regexp=["compressed hello"]),
    http("http_gzip_without_compression_key", H + "/gzip", True),
    http("http_body_size_limit_ok", H + "/ok", True, body_size_limit="1KB"),
    http("http_body_size_limit_exceeded", H + "/huge?size=100000", False, body_size_limit="1000B"),
    http(
        "http_body_size_limit_after_decompression", H + "/gzip-big", False, compression="gzip", body_size_limit="10KB"
    ),
    http("http_no_content_length", H + "/no-length", True),
    http(
        "http_custom_headers_host",
        H + "/host",
        True,
        headers={"Host": "vhost.example"},
        fail_if_body_not_matches_regexp=["host=vhost.example"],
    ),
    http(
        "http_basic_auth",
        H + "/auth",
        True,
        basic_auth={"username": "u", "password": "p"},
        fail_if_body_not_matches_regexp=["Basic dTpw"],
    ),
    http("http_bearer", H + "/auth", True, bearer_token="tok", fail_if_body_not_matches_regexp=["Bearer tok"]),
    http("http_fail_if_not_ssl", H + "/ok", False, fail_if_not_ssl=True),
    http("http_fail_if_ssl_plain", H + "/ok", True, fail_if_ssl=True),
    http("http_refused", "http://127.0.0.1:1/", False),
    http("http_ip6_pref_v4_literal_fallback", H + "/ok", True, preferred_ip_protocol="ip6"),
    http("https_valid", "https://localhost:{https_valid}/ok", True, tls_config=CA),
    http("https_valid_fail_if_ssl", "https://localhost:{https_valid}/ok", False, tls_config=CA, fail_if_ssl=True),
    http(
        "https_valid_fail_if_not_ssl", "https://localhost:{https_valid}/ok", True, tls_config=CA, fail_if_not_ssl=True
    ),
    http("https_expired", "https://localhost:{https_expired}/ok", False, BAD_CERT, tls_config=CA),
    http(
        "https_expired_insecure",
        "https://localhost:{https_expired}/ok",
        True,
        UNVERIFIED_CHAIN,
        tls_config={**CA, "insecure_skip_verify": True},
    ),
    http("https_wrong_host", "https://localhost:{https_wrong_host}/ok", False, BAD_CERT, tls_config=CA),
    http(
        "https_wrong_host_server_name",
        "https://127.0.0.1:{https_wrong_host}/ok",
        False,
        BAD_CERT,
        tls_config={**CA, "server_name": "localhost"},
    ),
    http("https_self_signed", "https://localhost:{https_self_signed}/ok", False, BAD_CERT, tls_config=CA),
    http("https_no_ca", "https://localhost:{https_valid}/ok", False, BAD_CERT),
    http("https_redirect_to_ok", "https://localhost:{https_valid}/redirect/2", True, tls_config=CA),
    http(
        "https_host_header_names_the_server",
        "https://127.0.0.1:{https_wrong_host}/ok",
        True,
        tls_config=CA,
        headers={"Host": "wrong.example.net"},
    ),
    with_params(
        http("https_hostname_param", "https://127.0.0.1:{https_wrong_host}/ok", True, tls_config=CA),
        hostname="wrong.example.net",
    ),
    with_params(
        http(
            "http_hostname_param_host_header", H + "/host", True, fail_if_body_not_matches_regexp=["host=api.example"]
        ),
        hostname="api.example",
    ),
    # a scrape timeout below the 0.5s offset: blackbox keeps the module's timeout (here 3s) in force
    with_params(
        Scenario(
            "http_scrape_timeout_below_offset",
            {"prober": "http", "timeout": "3s", "http": {**IP4}},
            H + "/slow?secs=1",
            True,
        ),
        scrape_timeout=0.3,
    ),
    http(
        "https_client_cert",
        "https://localhost:{https_mtls}/ok",
        True,
        tls_config={**CA, "cert_file": "{client_cert}", "key_file": "{client_key}"},
    ),
    http(
        "https_client_cert_missing", "https://localhost:{https_mtls}/ok", False, REFUSED_AFTER_HANDSHAKE, tls_config=CA
    ),
    http("http_via_proxy", H + "/ok", True, proxy_url="http://127.0.0.1:{proxy}"),
    http(
        "https_via_proxy_connect",
        "https://localhost:{https_valid}/ok",
        True,
        tls_config=CA,
        proxy_url="http://127.0.0.1:{proxy}",
    ),
    http("http_proxy_refused", H + "/ok", False, proxy_url="http://127.0.0.1:1"),
    http("http_ip6_no_fallback_v4_literal", H + "/ok", False, preferred_ip_protocol="ip6", ip_protocol_fallback=False),
    http("http_ip4_no_fallback_v6_literal", "http://[::1]:{http6}/ok", False, ip_protocol_fallback=False),
    http(
        "http_interim_responses_skipped",
        "http://127.0.0.1:{http_early_hints}/",
        True,
        fail_if_body_not_matches_regexp=["final"],
    ),
    http("http_last_modified", H + "/ok", True, valid_status_codes=[200]),
    http("https_tls12_only", "https://localhost:{https_valid}/ok", True, tls_config={**CA, "max_version": "TLS12"}),
]

H2 = "https://localhost:{https_h2}"
HTTP2_SCENARIOS = [  # a TLS server offering h2 by ALPN (lab.py); both exporters offer it by default
    http("https_h2", H2 + "/ok", True, tls_config=CA),
    http("https_h2_version_valid", H2 + "/ok", True, tls_config=CA, valid_http_versions=["HTTP/2.0"]),
    http("https_h2_disabled", H2 + "/ok", True, tls_config=CA, enable_http2=False, valid_http_versions=["HTTP/1.1"]),
    http("https_h2_redirect", H2 + "/redirect", True, tls_config=CA),
    http(
        "https_h2_header_rule",
        H2 + "/ok",
        True,
        tls_config=CA,
        fail_if_header_not_matches=[{"header": "X-Proto", "regexp": "^h2$"}],
    ),
    http("https_h2_body_regexp", H2 + "/ok", True, tls_config=CA, fail_if_body_not_matches_regexp=["over the wire"]),
    http("https_h2_body_size_limit", H2 + "/ok", False, tls_config=CA, body_size_limit="10B"),
]

SMTP_STARTTLS = [
    {"expect": "^220 ([^ ]+) ESMTP (.+)$"},
    {"send": "EHLO prober\r"},
    {"expect": "^250-STARTTLS"},
    {"send": "STARTTLS\r"},
    {"expect": "^220"},
    {"starttls": True},
    {"send": "EHLO prober\r"},
    {"expect": "^250-AUTH"},
    {"send": "QUIT\r"},
]

TCP_SCENARIOS = [
    tcp("tcp_smtp_starttls", "localhost:{smtp_valid}", True, query_response=SMTP_STARTTLS, tls_config=CA),
    tcp(
        "tcp_smtp_starttls_expired",
        "localhost:{smtp_expired}",
        False,
        BAD_CERT,
        query_response=SMTP_STARTTLS,
        tls_config=CA,
    ),
    tcp("tcp_connect", "127.0.0.1:{http}", True),
    tcp("tcp_refused", "127.0.0.1:1", False),
    tcp(
        "tcp_ssh_banner",
        "127.0.0.1:{tcp_banner}",
        True,
        query_response=[{"expect": "^SSH-2.0-"}, {"send": "SSH-2.0-blackbox-ssh-check"}],
    ),
    # (query_response labels came with blackbox 0.24: not in Debian's 0.23, so not compared here)
    tcp("tcp_expect_fails", "127.0.0.1:{tcp_banner}", False, query_response=[{"expect": "^220 "}]),
    tcp("tcp_pop3_example_regexp", "127.0.0.1:{tcp_pop3}", False, query_response=[{"expect": "^+OK"}]),
    tcp("tcp_dollar_before_newline", "127.0.0.1:{tcp_ok_nl}", True, query_response=[{"expect": "OK$"}]),
    tcp("tcp_posix_digit", "127.0.0.1:{tcp_digits}", True, query_response=[{"expect": "[[:digit:]]+"}]),
    tcp(
        "tcp_irc_dialogue",
        "127.0.0.1:{tcp_irc}",
        True,
        query_response=[
            {"send": "NICK prober"},
            {"send": "USER prober prober prober :prober"},
            {"expect": "PING :([^ ]+)", "send": "PONG ${1}"},
            {"expect": "^:[^ ]+ 001"},
        ],
    ),
    tcp("tcp_tls_valid", "localhost:{https_valid}", True, tls=True, tls_config=CA),
    tcp("tcp_tls_expired", "localhost:{https_expired}", False, BAD_CERT, tls=True, tls_config=CA),
    tcp("tcp_tls_self_signed", "localhost:{https_self_signed}", False, BAD_CERT, tls=True, tls_config=CA),
    tcp("tcp_tls_wrong_host", "localhost:{https_wrong_host}", False, BAD_CERT, tls=True, tls_config=CA),
]

DNS_SCENARIOS = [
    dns("dns_a", True, query_name="www.example.test", query_type="A"),
    dns("dns_a_tcp", True, query_name="www.example.test", query_type="A", transport_protocol="tcp"),
    dns("dns_soa", True, query_name="example.test", query_type="SOA"),
    dns("dns_mx", True, query_name="mail.example.test", query_type="MX"),
    dns("dns_nxdomain", False, query_name="nope.example.test", query_type="A"),
    dns("dns_nxdomain_valid", True, query_name="nope.example.test", query_type="A", valid_rcodes=["NXDOMAIN"]),
    dns("dns_refused", False, query_name="www.other.test", query_type="A"),
    dns(
        "dns_answer_matches",
        False,
        query_name="www.example.test",
        query_type="A",
        validate_answer_rrs={"fail_if_matches_regexp": ["192\\.0\\.2\\.2"]},
    ),
    dns(
        "dns_answer_not_matches",
        False,
        query_name="www.example.test",
        query_type="A",
        validate_answer_rrs={"fail_if_not_matches_regexp": ["192\\.0\\.2\\.1"]},
    ),
    dns(
        "dns_answer_none_matches",
        True,
        query_name="www.example.test",
        query_type="A",
        validate_answer_rrs={"fail_if_none_matches_regexp": ["192\\.0\\.2\\.1"]},
    ),
    dns(
        "dns_answer_all_match",
        False,
        allowed=ALL_MATCH_BUG,
        query_name="www.example.test",
        query_type="A",
        validate_answer_rrs={"fail_if_all_match_regexp": ["192\\.0\\.2\\."]},
    ),
    dns(
        "dns_answer_not_all_match",
        True,
        allowed=ALL_MATCH_BUG,
        query_name="www.example.test",
        query_type="A",
        validate_answer_rrs={"fail_if_all_match_regexp": ["192\\.0\\.2\\.1"]},
    ),
    dns(
        "dns_answer_text_form",
        True,
        query_name="www.example.test",
        query_type="A",
        validate_answer_rrs={"fail_if_none_matches_regexp": ["www.example.test.\t300\tIN\tA\t192.0.2.1"]},
    ),
    dns(
        "dns_authority",
        True,
        query_name="www.example.test",
        query_type="A",
        validate_authority_rrs={"fail_if_not_matches_regexp": ["IN\tNS\tns1"]},
    ),
    dns(
        "dns_additional",
        False,
        query_name="www.example.test",
        query_type="A",
        validate_additional_rrs={"fail_if_matches_regexp": ["127\\.0\\.0\\.1"]},
    ),
    dns(
        "dns_over_tls",
        True,
        target="localhost:{dot}",
        allowed=DOT_TLS_METRICS,
        query_name="www.example.test",
        query_type="A",
        transport_protocol="tcp",
        dns_over_tls=True,
        tls_config=CA,
    ),
    dns(
        "dns_over_tls_no_ca",
        False,
        target="localhost:{dot}",
        allowed=BAD_CERT,
        query_name="www.example.test",
        query_type="A",
        transport_protocol="tcp",
        dns_over_tls=True,
    ),
    dns("dns_closed_port", False, target="127.0.0.1:1", query_name="www.example.test", query_type="A"),
]

SCENARIOS: list[Scenario] = [*HTTP_SCENARIOS, *HTTP2_SCENARIOS, *TCP_SCENARIOS, *DNS_SCENARIOS]
