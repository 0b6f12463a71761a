"""smtp prober against aiosmtpd: with and without STARTTLS (trustme certificates), implicit TLS,
AUTH with good and bad credentials, banner checks, nothing listening."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.procs import free_port
from support.protocols import config_errors, load_modules, probe
from support.smtpserver import smtp_server
from support.tls import Certs

USER, PASSWORD = "probe@infrawatch.test", "smtp-probe-pw"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return Certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def modules(tmp_path: Path, certs: Certs) -> object:
    (tmp_path / "smtp.pw").write_text(PASSWORD + "\n")
    (tmp_path / "wrong.pw").write_text("nope\n")
    ca = certs.ca_file
    return load_modules(
        tmp_path,
        f"""
        modules:
          smtp:
            prober: smtp
            smtp: {{tls_config: {{ca_file: {ca}}}, preferred_ip_protocol: ip4}}
          smtp_must_encrypt:
            prober: smtp
            smtp: {{fail_if_no_starttls: true, tls_config: {{ca_file: {ca}}}}}
          smtp_system_cas:
            prober: smtp
            smtp: {{}}
          smtp_banner:
            prober: smtp
            smtp: {{banner_regexp: "^mx\\\\.infrawatch\\\\.test ", starttls: false}}
          smtp_other_banner:
            prober: smtp
            smtp: {{banner_regexp: "^mail\\\\.example\\\\.com ", starttls: false}}
          smtps:
            prober: smtp
            smtp: {{tls: true, tls_config: {{ca_file: {ca}}}}}
          smtp_auth:
            prober: smtp
            smtp:
              tls_config: {{ca_file: {ca}}}
              auth: {{username: "{USER}", password_file: smtp.pw}}
          smtp_auth_login:
            prober: smtp
            smtp:
              tls_config: {{ca_file: {ca}}}
              auth: {{username: "{USER}", password_file: smtp.pw, mechanism: LOGIN}}
          smtp_auth_wrong:
            prober: smtp
            smtp:
              tls_config: {{ca_file: {ca}}}
              auth: {{username: "{USER}", password_file: wrong.pw}}
        """,
    )


async def test_plain_smtp_without_starttls(modules: object) -> None:
    with smtp_server() as srv:
        r = await probe(modules, "smtp", f"127.0.0.1:{srv.port}")
    assert r.success, r.log_lines
    assert r.value("probe_smtp_starttls_supported") == 0
    assert r.value("probe_smtp_status_code") == 221  # the QUIT reply
    assert r.value("probe_tls_verified") is None


async def test_starttls_with_certificate_metrics(modules: object, certs: Certs) -> None:
    with smtp_server(tls_context=certs.server_context("valid")) as srv:
        r = await probe(modules, "smtp", f"localhost:{srv.port}")
    assert r.success, r.log_lines
    assert r.value("probe_smtp_starttls_supported") == 1
    assert r.value("probe_tls_verified") == 1
    assert r.value("probe_ssl_earliest_cert_expiry") == pytest.approx(certs.not_after("valid"))
    assert r.value("probe_smtp_duration_seconds", phase="starttls") > 0


async def test_fail_if_no_starttls(modules: object) -> None:
    with smtp_server() as srv:
        r = await probe(modules, "smtp_must_encrypt", f"127.0.0.1:{srv.port}")
    assert (r.success, r.failure_reason) == (False, "tls")
    assert r.value("probe_smtp_starttls_supported") == 0


async def test_untrusted_certificate_keeps_tls_metrics(modules: object, certs: Certs) -> None:
    with smtp_server(tls_context=certs.server_context("self_signed")) as srv:
        r = await probe(modules, "smtp_system_cas", f"localhost:{srv.port}")
    assert (r.success, r.failure_reason) == (False, "tls"), r.log_lines
    assert r.value("probe_tls_verified") == 0
    assert r.value("probe_ssl_earliest_cert_expiry") == pytest.approx(certs.not_after("self_signed"))


async def test_banner_regexp(modules: object) -> None:
    with smtp_server() as srv:
        ok = await probe(modules, "smtp_banner", f"127.0.0.1:{srv.port}")
        bad = await probe(modules, "smtp_other_banner", f"127.0.0.1:{srv.port}")
    assert ok.success, ok.log_lines
    assert (bad.success, bad.failure_reason) == (False, "protocol")


async def test_implicit_tls(modules: object, certs: Certs) -> None:
    with smtp_server(implicit_tls=certs.server_context("valid")) as srv:
        r = await probe(modules, "smtps", f"localhost:{srv.port}")
    assert r.success, r.log_lines
    assert r.value("probe_tls_verified") == 1


async def test_auth_good_and_bad(modules: object, certs: Certs) -> None:
    with smtp_server(tls_context=certs.server_context("valid"), credentials=(USER, PASSWORD)) as srv:
        ok = await probe(modules, "smtp_auth", f"localhost:{srv.port}")
        login = await probe(modules, "smtp_auth_login", f"localhost:{srv.port}")
        bad = await probe(modules, "smtp_auth_wrong", f"localhost:{srv.port}")
    for r in (ok, login):
        assert r.success, r.log_lines
        assert r.value("probe_smtp_auth_supported") == 1
        assert r.value("probe_smtp_duration_seconds", phase="auth") > 0
        assert PASSWORD not in "\n".join(r.log_lines)
    assert (bad.success, bad.failure_reason) == (False, "auth"), bad.log_lines
    assert bad.value("probe_smtp_status_code") == 535


async def test_auth_not_offered(modules: object) -> None:
    # no STARTTLS, and aiosmtpd offers AUTH only over TLS by default
    with smtp_server() as srv:
        srv_port = srv.port
        r = await probe(modules, "smtp_auth", f"127.0.0.1:{srv_port}")
    assert (r.success, r.failure_reason) == (False, "auth")
    assert "does not offer AUTH" in r.failure_message


async def test_refused(modules: object) -> None:
    r = await probe(modules, "smtp", f"127.0.0.1:{free_port()}")
    assert (r.success, r.failure_reason) == (False, "connect_refused")


def test_invalid_module_configs(tmp_path: Path) -> None:
    cases = {
        "modules:\n  m:\n    prober: smtp\n    smtp: {ehlo: 'bad name!'}\n": ("modules.m.smtp.ehlo", "EHLO name"),
        "modules:\n  m:\n    prober: smtp\n    smtp: {banner_regexp: '[a-'}\n": (
            "modules.m.smtp.banner_regexp",
            "invalid regular expression",
        ),
        "modules:\n  m:\n    prober: smtp\n    smtp: {starttls: false, fail_if_no_starttls: true}\n": (
            "modules.m.smtp.fail_if_no_starttls",
            "needs starttls: true",
        ),
        "modules:\n  m:\n    prober: smtp\n    smtp: {auth: {username: u}}\n": (
            "modules.m.smtp.auth.password_file",
            "needs a password_file",
        ),
        "modules:\n  m:\n    prober: smtp\n    smtp: {auth: {username: u, password_file: x, mechanism: CRAM-MD5}}\n": (
            "modules.m.smtp.auth.mechanism",
            "expected one of",
        ),
        "modules:\n  m:\n    prober: smtp\n    tcp: {}\n": ("modules.m.tcp", "does not apply to prober 'smtp'"),
    }
    for text, (path, words) in cases.items():
        errors = config_errors(tmp_path, text)
        assert errors and f"invalid.yml:4: {path}: " in errors[0] and words in errors[0], (text, errors)
