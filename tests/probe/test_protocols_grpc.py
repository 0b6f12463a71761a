"""grpc prober against a real grpc.health.v1 server (grpcio-health-checking) on loopback:
SERVING, NOT_SERVING, unknown service, refused, plaintext against TLS, TLS with trustme
certificates (valid, expired, wrong host, untrusted, insecure_skip_verify, client certificate),
metadata as the server received it, IPv6, and grpcio imported only when a grpc module is used."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.grpcserver import HealthServer, health_server
from support.loopback import NO_IPV6_REASON, has_ipv6_loopback
from support.procs import free_port
from support.protocols import config_errors, load_modules, metrics, probe
from support.tls import Certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return Certs(tmp_path_factory.mktemp("certs"))


def _pems(certs: Certs, kind: str) -> tuple[bytes, bytes]:
    leaf = certs.certs[kind]
    return leaf.private_key_pem.bytes(), b"".join(p.bytes() for p in leaf.cert_chain_pems)


@pytest.fixture(scope="module")
def plain() -> Iterator[HealthServer]:
    with health_server() as s:
        yield s


@pytest.fixture(scope="module")
def tls_servers(certs: Certs) -> Iterator[dict[str, HealthServer]]:
    with (
        health_server(tls=_pems(certs, "valid")) as valid,
        health_server(tls=_pems(certs, "expired")) as expired,
        health_server(tls=_pems(certs, "wrong_host")) as wrong_host,
        health_server(tls=_pems(certs, "self_signed")) as self_signed,
        health_server(tls=_pems(certs, "valid"), client_ca=certs.ca.cert_pem.bytes()) as mtls,
    ):
        yield {"valid": valid, "expired": expired, "wrong_host": wrong_host, "self_signed": self_signed, "mtls": mtls}


@pytest.fixture
def cfg(tmp_path: Path, certs: Certs):
    client = certs.ca.issue_cert("prober.example.net")
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    client.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    ca = certs.ca_file
    return load_modules(
        tmp_path,
        f"""
        modules:
          grpc:
            prober: grpc
            grpc: {{preferred_ip_protocol: ip4}}
          ok_service:
            prober: grpc
            grpc: {{service: ok.Svc, metadata: {{X-Api-Token: s3cret-ish, team: [sre, ops]}}}}
          down_service:
            prober: grpc
            grpc: {{service: down.Svc}}
          unknown_service:
            prober: grpc
            grpc: {{service: no.such.Svc}}
          grpc_tls:
            prober: grpc
            grpc: {{tls: true, tls_config: {{ca_file: {ca}}}}}
          grpc_tls_name:
            prober: grpc
            grpc: {{tls: true, tls_config: {{ca_file: {ca}, server_name: wrong.example.net}}}}
          grpc_tls_skip:
            prober: grpc
            grpc: {{tls: true, tls_config: {{insecure_skip_verify: true}}}}
          grpc_mtls:
            prober: grpc
            grpc:
              tls: true
              tls_config: {{ca_file: {ca}, cert_file: client.pem, key_file: client.key}}
        """,
    )


def _responses(m: dict) -> dict[str, float]:
    return {
        dict(labels)["serving_status"]: v
        for (name, labels), v in m.items()
        if name == "probe_grpc_healthcheck_response"
    }


async def test_serving(cfg, plain: HealthServer) -> None:
    r = await probe(cfg, "grpc", f"127.0.0.1:{plain.port}")
    assert r.success, r.failure_message
    m = metrics(r)
    assert _responses(m) == {"UNKNOWN": 0, "SERVING": 1, "NOT_SERVING": 0, "SERVICE_UNKNOWN": 0}
    assert m[("probe_grpc_status_code", ())] == 0
    assert m[("probe_grpc_ssl", ())] == 0
    assert {dict(k)["phase"] for n, k in m if n == "probe_grpc_duration_seconds"} == {"resolve", "check"}
    assert m[("probe_grpc_duration_seconds", (("phase", "check"),))] > 0
    assert ("probe_ssl_earliest_cert_expiry", ()) not in m  # no TLS, no certificate expiry


async def test_named_service_and_metadata_reach_the_server(cfg, plain: HealthServer) -> None:
    before = len(plain.servicer.metadata)
    r = await probe(cfg, "ok_service", f"http://localhost:{plain.port}")  # blackbox allows the http:// prefix
    assert r.success, r.failure_message
    seen = plain.servicer.metadata[before]
    assert seen["x-api-token"] == ["s3cret-ish"]  # keys are lower-cased, as gRPC sends them
    assert seen["team"] == ["sre", "ops"]
    assert seen["user-agent"][0].startswith("infrawatch-probe/")


async def test_metadata_the_server_requires(cfg, plain: HealthServer) -> None:
    plain.servicer.required = ("x-api-token", "s3cret-ish")
    try:
        assert (await probe(cfg, "ok_service", f"127.0.0.1:{plain.port}")).success
        r = await probe(cfg, "grpc", f"127.0.0.1:{plain.port}")
    finally:
        plain.servicer.required = None
    assert not r.success and r.failure_reason == "auth"
    assert metrics(r)[("probe_grpc_status_code", ())] == 16  # UNAUTHENTICATED


async def test_not_serving(cfg, plain: HealthServer) -> None:
    r = await probe(cfg, "down_service", f"127.0.0.1:{plain.port}")
    assert not r.success and r.failure_reason == "health_check"
    m = metrics(r)
    assert _responses(m) == {"UNKNOWN": 0, "SERVING": 0, "NOT_SERVING": 1, "SERVICE_UNKNOWN": 0}
    assert m[("probe_grpc_status_code", ())] == 0  # the call itself succeeded


async def test_unknown_service(cfg, plain: HealthServer) -> None:
    r = await probe(cfg, "unknown_service", f"127.0.0.1:{plain.port}")
    assert not r.success and r.failure_reason == "health_check"
    assert "no.such.Svc" in r.failure_message
    m = metrics(r)
    assert set(_responses(m).values()) == {0}  # no serving status came back
    assert m[("probe_grpc_status_code", ())] == 5  # NOT_FOUND


async def test_refused(cfg) -> None:
    r = await probe(cfg, "grpc", f"127.0.0.1:{free_port()}")
    assert not r.success and r.failure_reason == "connect_refused"
    assert metrics(r)[("probe_grpc_status_code", ())] == 14  # UNAVAILABLE


async def test_plaintext_against_a_tls_server(cfg, tls_servers: dict[str, HealthServer]) -> None:
    r = await probe(cfg, "grpc", f"127.0.0.1:{tls_servers['valid'].port}")
    assert not r.success and r.failure_reason == "connect_error"


@pytest.mark.parametrize("target_host", ["localhost", "127.0.0.1"])
async def test_tls_valid(cfg, certs: Certs, tls_servers: dict[str, HealthServer], target_host: str) -> None:
    r = await probe(cfg, "grpc_tls", f"{target_host}:{tls_servers['valid'].port}")
    assert r.success, r.failure_message
    m = metrics(r)
    assert m[("probe_grpc_ssl", ())] == 1
    assert m[("probe_tls_verified", ())] == 1
    assert m[("probe_ssl_earliest_cert_expiry", ())] == certs.not_after("valid")
    assert any(n == "probe_tls_version_info" for n, _ in m)
    assert any(n == "probe_ssl_last_chain_info" for n, _ in m)


@pytest.mark.parametrize(
    ("kind", "module", "message"),
    [
        ("expired", "grpc_tls", "expired"),
        ("self_signed", "grpc_tls", "issuer"),
        ("wrong_host", "grpc_tls", "mismatch"),
        ("valid", "grpc_tls_name", "mismatch"),  # server_name is what the certificate must carry
    ],
)
async def test_tls_failures_keep_certificate_metrics(
    cfg, certs: Certs, tls_servers: dict[str, HealthServer], kind: str, module: str, message: str
) -> None:
    r = await probe(cfg, module, f"localhost:{tls_servers[kind].port}")
    assert not r.success and r.failure_reason == "tls", (r.failure_reason, r.failure_message)
    assert message in r.failure_message.lower()
    m = metrics(r)
    assert m[("probe_tls_verified", ())] == 0
    assert m[("probe_ssl_earliest_cert_expiry", ())] == certs.not_after(kind)
    assert m[("probe_grpc_ssl", ())] == 0


async def test_insecure_skip_verify(cfg, tls_servers: dict[str, HealthServer]) -> None:
    r = await probe(cfg, "grpc_tls_skip", f"127.0.0.1:{tls_servers['self_signed'].port}")
    assert r.success, r.failure_message
    assert metrics(r)[("probe_tls_verified", ())] == 0


async def test_client_certificate(cfg, tls_servers: dict[str, HealthServer]) -> None:
    port = tls_servers["mtls"].port
    r = await probe(cfg, "grpc_mtls", f"localhost:{port}")
    assert r.success, r.failure_message
    r = await probe(cfg, "grpc_tls", f"localhost:{port}")  # same server, no client certificate
    assert not r.success


@pytest.mark.skipif(not has_ipv6_loopback(), reason=NO_IPV6_REASON)
async def test_ipv6(cfg) -> None:
    with health_server(host="::1") as s:
        r = await probe(cfg, "ok_service", f"[::1]:{s.port}")
    assert r.success, r.failure_message
    assert metrics(r)[("probe_ip_protocol", ())] == 6


def test_config_errors(tmp_path: Path) -> None:
    errors = config_errors(
        tmp_path,
        "modules:\n  g:\n    prober: grpc\n    grpc:\n      metadata:\n        'bad key': x\n"
        "        grpc-timeout: 1S\n        token-bin: x\n      preferred_ip_protocol: ip5\n",
    )
    text = "\n".join(errors)
    assert "invalid.yml:6: modules.g.grpc.metadata.bad key:" in text
    assert "modules.g.grpc.metadata.grpc-timeout" in text and "reserved" in text
    assert "modules.g.grpc.metadata.token-bin" in text
    assert "modules.g.grpc.preferred_ip_protocol" in text
    (nested,) = config_errors(tmp_path, "modules:\n  g:\n    prober: grpc\n    grpc:\n      metadata: {ok: {a: b}}\n")
    assert "invalid.yml:5: modules.g.grpc.metadata.ok: expected a string or a list" in nested


def test_grpcio_is_imported_only_when_a_grpc_module_is_configured(tmp_path: Path) -> None:
    (tmp_path / "tcp.yml").write_text("modules:\n  t:\n    prober: tcp\n")
    (tmp_path / "grpc.yml").write_text("modules:\n  g:\n    prober: grpc\n")
    code = (
        "import json, sys\n"
        "from infrawatch.probe.config import load_probe_config\n"
        "from infrawatch.probe.table import preload\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    cfg = load_probe_config(name)\n"
        "    preload(m.prober for m in cfg.modules.values())\n"
        "    out[name] = 'grpc' in sys.modules\n"
        "print(json.dumps(out))\n"
    )
    tcp, grpc_file = str(tmp_path / "tcp.yml"), str(tmp_path / "grpc.yml")
    done = subprocess.run([sys.executable, "-c", code, tcp, grpc_file], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {tcp: False, grpc_file: True}


def test_metadata_values_are_masked_in_the_public_config(cfg) -> None:
    from infrawatch.core.config import to_public

    public = json.dumps(to_public(cfg.modules["ok_service"]))
    assert "s3cret-ish" not in public and "x-api-token" in public.lower()


async def test_missing_ca_file_fails_the_probe_with_reason_config(cfg, tls_servers: dict[str, HealthServer]) -> None:
    section = cfg.modules["grpc_tls"].section()
    ca = section.tls_config.ca_file
    object.__setattr__(section.tls_config, "ca_file", ca + ".gone")  # removed after the load
    try:
        r = await probe(cfg, "grpc_tls", f"localhost:{tls_servers['valid'].port}")
    finally:
        object.__setattr__(section.tls_config, "ca_file", ca)
    assert not r.success and r.failure_reason == "config"
    assert ".gone" in r.failure_message


async def test_silent_peer_times_out(cfg) -> None:
    import socket

    with socket.socket() as silent:  # accepts (the kernel's backlog) and never speaks HTTP/2
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        r = await probe(cfg, "grpc", f"127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
    assert not r.success and r.failure_reason == "timeout"
    assert metrics(r)[("probe_grpc_status_code", ())] == 4  # DEADLINE_EXCEEDED
    assert r.duration < 2
