"""Issue 14, tests and performance: ``make bench``'s DNSBL benchmark runs and its cycles are right
(nothing lost or wrong, also with ~10% of the answers truncated and asked again over TCP through a
real unbound).  Small numbers: this checks the benchmark and the answers, not the speed goals (those
need a quiet machine; docs/benchmarks.md has the figures)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dnsbl_benchmark_runs_and_loses_nothing() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.dnsbl_throughput", "--lookups", "300", "--rounds", "1", "--targets", "50"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for client in ("infrawatch", "dnspython", "aiodns"):  # side by side, the same lookups each
        assert re.search(rf"^{client} +median .*\(300 lookups x 1 rounds, .*errors 0\)", out, re.M), out
    # interleaved: each round runs the three clients one after the other and prints their ratio
    assert re.search(r"^round 1: infrawatch .*, dnspython .*, aiodns .*; infrawatch/aiodns [\d.]+x$", out, re.M), out
    cycles = {m.group(1).strip(): m.group(0) for m in re.finditer(r"^cycle \(([^)]*)\).*$", out, re.M)}
    assert set(cycles) == {"rbldnsd", "unbound", "unbound, ~10% TC"}, out
    for line in cycles.values():
        assert "lost 0, wrong 0" in line and "lists down 0" in line and "timeouts 0" in line, line
    tc = re.search(r"truncated (\d+) of (\d+) answers", cycles["unbound, ~10% TC"])
    assert tc and int(tc.group(1)) > 0.05 * int(tc.group(2)), cycles["unbound, ~10% TC"]
    assert "load average before:" in out and "load average after:" in out
