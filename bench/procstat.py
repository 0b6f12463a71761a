"""Process measurements for benchmarks: CPU seconds and memory of a PID, from /proc."""

from __future__ import annotations

import os
import re
import subprocess

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (threads included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def wrk(
    url: str, seconds: int, connections: int, threads: int = 1, latency: bool = False, cpu: str | None = None
) -> dict[str, float]:
    """Run wrk and return requests/s, errors and (with ``latency``) p50/p99 in seconds."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    if latency:
        argv.append("--latency")
    argv.append(url)
    if cpu is not None:
        argv = ["taskset", "-c", cpu, *argv]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    res: dict[str, float] = {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = float(m.group(1)) if m else 0.0
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["errors"] = float(errs.group(1) if errs else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    if latency:
        for q in ("50", "99"):
            m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
            if m:
                unit = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
                res[f"p{q}_seconds"] = float(m.group(1)) * unit
    res["raw"] = out  # type: ignore[assignment]
    return res
