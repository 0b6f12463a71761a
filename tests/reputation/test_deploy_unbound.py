"""The docker-compose stack runs Debian's unbound next to the reputation exporter (issue 14): the
shipped unbound.conf passes the real ``unbound-checkconf``, and the exporter asks it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from support.procs import require_binary

ROOT = Path(__file__).resolve().parents[2]
ROOT_DS = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"


def test_shipped_unbound_conf_passes_unbound_checkconf(tmp_path: Path) -> None:
    conf = (ROOT / "deploy/compose/unbound/unbound.conf").read_text()
    # The image installs dns-root-data for the trust anchor; here the same root DS goes to a temp file.
    anchor = tmp_path / "root.key"
    anchor.write_text(ROOT_DS)
    assert '"/usr/share/dns/root.key"' in conf
    (tmp_path / "unbound.conf").write_text(conf.replace("/usr/share/dns/root.key", str(anchor)))
    r = subprocess.run(
        [require_binary("unbound-checkconf"), str(tmp_path / "unbound.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_compose_exporter_asks_the_stacks_unbound() -> None:
    stack = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    ub = stack["services"]["unbound"]
    assert ub["network_mode"] == "service:reputation-exporter"
    assert (ROOT / ub["build"] / "Dockerfile").read_text().count("unbound") >= 2
    cfg = yaml.safe_load((ROOT / "deploy/compose/reputation.yml").read_text())
    assert cfg["resolver"]["nameservers"] == ["127.0.0.1:53"]
