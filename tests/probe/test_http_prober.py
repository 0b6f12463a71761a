"""http prober against real aiohttp servers (plain, IPv6, and TLS with trustme certificates)."""

from __future__ import annotations

import time

import pytest

from infrawatch.probe.runner import ProbeResult
from support.probeutil import Targets, probe

IP4 = {"preferred_ip_protocol": "ip4"}


def reason(r: ProbeResult) -> str | None:
    return r.failure_reason or None


def test_ok_records_blackbox_metrics(targets: Targets) -> None:
    r = probe(targets.http(), IP4)
    assert r.success, r.log_lines
    assert r.value("probe_http_status_code") == 200
    assert r.value("probe_http_version") == 1.1
    assert r.value("probe_http_content_length") == len("hello from the target\n")
    assert r.value("probe_http_uncompressed_body_length") == len("hello from the target\n")
    assert r.value("probe_http_ssl") == 0
    assert r.value("probe_http_redirects") == 0
    assert r.value("probe_http_last_modified_timestamp_seconds") == 1445412480
    phases = {s.labels["phase"] for s in r.samples if s.name == "probe_http_duration_seconds"}
    assert phases == {"resolve", "connect", "tls", "processing", "transfer"}
    assert r.value("probe_failure_info") is None


def test_ipv6_target_and_ip6_preference(targets: Targets) -> None:
    r = probe(f"http://[::1]:{targets.http6_port}/ok")
    assert r.success, r.log_lines
    assert r.value("probe_ip_protocol") == 6


def test_status_code_invalid_and_custom_valid(targets: Targets) -> None:
    r = probe(targets.http("/status/503"), IP4)
    assert not r.success and reason(r) == "status_code"
    assert r.value("probe_failure_info", reason="status_code") == 1
    assert r.value("probe_http_status_code") == 503
    assert probe(targets.http("/status/503"), {**IP4, "valid_status_codes": [503]}).success


def test_redirects_followed_and_counted(targets: Targets) -> None:
    r = probe(targets.http("/redirect/3"), IP4)
    assert r.success, r.log_lines
    assert r.value("probe_http_redirects") == 3
    assert r.value("probe_http_status_code") == 200


def test_redirects_not_followed(targets: Targets) -> None:
    r = probe(targets.http("/redirect/3"), {**IP4, "follow_redirects": False})
    assert not r.success and reason(r) == "status_code"
    assert r.value("probe_http_status_code") == 302
    r = probe(targets.http("/redirect/3"), {**IP4, "no_follow_redirects": True, "valid_status_codes": [302]})
    assert r.success


def test_redirect_loop_stops(targets: Targets) -> None:
    r = probe(targets.http("/loop"), IP4)
    assert not r.success and reason(r) == "redirect"


def test_slow_response_times_out_without_overrunning(targets: Targets) -> None:
    t0 = time.monotonic()
    r = probe(targets.http("/slow?secs=20"), IP4, timeout=1.0)
    assert not r.success and reason(r) == "timeout"
    assert time.monotonic() - t0 < 10  # generous: the point is "not 20 s", not a speed figure
    r = probe(targets.http("/hang-body?secs=20"), IP4, timeout=1.0)
    assert not r.success and reason(r) == "timeout"


def test_connect_refused() -> None:
    r = probe("http://127.0.0.1:9/", IP4)
    assert not r.success and reason(r) == "connect_refused"
    assert r.value("probe_http_status_code") == 0


def test_unresolvable_host_is_dns_failure() -> None:
    r = probe("http://no-such-host.invalid/", IP4)
    assert not r.success and reason(r) == "dns"


def test_huge_body_limit(targets: Targets) -> None:
    r = probe(targets.http("/huge?size=5000000"), {**IP4, "body_size_limit": "1MB"})
    assert not r.success and reason(r) == "body_size"
    r = probe(targets.http("/huge?size=3000000"), IP4)
    assert r.success and r.value("probe_http_uncompressed_body_length") == 3000000


def test_connection_reset(targets: Targets) -> None:
    r = probe(targets.http("/reset"), IP4)
    assert not r.success and reason(r) in ("protocol", "connect_error")


def test_body_and_header_regexps(targets: Targets) -> None:
    r = probe(targets.http(), {**IP4, "fail_if_body_matches_regexp": ["hello"]})
    assert not r.success and reason(r) == "body_regex" and r.value("probe_failed_due_to_regex") == 1
    r = probe(targets.http(), {**IP4, "fail_if_body_not_matches_regexp": ["from the target"]})
    assert r.success and r.value("probe_failed_due_to_regex") == 0
    r = probe(targets.http(), {**IP4, "fail_if_header_matches": [{"header": "X-Served-By", "regexp": "^tar"}]})
    assert not r.success and reason(r) == "body_regex"
    r = probe(targets.http(), {**IP4, "fail_if_header_not_matches": [{"header": "X-Missing", "regexp": "x"}]})
    assert not r.success
    r = probe(
        targets.http(),
        {**IP4, "fail_if_header_not_matches": [{"header": "X-Missing", "regexp": "x", "allow_missing": True}]},
    )
    assert r.success


