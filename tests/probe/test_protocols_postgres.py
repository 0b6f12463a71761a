"""postgres prober against a real PostgreSQL 15 (password user; TLS cluster; nothing listening)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from support.postgres import PostgresServer, start_postgres
from support.procs import free_port
from support.protocols import config_errors, load_modules, probe
from support.tls import Certs


def _modules(tmp_path: Path, server: PostgresServer, extra: str = "") -> object:
    (tmp_path / "pg.pw").write_text(server.password + "\n")
    (tmp_path / "wrong.pw").write_text("wrong\n")
    return load_modules(
        tmp_path,
        f"""
        modules:
          pg:
            prober: postgres
            postgres: {{user: {server.user}, database: {server.database}, password_file: pg.pw}}
          pg_wrong_password:
            prober: postgres
            postgres: {{user: {server.user}, password_file: wrong.pw}}
          pg_bad_query:
            prober: postgres
            postgres: {{user: {server.user}, password_file: pg.pw, query: "SELECT * FROM no_such_table"}}
          pg_no_database:
            prober: postgres
            postgres: {{user: {server.user}, database: nope, password_file: pg.pw}}
          pg_standby_only:
            prober: postgres
            postgres: {{user: {server.user}, password_file: pg.pw, fail_if_not_in_recovery: true}}
        {extra}
        """,
    )


async def test_login_and_query(tmp_path: Path, postgres_server: PostgresServer) -> None:
    cfg = _modules(tmp_path, postgres_server)
    r = await probe(cfg, "pg", f"127.0.0.1:{postgres_server.port}")
    assert r.success, r.log_lines
    assert r.value("probe_postgres_in_recovery") == 0
    assert r.value("probe_postgres_query_rows") == 1
    assert 150000 <= r.value("probe_postgres_server_version") < 160000
    assert r.value("probe_postgres_ssl") == 0  # sslmode prefer against a server without TLS
    assert postgres_server.password not in "\n".join(r.log_lines)


async def test_wrong_password_is_auth(tmp_path: Path, postgres_server: PostgresServer) -> None:
    cfg = _modules(tmp_path, postgres_server)
    r = await probe(cfg, "pg_wrong_password", f"127.0.0.1:{postgres_server.port}")
    assert (r.success, r.failure_reason) == (False, "auth"), r.log_lines
    assert r.value("probe_failure_info", reason="auth") == 1


async def test_bad_query_is_query_failure(tmp_path: Path, postgres_server: PostgresServer) -> None:
    cfg = _modules(tmp_path, postgres_server)
    r = await probe(cfg, "pg_bad_query", f"127.0.0.1:{postgres_server.port}")
    assert (r.success, r.failure_reason) == (False, "query"), r.log_lines
    assert "no_such_table" in r.failure_message


async def test_missing_database(tmp_path: Path, postgres_server: PostgresServer) -> None:
    cfg = _modules(tmp_path, postgres_server)
    r = await probe(cfg, "pg_no_database", f"127.0.0.1:{postgres_server.port}")
    assert (r.success, r.failure_reason) == (False, "protocol"), r.log_lines
    assert "nope" in r.failure_message


async def test_primary_fails_standby_only_module(tmp_path: Path, postgres_server: PostgresServer) -> None:
    cfg = _modules(tmp_path, postgres_server)
    r = await probe(cfg, "pg_standby_only", f"127.0.0.1:{postgres_server.port}")
    assert (r.success, r.failure_reason) == (False, "health_check")


async def test_down_is_connect_refused(tmp_path: Path, postgres_server: PostgresServer) -> None:
    cfg = _modules(tmp_path, postgres_server)
    r = await probe(cfg, "pg", f"127.0.0.1:{free_port()}")
    assert (r.success, r.failure_reason) == (False, "connect_refused"), r.log_lines


@pytest.mark.slow
async def test_tls_sslmodes(tmp_path: Path) -> None:
    """A second cluster with TLS: verify-full passes with the CA, fails (tls) without it and keeps
    the certificate metrics with probe_tls_verified 0; require encrypts without verifying."""
    certs = Certs(tmp_path / "certs")
    leaf = certs.certs["valid"]
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "server.crt"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    d = Path(tempfile.mkdtemp(prefix="infrawatch-pg-tls-"))
    server = start_postgres(d, ssl_cert=tmp_path / "server.crt", ssl_key=tmp_path / "server.key")
    try:
        cfg = _modules(
            tmp_path,
            server,
            extra=f"""
          pg_verify:
            prober: postgres
            postgres:
              user: {server.user}
              password_file: pg.pw
              sslmode: verify-full
              tls_config: {{ca_file: {certs.ca_file}, server_name: localhost}}
          pg_verify_no_ca:
            prober: postgres
            postgres: {{user: {server.user}, password_file: pg.pw, sslmode: verify-full}}
          pg_require:
            prober: postgres
            postgres: {{user: {server.user}, password_file: pg.pw, sslmode: require}}
        """,
        )
        target = f"127.0.0.1:{server.port}"
        r = await probe(cfg, "pg_verify", target)
        assert r.success, r.log_lines
        assert r.value("probe_postgres_ssl") == 1
        assert r.value("probe_tls_verified") == 1
        assert r.value("probe_ssl_earliest_cert_expiry") == pytest.approx(certs.not_after("valid"))

        r = await probe(cfg, "pg_verify_no_ca", target)
        assert (r.success, r.failure_reason) == (False, "tls"), r.log_lines
        assert r.value("probe_tls_verified") == 0
        assert r.value("probe_ssl_earliest_cert_expiry") == pytest.approx(certs.not_after("valid"))

        r = await probe(cfg, "pg_require", target)
        assert r.success, r.log_lines
        assert (r.value("probe_postgres_ssl"), r.value("probe_tls_verified")) == (1, 0)
    finally:
        server.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_invalid_module_configs(tmp_path: Path) -> None:
    cases = {
        "modules:\n  m:\n    prober: postgres\n    postgres: {sslmode: verify}\n": (
            "modules.m.postgres.sslmode",
            "expected one of",
        ),
        "modules:\n  m:\n    prober: postgres\n    postgres: {query: '  '}\n": (
            "modules.m.postgres.query",
            "must not be empty",
        ),
        "modules:\n  m:\n    prober: postgres\n    postgres: {password: secret}\n": (
            "modules.m.postgres.password",
            "unknown key",
        ),
        "modules:\n  m:\n    prober: postgres\n    postgres: "
        "{fail_if_in_recovery: true, fail_if_not_in_recovery: true}\n": (
            "modules.m.postgres.fail_if_not_in_recovery",
            "cannot both be true",
        ),
    }
    for text, (path, words) in cases.items():
        errors = config_errors(tmp_path, text)
        # (a missing tls_config file is also reported as "cannot load TLS files" by tlsinfo)
        assert errors, text
        assert f"invalid.yml:4: {path}: " in errors[0] and words in errors[0], errors
