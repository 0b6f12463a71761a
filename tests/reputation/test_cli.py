"""``infrawatch reputation check|export`` against a real rbldnsd and a real Prometheus."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from infrawatch.reputation.cli import main as cli_main
from support import dnsbl_zones as z
from support.prometheus import Prometheus
from support.rbldnsd import Rbldnsd
from support.reputation_exporter import ReputationExporterProc, all_checked


@pytest.fixture
def config(tmp_path: Path, dnsbl: Rbldnsd) -> Path:
    p = tmp_path / "reputation.yml"
    p.write_text(z.config_yaml(dnsbl.address))
    return p


def run_check(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return cli_main(["check", *args], out=out), out.getvalue()


def test_check_clean_exits_0(config: Path) -> None:
    code, out = run_check(z.CLEAN_IP, z.CLEAN_DOMAIN, "--config", str(config))
    assert code == 0, out
    assert "192.0.2.1: status good, score 100, 2/2 lists answered" in out
    assert "clean.example: status good, score 100, 1/1 lists answered" in out


def test_check_listed_exits_1_with_reason_and_delisting(config: Path, tmp_path: Path) -> None:
    code, out = run_check(z.SBL_IP, z.CLEAN_IP, "--config", str(config), "--json", str(tmp_path / "r.json"))
    assert code == 1, out
    line = next(ln for ln in out.splitlines() if ln.startswith(z.SBL_IP) and " zen " in ln)
    assert "LISTED sbl" in line and "127.0.0.2" in line
    assert "Listed by SBL" in line and "https://check.spamhaus.org/" in line
    assert "status critical, score 0" in out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert {t["target"] for t in doc["targets"]} == {z.SBL_IP, z.CLEAN_IP}


def test_check_error_code_exits_3_unknown(config: Path) -> None:
    code, out = run_check(z.ERR_254, "--config", str(config))
    assert code == 3, out  # issue 14: 3 = no verdict; 2 is kept for usage and configuration errors
    assert "UNKNOWN blocked_resolver" in out and "127.255.255.254" in out
    assert "status unknown" in out


def test_check_cidr_and_v6_and_list_filter(config: Path) -> None:
    code, out = run_check("192.0.2.8/30", z.CSS_V6, "--config", str(config), "--list", "zen")
    assert code == 1
    assert "barracuda" not in out
    assert f"{z.SBL_IP}: status critical" in out and "192.0.2.8: status good" in out
    assert f"{z.CSS_V6}  zen" in out.replace("   ", "  ") or "LISTED css" in out


def test_check_without_config_uses_builtin_profiles_with_given_resolver(dnsbl: Rbldnsd) -> None:
    # The built-in zones do not exist on the test server: every list fails its test points.
    code, out = run_check(z.CLEAN_IP, "--resolver", dnsbl.address, "--list", "spamhaus-zen")
    assert code == 3
    assert "UNKNOWN" in out and "spamhaus-zen" in out


def test_check_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("lists:\n  - {name: x, zone: dnsbl.sorbs.net, kind: ip}\n")
    code, _ = run_check(z.CLEAN_IP, "--config", str(bad))
    assert code == 2
    assert "closed" in capsys.readouterr().err


def test_umbrella_command_dispatches(config: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "infrawatch.cli", "reputation", "check", z.SBL_IP, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1, r.stderr
    assert "LISTED" in r.stdout


def test_export_history_from_prometheus(
    tmp_path: Path, dnsbl: Rbldnsd, prometheus_factory: Callable[..., Prometheus]
) -> None:
    ex = ReputationExporterProc(tmp_path / "ex", z.config_yaml(dnsbl.address)).start()
    try:
        ex.wait_api(all_checked)
        prom = prometheus_factory(
            {
                "scrape_configs": [
                    {"job_name": "reputation", "static_configs": [{"targets": [ex.url.split("//", 1)[1]]}]}
                ]
            }
        )
        prom.wait_for(f'count_over_time(reputation_score{{target="{z.SBL_IP}"}}[1m]) >= 3')
        out = tmp_path / "history.csv"
        code = cli_main(
            [
                "export",
                "--prometheus",
                prom.url,
                "--since",
                "5m",
                "--step",
                "1s",
                "--target",
                z.SBL_IP,
                "--target",
                z.CLEAN_IP,
                "-o",
                str(out),
            ]
        )
        assert code == 0
        rows = list(csv.DictReader(out.open()))
        assert rows and set(rows[0]) == {"timestamp", "target", "score", "status", "listed_on"}
        assert {r["target"] for r in rows} == {z.SBL_IP, z.CLEAN_IP}
        sbl = [r for r in rows if r["target"] == z.SBL_IP]
        assert len(sbl) >= 3
        assert all(r["score"] == "0" and r["status"] == "critical" and r["listed_on"] == "barracuda;zen" for r in sbl)
        assert all(r["listed_on"] == "" and r["status"] == "good" for r in rows if r["target"] == z.CLEAN_IP)
        # a range of more points than Prometheus answers in one query (11,000): split, nothing missing
        fine = tmp_path / "fine.csv"
        # (5 min at 10 ms = 30,000 points: one query would be refused, and the old code exited 2)
        assert cli_main(["export", "--prometheus", prom.url, "--since", "5m", "--step", "10ms", "-o", str(fine)]) == 0
        fine_rows = [r for r in csv.DictReader(fine.open()) if r["target"] == z.SBL_IP]
        assert len(fine_rows) >= 100 and all(r["status"] == "critical" for r in fine_rows)
        # unreachable Prometheus: exit 2 with a message
        assert cli_main(["export", "--prometheus", "http://127.0.0.1:1", "--since", "1h"]) == 2
    finally:
        ex.stop()


def test_check_exit_codes_nagios_and_json_stdout(config: Path) -> None:
    for target, want, word in [(z.CLEAN_IP, 0, "OK"), (z.SBL_IP, 2, "CRITICAL"), (z.ERR_254, 3, "UNKNOWN")]:
        code, out = run_check(target, "--config", str(config), "--nagios")
        assert code == want, out
        assert out.startswith(f"RBL {word} - ") and out.count("\n") == 1 and "| listed=" in out
    code, out = run_check(z.SBL_IP, "--config", str(config), "--nagios", "--list", "barracuda")
    assert code == 2 and "RBL CRITICAL - listed: 192.0.2.10 on barracuda" in out
    code, out = run_check(z.SBL_IP, z.CLEAN_IP, "--config", str(config), "--json", "-")
    assert code == 1
    doc = json.loads(out)  # stdout holds the JSON document only
    assert {t["target"] for t in doc["targets"]} == {z.SBL_IP, z.CLEAN_IP}


def test_check_duplicates_once_unknown_list_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_check(z.SBL_IP, z.SBL_IP, f"::ffff:{z.SBL_IP}", "--config", str(config), "--list", "zen")
    assert code == 1
    assert out.count(f"{z.SBL_IP}: status") == 1
    for extra in (["--config", str(config)], []):
        code, _ = run_check(z.CLEAN_IP, *extra, "--list", "no-such-list")
        assert code == 2
        assert "unknown list(s) no-such-list" in capsys.readouterr().err


def test_check_idn_domain(tmp_path: Path, dnsbl: Rbldnsd) -> None:
    from infrawatch.reputation.cli import to_ascii_domain

    assert to_ascii_domain("bücher.example") == "xn--bcher-kva.example"
    assert to_ascii_domain("faß.example") == "xn--fa-hia.example"  # IDNA 2008: ß is kept, not "ss"
    assert to_ascii_domain("-bad-.example") is None
    cfg = tmp_path / "r.yml"
    cfg.write_text(z.config_yaml(dnsbl.address))
    code, out = run_check("Bücher.example", "--config", str(cfg))
    assert code == 0, out
    assert "xn--bcher-kva.example: status good" in out


def test_control_bytes_in_txt_are_escaped_and_colours_follow_tty(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from support.rbldnsd import Zone

    evil = f"{z.SBL_IP} :127.0.0.2:evil \x1b]0;owned\x07 text"
    zone = Zone("esc.test", "ip4set", [":127.0.0.2:test", "127.0.0.2", evil])
    server = Rbldnsd(tmp_path / "dns", [zone]).start()
    try:
        cfg = tmp_path / "r.yml"
        cfg.write_text(z.config_yaml(server.address, "\n  - {name: esc, profile: spamhaus-zen, zone: esc.test}\n", ""))

        class Tty(io.StringIO):
            def isatty(self) -> bool:
                return True

        monkeypatch.delenv("NO_COLOR", raising=False)
        out = Tty()
        assert cli_main(["check", z.SBL_IP, "--config", str(cfg)], out=out) == 1
        text = out.getvalue()
        assert "\\x1b]0;owned\\x07" in text  # shown escaped
        assert "\x1b]" not in text and "\x07" not in text  # never sent raw
        assert "\x1b[31m" in text  # listed in red on a terminal
        monkeypatch.setenv("NO_COLOR", "1")
        out = Tty()
        cli_main(["check", z.SBL_IP, "--config", str(cfg)], out=out)
        assert "\x1b[" not in out.getvalue()
    finally:
        server.cleanup()


def test_check_shows_listed_since_from_the_exporters_state_file(tmp_path: Path, dnsbl: Rbldnsd) -> None:
    """Issue 14: "listed since" (and "for 2 h 10 min") in the CLI too.  A one-off check has no
    history of its own: it reads the exporter's state file (never writes or moves it)."""
    import asyncio
    import time

    from infrawatch.reputation.config import load_config
    from infrawatch.reputation.engine import Engine

    state = tmp_path / "state.json"
    cfg = tmp_path / "reputation.yml"
    cfg.write_text(z.config_yaml(dnsbl.address, extra=f"state_file: {state}\n"))

    async def exporter_cycle() -> None:  # what the exporter does: a cycle against rbldnsd, state saved
        e = Engine(load_config(cfg))
        try:
            await e.run_cycle()
        finally:
            await e.close()

    asyncio.run(exporter_cycle())
    doc = json.loads(state.read_text())
    seen = time.time() - 7830  # the exporter first saw the listings 2 h 10 min (and 30 s) ago
    for r in doc["results"]:
        if r["status"] == "listed":
            r["listed_since"] = seen
        elif r["target"] == z.CLEAN_IP:
            r.update(status="listed", codes=["127.0.0.2"], listed_since=seen)  # listed then, delisted now
    state.write_text(json.dumps(doc))
    before = state.read_bytes()

    code, out = run_check(z.SBL_IP, z.CLEAN_IP, "--config", str(cfg))
    assert code == 1, out
    assert out.splitlines()[0].split() == ["TARGET", "LIST", "RESULT", "CODES", "SINCE", "REASON", "DELISTING"]
    line = next(ln for ln in out.splitlines() if ln.startswith(z.SBL_IP) and " zen " in ln)
    at = time.strftime("%Y-%m-%d %H:%MZ", time.gmtime(seen))
    assert f"{at} (for 2 h 10 min)" in line, line
    clean = next(ln for ln in out.splitlines() if ln.startswith(z.CLEAN_IP + " ") and " zen " in ln)
    assert "clean" in clean and "for " not in clean  # delisting clears it
    code, out = run_check(z.SBL_IP, "--config", str(cfg), "--json", "-")
    zen = next(li for li in json.loads(out)["targets"][0]["listings"] if li["list"] == "zen")
    assert 7830 <= zen["listed_for_seconds"] < 7900
    assert state.read_bytes() == before  # read only

    # without a state file (or with an unusable one, left where it is): first seen now
    state.write_text("{not json")
    code, out = run_check(z.SBL_IP, "--config", str(cfg), "--list", "zen")
    line = next(ln for ln in out.splitlines() if ln.startswith(z.SBL_IP) and " zen " in ln)
    assert code == 1 and " now " in line
    assert state.read_text() == "{not json" and not list(tmp_path.glob("state.json.bad-*"))


def test_duplicate_targets_are_asked_once(tmp_path: Path) -> None:
    """Checked once, not only printed once: the fault-injecting server counts the queries it got."""
    import asyncio
    import threading

    from support.faultdns import FaultDNS, Rule

    q = "10.2.0.192.zen.test"
    rules = {"2.0.0.127.zen.test": Rule(a=["127.0.0.2"]), q: Rule(a=["127.0.0.2"], txt=["listed"])}
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(FaultDNS(rules).start(), loop).result(10)
    try:
        cfg = tmp_path / "r.yml"
        cfg.write_text(z.config_yaml(server.address, "\n  - {name: zen, profile: spamhaus-zen, zone: zen.test}\n", ""))
        code, out = run_check(
            z.SBL_IP, z.SBL_IP, f"::ffff:{z.SBL_IP}", f"::FFFF:{z.SBL_IP}", "--config", str(cfg), "--json", "-"
        )
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
    assert code == 1
    assert [t["target"] for t in json.loads(out)["targets"]] == [z.SBL_IP]
    assert [(t, n, ty) for t, n, ty in server.queries if n == q] == [("udp", q, "A"), ("udp", q, "TXT")]
