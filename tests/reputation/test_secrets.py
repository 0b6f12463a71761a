"""Issue 14: the Spamhaus DQS key appears nowhere — metrics, logs, errors, page, API, ``/probe``,
CLI output (table, --json, --nagios, --config.check), the state file, debug output (the exporter
runs with --log.level=debug) — even when a lookup fails because the name does not fit in front of
the key (the case that leaked it).  rbldnsd serves the keyed DQS zone itself, so the key is really
used for lookups."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from infrawatch.reputation.cli import main as cli_main
from support import dnsbl_zones as z
from support.rbldnsd import Rbldnsd, Zone
from support.reputation_exporter import ReputationExporterProc, all_checked

KEY = "k3ysecret9876abcd"
DQS_ZONE = f"{KEY}.dbl.dq.spamhaus.net"
# 4 labels of 57 characters + ".example": valid on its own (239 chars), too long in front of the key
LONG_DOMAIN = ".".join(["a" * 57, "b" * 57, "c" * 57, "d" * 57]) + ".example"


@pytest.fixture(scope="module")
def dqs_dns(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    zones = [Zone(DQS_ZONE, "dnset", ["dbltest.com :127.0.1.2:test", f"{z.SPAM_DOMAIN} :127.0.1.2:spam via DQS"])]
    server = Rbldnsd(Path(tmp_path_factory.mktemp("rbldnsd-dqs")), zones).start()
    yield server
    server.cleanup()


def config(tmp_path: Path, address: str) -> Path:
    (tmp_path / "dqs.key").write_text(KEY + "\n")
    text = f"""resolver: {{nameservers: ["{address}"], timeout: 500ms, retries: 1}}
interval: 10s
state_file: {tmp_path / "state.json"}
lists:
  - {{name: dbl, profile: spamhaus-dbl, dqs_key_file: "{tmp_path / "dqs.key"}"}}
targets:
  - {{domain: {z.SPAM_DOMAIN}}}
  - {{domain: {z.CLEAN_DOMAIN}}}
  - {{domain: {LONG_DOMAIN}}}
probe: {{allowed_targets: ["*.example"], max_per_minute: 60}}
"""
    path = tmp_path / "reputation.yml"
    path.write_text(text)
    return path


def test_dqs_key_appears_nowhere(tmp_path: Path, dqs_dns: Rbldnsd) -> None:
    cfg = config(tmp_path, dqs_dns.address)
    ex = ReputationExporterProc(tmp_path / "ex", cfg.read_text()).start()
    try:
        doc = ex.wait_api(all_checked)
        spam = next(t for t in doc["targets"] if t["target"] == z.SPAM_DOMAIN)
        assert spam["listings"] and spam["listings"][0]["reasons"] == ["spam via DQS"]  # the key was used
        long = next(t for t in doc["targets"] if t["target"] == LONG_DOMAIN)
        assert long["errors"] and long["errors"][0]["reason"] == "invalid_name"
        outputs = {}
        other_long = ".".join(["e" * 57, "f" * 57, "g" * 57, "h" * 57]) + ".example"  # probe-only, allowed
        for path in (
            "/metrics",
            "/config",
            "/config?format=json",
            "/",
            "/api/v1/targets",
            "/-/healthy",
            f"/probe?target={z.SPAM_DOMAIN}",
            f"/probe?target={z.SPAM_DOMAIN}&format=json",
            f"/probe?target={LONG_DOMAIN}",
            f"/probe?target={LONG_DOMAIN}&format=json",
            f"/probe?target={other_long}&format=json",
        ):
            status, body = ex.get(path)
            assert status == 200, (path, body)
            outputs[path] = body
        assert '"invalid_name"' in outputs[f"/probe?target={other_long}&format=json"]  # the failing lookup ran
        assert "spam via DQS" in outputs[f"/probe?target={z.SPAM_DOMAIN}&format=json"]  # and used the key
        ex.post("/-/reload")
        outputs["/api/v1/targets after reload"] = ex.get("/api/v1/targets")[1]
    finally:
        ex.stop()
    outputs["log"] = ex.proc.log()  # type: ignore[union-attr]  # --log.level=debug
    outputs["state file"] = (tmp_path / "state.json").read_text()

    out = io.StringIO()
    code = cli_main(["check", "--config", str(cfg), "--json", str(tmp_path / "check.json")], out=out)
    assert code == 1
    outputs["cli stdout"] = out.getvalue()
    outputs["cli --json file"] = (tmp_path / "check.json").read_text()
    proc = subprocess.run(
        [sys.executable, "-m", "infrawatch.reputation.cli", "check", "--config", str(cfg), "--json", "-", "--nagios"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    outputs["cli subprocess stdout"] = proc.stdout
    outputs["cli subprocess stderr"] = proc.stderr
    config_check = subprocess.run(
        [sys.executable, "-m", "infrawatch.reputation.main", f"--config.file={cfg}", "--config.check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    outputs["--config.check"] = config_check.stdout + config_check.stderr
    for where, text in outputs.items():
        assert KEY not in text, where
    assert "<key>.dbl.dq.spamhaus.net" in outputs["/metrics"]
    json.loads(outputs["cli --json file"])
