"""The console reaches a Prometheus behind TLS (private CA) and basic auth: a real Prometheus with
``--web.config.file``; a wrong password is said on the panels, and no credential reaches the page."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import bcrypt
import trustme
import yaml

from infrawatch_dev.devstack.console import ConsoleProc
from infrawatch_dev.devstack.procs import Proc, free_port, require_binary, wait_port


def start_prometheus(tmp_path: Path) -> tuple[Proc, str, Path]:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    leaf = ca.issue_cert("127.0.0.1")
    leaf.private_key_pem.write_to_path(str(tmp_path / "prom.key"))
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "prom.crt"))
    hashed = bcrypt.hashpw(b"c0nsole-pass", bcrypt.gensalt(4)).decode()
    (tmp_path / "web.yml").write_text(
        yaml.safe_dump(
            {
                "tls_server_config": {"cert_file": str(tmp_path / "prom.crt"), "key_file": str(tmp_path / "prom.key")},
                "basic_auth_users": {"console": hashed},
            }
        )
    )
    (tmp_path / "prometheus.yml").write_text("global: {scrape_interval: 15s}\n")
    port = free_port()
    proc = Proc(
        [
            require_binary("prometheus"),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--web.config.file={tmp_path / 'web.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        tmp_path / "prometheus.log",
    )
    wait_port("127.0.0.1", port, 60, proc.proc)
    return proc, f"https://127.0.0.1:{port}", tmp_path / "ca.pem"


def page_with(tmp_path: Path, name: str, prom_url: str, ca: Path | None, password: str) -> str:
    workdir = tmp_path / name
    workdir.mkdir()
    (workdir / "password").write_text(password + "\n")
    cfg = workdir / "console.yml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "prometheus_url": prom_url,
                "alertmanager_url": f"http://127.0.0.1:{free_port()}",
                "upstream_timeout": "5s",
                **({"upstream_ca_file": str(ca)} if ca else {}),
                "prometheus_auth": {"username": "console", "password_file": str(workdir / "password")},
            }
        )
    )
    console = ConsoleProc(cfg, workdir).start()
    try:
        with urllib.request.urlopen(console.page_url, timeout=60) as r:
            return r.read().decode()
    finally:
        console.stop()


def test_prometheus_behind_tls_and_basic_auth(tmp_path: Path) -> None:
    proc, url, ca = start_prometheus(tmp_path)
    try:
        # Prometheus answered with TLS from the private CA and accepted the credentials: cards, no error
        page = page_with(tmp_path, "right", url, ca, "c0nsole-pass")
        assert "Service health unavailable" not in page and "IP reputation unavailable" not in page
        assert page.count('class="card nodata"') == 6
        assert "c0nsole-pass" not in page
        wrong = page_with(tmp_path, "wrong", url, ca, "nope")
        assert "Service health unavailable: Prometheus: HTTP 401" in wrong
        # without the private CA the certificate is not trusted
        untrusted = page_with(tmp_path, "no-ca", url, None, "c0nsole-pass")
        assert (
            "Service health unavailable: Prometheus: unreachable" in untrusted
            and "CERTIFICATE_VERIFY_FAILED" in untrusted
        )
    finally:
        proc.stop()