def test_gzip_compression(targets: Targets) -> None:
    r = probe(
        targets.http("/gzip"), {**IP4, "compression": "gzip", "fail_if_body_not_matches_regexp": ["compressed hello"]}
    )
    assert r.success, r.log_lines
    assert r.value("probe_http_uncompressed_body_length") == len(b"compressed hello " * 100)
    assert r.value("probe_http_content_length") < r.value("probe_http_uncompressed_body_length")


def test_method_headers_body_and_auth(targets: Targets, tmp_path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret-pass\n")
    r = probe(
        targets.http("/echo"),
        {
            **IP4,
            "method": "POST",
            "body": "ping",
            "headers": {"X-Test": "yes"},
            "basic_auth": {"username": "u", "password_file": str(secret)},
            "fail_if_body_not_matches_regexp": [
                '"method": "POST"',
                '"body": "ping"',
                '"X-Test": "yes"',
                '"Authorization": "Basic dTpzM2NyZXQtcGFzcw=="',
            ],
        },
    )
    assert r.success, r.log_lines
    r = probe(
        targets.http("/echo"), {**IP4, "bearer_token": "tok-123", "fail_if_body_not_matches_regexp": ["Bearer tok-123"]}
    )
    assert r.success, r.log_lines


def test_fail_if_not_ssl(targets: Targets) -> None:
    r = probe(targets.http(), {**IP4, "fail_if_not_ssl": True})
    assert not r.success and reason(r) == "protocol"


# -- TLS -----------------------------------------------------------------------------------------


def tls(targets: Targets, **extra):
    return {"tls_config": {"ca_file": str(targets.certs.ca_file), **extra}, **IP4}


def test_tls_valid_certificate(targets: Targets) -> None:
    r = probe(targets.https("valid"), tls(targets))
    assert r.success, r.log_lines
    assert r.value("probe_http_ssl") == 1
    assert r.value("probe_tls_verified") == 1
    assert r.value("probe_ssl_earliest_cert_expiry") == targets.certs.not_after("valid")
    assert r.value("probe_ssl_last_chain_expiry_timestamp_seconds") <= targets.certs.not_after("valid")
    versions = [s.labels["version"] for s in r.samples if s.name == "probe_tls_version_info"]
    assert versions in (["TLS 1.3"], ["TLS 1.2"])
    info = [s.labels for s in r.samples if s.name == "probe_ssl_last_chain_info"]
    assert len(info) == 1 and "localhost" in info[0]["subjectalternative"]
    assert len(info[0]["fingerprint_sha256"]) == 64
    assert r.value("probe_http_duration_seconds", phase="tls") > 0


def test_tls_expired_keeps_metrics(targets: Targets) -> None:
    r = probe(targets.https("expired"), tls(targets))
    assert not r.success and reason(r) == "tls"
    assert "expired" in r.failure_message
    assert r.value("probe_tls_verified") == 0
    assert r.value("probe_ssl_earliest_cert_expiry") == targets.certs.not_after("expired")
    assert r.value("probe_ssl_earliest_cert_expiry") < time.time()


def test_tls_wrong_host_keeps_metrics(targets: Targets) -> None:
    r = probe(targets.https("wrong_host"), tls(targets))
    assert not r.success and reason(r) == "tls"
    assert r.value("probe_tls_verified") == 0
    info = [s.labels for s in r.samples if s.name == "probe_ssl_last_chain_info"]
    assert info and info[0]["subjectalternative"] == "wrong.example.net"
    # server_name makes the same server valid
    assert probe(targets.https("wrong_host"), tls(targets, server_name="wrong.example.net")).success


def test_tls_self_signed_and_insecure_skip_verify(targets: Targets) -> None:
    r = probe(targets.https("self_signed"), tls(targets))
    assert not r.success and reason(r) == "tls"
    assert r.value("probe_tls_verified") == 0
    assert r.value("probe_ssl_earliest_cert_expiry") > time.time()
    r = probe(targets.https("self_signed"), tls(targets, insecure_skip_verify=True))
    assert r.success and r.value("probe_tls_verified") == 0


def test_tls_system_store_rejects_test_ca(targets: Targets) -> None:
    r = probe(targets.https("valid"), IP4)
    assert not r.success and reason(r) == "tls"
    assert r.value("probe_tls_verified") == 0


def test_https_fail_if_ssl(targets: Targets) -> None:
    r = probe(targets.https("valid"), {**tls(targets), "fail_if_ssl": True})
    assert not r.success and reason(r) == "protocol"


def test_redirect_from_http_to_https(targets: Targets) -> None:
    # /redirect/1 on the https server goes to /ok on the same server
    r = probe(targets.https("valid", "/redirect/2"), tls(targets))
    assert r.success and r.value("probe_http_redirects") == 2 and r.value("probe_http_ssl") == 1


# -- health documents -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "ok", "status", "checks"),
    [
        ("ietf-pass", True, 1, {"db:responseTime": 1, "cache:connections": 0.5}),
        ("ietf-fail", False, 0, {"db:responseTime": 0}),
        ("spring-up", True, 1, {"db": 1, "diskSpace": 1}),
        ("spring-down", False, 0, {"db": 0, "ping": 1}),
        ("checks-degraded", True, 0.5, {"db": 1, "queue": 0.5}),
        ("ok-true", True, 1, {"db": 1, "redis": 1}),
        ("ok-false", False, 0, {"db": 0}),
        ("es-green", True, 1, {"unassigned_shards": 1}),
        ("es-yellow", True, 0.5, {"unassigned_shards": 0.5}),
        ("es-red", False, 0, {"unassigned_shards": 0.5}),
    ],
)
def test_health_documents(targets: Targets, doc: str, ok: bool, status: float, checks: dict) -> None:
    r = probe(targets.http(f"/health/{doc}"), {**IP4, "health": {"enabled": True}})
    assert r.success is ok, r.log_lines
    assert r.value("probe_health_status") == status
    got = {s.labels["check"]: s.value for s in r.samples if s.name == "probe_health_check_status"}
    assert got == checks
    if not ok:
        assert reason(r) == "health_check"
    expected_state = {1: "healthy", 0.5: "degraded", 0: "down"}[status] if ok else "down"
    assert r.health == expected_state


