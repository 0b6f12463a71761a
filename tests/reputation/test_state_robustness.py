"""Issue 14 (robustness) and issue 15 item 9 (state writes): an unusable state file never stops the
exporter, crash leftovers are cleaned, a failed write is a metric and shows on the page, and a
nameserver that is not an address fails ``--config.check``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infrawatch.reputation.config import load_config_text
from infrawatch.reputation.engine import Engine
from support import dnsbl_zones as z
from support.rbldnsd import Rbldnsd
from support.reputation_exporter import ReputationExporterProc, all_checked

from .test_exporter import sample

ZEN = "\n  - {name: zen, profile: spamhaus-zen, zone: zen.test}\n"
TARGETS = f"\n  - {{ip: '{z.SBL_IP}'}}\n  - {{ip: '{z.CLEAN_IP}'}}\n"

BAD_STATES = {
    "a list": "[]",
    "a string": '"state"',
    "null": "null",
    "results not a list": '{"version": 1, "results": {}}',
    "result not an object": '{"version": 1, "results": [1]}',
    "result without status": f'{{"version": 1, "results": [{{"target": "{z.SBL_IP}", "list": "zen"}}]}}',
    "checked_at a string": (
        f'{{"version": 1, "results": [{{"target": "{z.SBL_IP}", "list": "zen", "status": "listed", '
        '"checked_at": "yesterday"}]}'
    ),
    "unknown status": (
        f'{{"version": 1, "results": [{{"target": "{z.SBL_IP}", "list": "zen", "status": "good", "checked_at": 1}}]}}'
    ),
    "codes not a list": (
        f'{{"version": 1, "results": [{{"target": "{z.SBL_IP}", "list": "zen", "status": "listed", '
        '"checked_at": 1, "codes": 7}]}'
    ),
    "lists not an object": '{"version": 1, "lists": []}',
    "up a string": '{"version": 1, "lists": {"zen": {"up": "yes", "checked_at": 1}}}',
    "wrong version": '{"version": 99}',
    "not JSON": "{not json",
    "deep nesting": "[" * 100_000 + "]" * 100_000,
}


def config(address: str, state: Path) -> str:
    return z.config_yaml(address, ZEN, TARGETS, f"state_file: {state}\n")


@pytest.mark.parametrize("content", list(BAD_STATES.values()), ids=list(BAD_STATES))
def test_unusable_state_file_starts_empty_and_is_kept_aside(tmp_path: Path, content: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    e = Engine(load_config_text(config("127.0.0.1:53", state)))
    assert e.restore() == 0
    assert e.results == {} and e.health == {}
    assert not state.exists()
    kept = list(tmp_path.glob("state.json.bad-*"))
    assert len(kept) == 1 and kept[0].read_text() == content


def test_invalid_utf8_state_file_is_kept_aside(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(b"\xff\xfe{")
    e = Engine(load_config_text(config("127.0.0.1:53", state)))
    assert e.restore() == 0 and list(tmp_path.glob("state.json.bad-*"))


def test_exporter_starts_with_a_wrong_shape_state_file(tmp_path: Path, dnsbl: Rbldnsd) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"version": 1, "results": [1, 2, 3]}')
    ex = ReputationExporterProc(tmp_path, config(dnsbl.address, state)).start()
    try:
        doc = ex.wait_api(all_checked)
        assert next(t for t in doc["targets"] if t["target"] == z.SBL_IP)["status"] == "critical"
        assert ex.get("/-/ready")[0] == 200
    finally:
        ex.stop()
    log = ex.proc.log()  # type: ignore[union-attr]
    assert "ignoring unusable state file" in log and "results[0] is not an object" in log
    assert list(tmp_path.glob("state.json.bad-*"))
    assert json.loads(state.read_text())["version"] == 1  # a good file was written afresh


def test_temporary_files_of_interrupted_writes_are_removed_at_start(tmp_path: Path, dnsbl: Rbldnsd) -> None:
    """Issue 15 item 9: what kill -9 during a write leaves behind (mkstemp files next to the state
    file) is removed when the exporter starts; other files in the folder are left alone."""
    state = tmp_path / "state.json"
    leftovers = [tmp_path / f"state.json.{i}abc.tmp" for i in range(6)]
    for p in leftovers:
        p.write_text("{partial")
    other = tmp_path / "other.json.x.tmp"  # not ours
    other.write_text("")
    ex = ReputationExporterProc(tmp_path / "ex", config(dnsbl.address, state)).start()
    try:
        ex.wait_api(all_checked)
    finally:
        ex.stop()
    assert not any(p.exists() for p in leftovers)
    assert other.exists() and state.exists()
    assert "removed temporary state files" in ex.proc.log()  # type: ignore[union-attr]


def test_state_write_failure_is_a_metric_and_on_the_page(tmp_path: Path, dnsbl: Rbldnsd) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state directory should be")
    ex = ReputationExporterProc(tmp_path, config(dnsbl.address, blocker / "state.json")).start()
    try:
        # Results are served before the write (in an executor) finishes: wait for its outcome.
        ex.wait_api(lambda d: all_checked(d) and d["state_file"]["write_failures"] >= 1)
        metrics = ex.get("/metrics")[1]
        assert (sample(metrics, "reputation_state_write_failures_total") or 0) >= 1
        assert sample(metrics, "reputation_state_last_write_successful") == 0
        page = ex.get("/")[1]
        assert 'id="state-file"' in page and "State file not written" in page
        assert ex.api()["state_file"]["last_write_ok"] is False
    finally:
        ex.stop()


@pytest.mark.parametrize("ns", ["not-an-address", "resolver.example:53", "192.0.2.1:99999"])
def test_nameserver_must_be_an_address(tmp_path: Path, ns: str) -> None:
    cfg = tmp_path / "reputation.yml"
    cfg.write_text(z.config_yaml(ns, ZEN, TARGETS))
    proc = subprocess.run(
        [sys.executable, "-m", "infrawatch.reputation.main", f"--config.file={cfg}", "--config.check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "reputation.yml:2: resolver.nameservers[0]: invalid nameserver" in proc.stdout + proc.stderr
