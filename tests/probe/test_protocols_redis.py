"""redis prober against a real redis-server (requirepass + an ACL user; a TLS instance; a stopped one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.procs import free_port
from support.protocols import config_errors, load_modules, probe
from support.redis import RedisServer, start_redis
from support.tls import Certs


def _modules(tmp_path: Path, server: RedisServer, extra: str = "") -> object:
    (tmp_path / "default.pw").write_text(server.password + "\n")
    (tmp_path / "probe.pw").write_text(server.acl_password + "\n")
    (tmp_path / "wrong.pw").write_text("not-the-password\n")
    return load_modules(
        tmp_path,
        f"""
        modules:
          redis_default:
            prober: redis
            redis: {{password_file: default.pw, preferred_ip_protocol: ip4}}
          redis_acl:
            prober: redis
            redis: {{username: {server.acl_user}, password_file: probe.pw, valid_roles: [master]}}
          redis_wrong:
            prober: redis
            redis: {{username: {server.acl_user}, password_file: wrong.pw}}
          redis_nopass:
            prober: redis
          redis_replica_only:
            prober: redis
            redis: {{password_file: default.pw, valid_roles: [replica]}}
        {extra}
        """,
    )


async def test_password_auth_ping_and_info(tmp_path: Path, redis_server: RedisServer) -> None:
    cfg = _modules(tmp_path, redis_server)
    r = await probe(cfg, "redis_default", f"127.0.0.1:{redis_server.port}")
    assert r.success, r.log_lines
    assert r.value("probe_redis_role_info", role="master") == 1
    assert next(s.labels["version"] for s in r.samples if s.name == "probe_redis_version_info")[0].isdigit()
    assert r.value("probe_redis_used_memory_bytes") > 100_000
    assert r.value("probe_redis_connected_clients") >= 1
    assert r.value("probe_redis_duration_seconds", phase="ping") >= 0
    assert redis_server.password not in "\n".join(r.log_lines)


async def test_acl_user_with_role_check(tmp_path: Path, redis_server: RedisServer) -> None:
    cfg = _modules(tmp_path, redis_server)
    # The ACL user may only AUTH, PING and INFO (no CLIENT SETNAME/SETINFO): still a passing probe.
    r = await probe(cfg, "redis_acl", f"127.0.0.1:{redis_server.port}")
    assert r.success, r.log_lines
    assert r.value("probe_redis_role_info", role="master") == 1


async def test_wrong_password_is_auth_failure(tmp_path: Path, redis_server: RedisServer) -> None:
    cfg = _modules(tmp_path, redis_server)
    r = await probe(cfg, "redis_wrong", f"127.0.0.1:{redis_server.port}")
    assert not r.success
    assert r.failure_reason == "auth"
    assert r.value("probe_failure_info", reason="auth") == 1


async def test_missing_password_is_auth_failure(tmp_path: Path, redis_server: RedisServer) -> None:
    cfg = _modules(tmp_path, redis_server)
    r = await probe(cfg, "redis_nopass", f"127.0.0.1:{redis_server.port}")
    assert (r.success, r.failure_reason) == (False, "auth"), r.log_lines


async def test_role_mismatch_fails_health_check(tmp_path: Path, redis_server: RedisServer) -> None:
    cfg = _modules(tmp_path, redis_server)
    r = await probe(cfg, "redis_replica_only", f"127.0.0.1:{redis_server.port}")
    assert (r.success, r.failure_reason) == (False, "health_check")
    assert r.value("probe_redis_role_info", role="master") == 1


async def test_server_down_is_connect_refused(tmp_path: Path, redis_server: RedisServer) -> None:
    cfg = _modules(tmp_path, redis_server)
    r = await probe(cfg, "redis_default", f"127.0.0.1:{free_port()}")
    assert (r.success, r.failure_reason) == (False, "connect_refused")


async def test_stopped_server(tmp_path: Path) -> None:
    """A server that was up and is stopped: the same module goes from success to connect_refused."""
    server = start_redis(tmp_path / "redis")
    cfg = _modules(tmp_path, server)
    target = f"127.0.0.1:{server.port}"
    try:
        assert (await probe(cfg, "redis_default", target)).success
    finally:
        server.stop()
    r = await probe(cfg, "redis_default", target)
    assert (r.success, r.failure_reason) == (False, "connect_refused")


async def test_tls_with_certificate_metrics(tmp_path: Path) -> None:
    certs = Certs(tmp_path / "certs")
    leaf = certs.certs["valid"]
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "server.crt"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    server = start_redis(tmp_path / "redis", tls_cert=tmp_path / "server.crt", tls_key=tmp_path / "server.key")
    try:
        cfg = _modules(
            tmp_path,
            server,
            extra=f"""
          redis_tls:
            prober: redis
            redis:
              password_file: default.pw
              tls: true
              tls_config: {{ca_file: {certs.ca_file}}}
          redis_tls_untrusted:
            prober: redis
            redis: {{password_file: default.pw, tls: true}}
        """,
        )
        r = await probe(cfg, "redis_tls", f"127.0.0.1:{server.tls_port}")
        assert r.success, r.log_lines
        assert r.value("probe_tls_verified") == 1
        assert r.value("probe_ssl_earliest_cert_expiry") == pytest.approx(certs.not_after("valid"))
        r = await probe(cfg, "redis_tls_untrusted", f"127.0.0.1:{server.tls_port}")
        assert (r.success, r.failure_reason) == (False, "tls"), r.log_lines
    finally:
        server.stop()


def test_invalid_module_configs(tmp_path: Path) -> None:
    cases = {
        "modules:\n  m:\n    prober: redis\n    redis: {passwd_file: x}\n": (
            "modules.m.redis.passwd_file",
            "unknown key",
        ),
        "modules:\n  m:\n    prober: redis\n    redis: {password_file: /nonexistent/pw}\n": (
            "modules.m.redis.password_file",
            "cannot read secret file",
        ),
        "modules:\n  m:\n    prober: redis\n    redis: {username: probe}\n": (
            "modules.m.redis.password_file",
            "needs a password_file",
        ),
        "modules:\n  m:\n    prober: redis\n    redis: {valid_roles: [leader]}\n": (
            "modules.m.redis.valid_roles[0]",
            "expected one of",
        ),
        "modules:\n  m:\n    prober: redis\n    redis: {db: -1}\n": ("modules.m.redis.db", "db must be >= 0"),
    }
    for text, (path, words) in cases.items():
        errors = config_errors(tmp_path, text)
        assert len(errors) == 1, (text, errors)
        assert f"invalid.yml:4: {path}: " in errors[0] and words in errors[0], errors