def test_health_latency_version_and_timestamp(targets: Targets) -> None:
    """Seed 004's /health document through a real probe: per-check latency, version, timestamp."""
    r = probe(targets.http("/health/seed-004"), {**IP4, "health": {"enabled": True}})
    assert r.success and r.value("probe_health_status") == 1, r.log_lines
    latency = {s.labels["check"]: s.value for s in r.samples if s.name == "probe_health_check_latency_seconds"}
    assert latency == {"database": 0.005, "redis": 0.001, "rpc": 1.8}
    (info,) = [s for s in r.samples if s.name == "probe_health_info"]
    assert info.labels == {"version": "1.4.2"} and info.value == 1
    assert r.value("probe_health_timestamp_seconds") == 1796292000.0


def test_health_fail_on_degraded_and_not_json(targets: Targets) -> None:
    r = probe(targets.http("/health/checks-degraded"), {**IP4, "health": {"fail_on": "degraded"}})
    assert not r.success and reason(r) == "health_check"
    r = probe(targets.http("/health/not-json"), {**IP4, "health": {}})
    assert not r.success and reason(r) == "health_check"
    r = probe(targets.http("/status/404"), {**IP4, "health": {}})
    assert not r.success and reason(r) == "status_code"
    r = probe(targets.http("/health/not-json"), {**IP4, "health": {"enabled": False}})
    assert r.success and r.value("probe_health_status") is None


def test_proxy_url_plain_and_connect(targets: Targets) -> None:
    from support.httptarget import ForwardProxy

    proxy = ForwardProxy()
    port = targets.servers.serve_stream(proxy.handle)
    r = probe(targets.http("/ok"), {**IP4, "proxy_url": f"http://pu:pp@127.0.0.1:{port}"})
    assert r.success, r.log_lines
    r = probe(targets.https("valid"), {**tls(targets), "proxy_url": f"http://pu:pp@127.0.0.1:{port}"})
    assert r.success, r.log_lines
    assert r.value("probe_tls_verified") == 1
    assert proxy.requests == [f"GET {targets.http('/ok')}", f"CONNECT localhost:{targets.https_ports['valid']}"]
    assert proxy.auth == ["Basic cHU6cHA=", "Basic cHU6cHA="]


def _has_v6_localhost() -> bool:
    import socket

    try:
        return bool(socket.getaddrinfo("localhost", None, socket.AF_INET6, socket.SOCK_STREAM))
    except socket.gaierror:
        return False


def test_preferred_ip_protocol_and_fallback(targets: Targets) -> None:
    """``localhost`` against the IPv4 server: ip4 works; ip6 preferred uses ::1 when the machine
    maps localhost to it (refused: the server is IPv4-only), else falls back to IPv4 or, without
    fallback, fails in DNS."""
    url = f"http://localhost:{targets.http_port}/ok"
    r = probe(url, {"preferred_ip_protocol": "ip4", "ip_protocol_fallback": False})
    assert r.success and r.value("probe_ip_protocol") == 4
    r6 = probe(url, {"preferred_ip_protocol": "ip6"})
    r6_strict = probe(url, {"preferred_ip_protocol": "ip6", "ip_protocol_fallback": False})
    if _has_v6_localhost():
        assert not r6.success and r6.value("probe_ip_protocol") == 6 and reason(r6) == "connect_refused"
        assert reason(r6_strict) == "connect_refused"
    else:
        assert r6.success and r6.value("probe_ip_protocol") == 4
        assert not r6_strict.success and reason(r6_strict) == "dns"
