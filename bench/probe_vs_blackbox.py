"""Probe throughput and memory: infrawatch's probe exporter vs Debian's blackbox_exporter 0.23.

    python -m bench.probe_vs_blackbox [--seconds 10] [--connections 16] [--rounds 2] [--targets 1000]

Both exporters get the same blackbox-format module file and probe the same loopback nginx. One
native load generator (wrk) calls ``/probe`` as Prometheus would.  Each exporter is pinned to CPU 1,
wrk and nginx to CPU 0, and the exporter's CPU seconds are read from /proc before and after, so
"probes per exporter CPU-second" does not depend on how busy the other core is.  Both exporters run
at once and are measured alternately (round by round, module by module), so on a shared machine
they see the same background load; per-round figures are kept next to the totals.

Then infrawatch alone runs 1,000 scheduled targets: its startup, RSS, and /metrics latency
(p50/p99) under a single-connection wrk run.  RSS is read after that run, once it has stopped
falling for 1 s: a read taken while the 2 MB response wrk abandoned is still being written is up
to ~9 MB higher (that read and the peak, VmHWM, are reported too).  Startup is the time from
process start to the first answered ``/metrics``.  The load average is recorded at the start and
end.  Results are printed and written to bench/results/probe_vs_blackbox.json (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

from .procstat import cpu_seconds, rss_bytes, wrk

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
MODULES = {
    "http_2xx": {"prober": "http", "timeout": "5s", "http": {"preferred_ip_protocol": "ip4"}},
    "tcp_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4"}},
    # probers lane: one echo to 127.0.0.1 per probe (both exporters run as root: raw sockets)
    "icmp": {"prober": "icmp", "timeout": "5s", "icmp": {"preferred_ip_protocol": "ip4"}},
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 20) -> float:
    """Poll ``url`` until it answers; returns the seconds waited (the startup time when called
    right after starting the process)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return time.monotonic() - t0
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(url)


class Started:
    """Processes this benchmark started; stopped by PID at the end."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, argv: list[str], log: Path, cpu: str | None = None) -> subprocess.Popen:
        if cpu is not None:
            argv = ["taskset", "-c", cpu, *argv]
        p = subprocess.Popen(argv, stdout=open(log, "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
        self.procs.append(p)
        return p

    def stop(self, p: subprocess.Popen) -> None:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self) -> None:
        for p in self.procs:
            self.stop(p)


def start_nginx(started: Started, work: Path) -> int:
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(f"""
daemon off; master_process off; worker_processes 1;
pid {work}/nginx.pid; error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fcgi;
  uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
  server {{ listen 127.0.0.1:{port}; location / {{ default_type text/plain; return 200 "ok\\n"; }} }}
}}
""")
    started.start(
        ["/usr/sbin/nginx", "-p", str(work), "-c", str(conf), "-e", str(work / "nginx-error.log")],
        work / "nginx.log",
        cpu="0",
    )
    wait_http(f"http://127.0.0.1:{port}/")
    return port


def measure(url: str, pid: int, seconds: int, connections: int) -> dict[str, float]:
    wrk(url, 2, connections, cpu="0")  # warm-up
    c0 = cpu_seconds(pid)
    r = wrk(url, seconds, connections, cpu="0")
    cpu = cpu_seconds(pid) - c0
    return {
        "probes_per_second": round(r["requests_per_second"], 1),
        "probes": r["requests"],
        "errors": r["errors"],
        "exporter_cpu_seconds": round(cpu, 2),
        "probes_per_cpu_second": round(r["requests"] / cpu, 1) if cpu else 0.0,
        "rss_mb": round(rss_bytes(pid) / 2**20, 1),
    }


def check_success(url: str) -> None:
    with urllib.request.urlopen(url, timeout=10) as r:
        body = r.read().decode()
    if "probe_success 1" not in body:
        raise RuntimeError(f"probe did not succeed: {url}\n{body[:2000]}")


def _total(runs: list[dict[str, float]]) -> dict[str, float]:
    """Rounds added up: probes and CPU seconds summed, probes/s averaged."""
    probes = sum(r["probes"] for r in runs)
    cpu = sum(r["exporter_cpu_seconds"] for r in runs)
    return {
        "probes_per_second": round(sum(r["probes_per_second"] for r in runs) / len(runs), 1),
        "probes": probes,
        "errors": sum(r["errors"] for r in runs),
        "exporter_cpu_seconds": round(cpu, 2),
        "probes_per_cpu_second": round(probes / cpu, 1) if cpu else 0.0,
        "rss_mb": max(r["rss_mb"] for r in runs),
        "rounds": runs,
    }


def run(seconds: int, connections: int, targets: int, rounds: int = 2) -> dict:
    started = Started()
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "seconds": seconds,
        "connections": connections,
        "rounds": rounds,
    }
    try:
        with tempfile.TemporaryDirectory(prefix="bench-probe-") as tmp:
            work = Path(tmp)
            nginx = start_nginx(started, work)
            targets_for = {
                "http_2xx": f"http://127.0.0.1:{nginx}/",
                "tcp_connect": f"127.0.0.1:{nginx}",
                "icmp": "127.0.0.1",
            }
            bb_conf = work / "blackbox.yml"
            bb_conf.write_text(yaml.safe_dump({"modules": MODULES}))
            iw_conf = work / "infrawatch.yml"
            iw_conf.write_text(yaml.safe_dump({"allowed_targets": ["127.0.0.1"], "modules": MODULES}))
            exporters = {
                "blackbox_exporter": lambda port: [
                    "prometheus-blackbox-exporter",
                    f"--config.file={bb_conf}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=error",
                ],
                "infrawatch": lambda port: [
                    str(VENV_BIN / "infrawatch-probe-exporter"),
                    f"--config.file={iw_conf}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=error",
                ],
            }
            running: dict[str, tuple[subprocess.Popen, int]] = {}
            for name, argv in exporters.items():
                port = free_port()
                p = started.start(argv(port), work / f"{name}.log", cpu="1")
                startup = wait_http(f"http://127.0.0.1:{port}/metrics")
                results[name] = {
                    "startup_seconds": round(startup, 2),
                    "rss_idle_mb": round(rss_bytes(p.pid) / 2**20, 1),
                }
                running[name] = (p, port)
            # Alternate the exporters module by module and round by round: both see the same load.
            runs: dict[tuple[str, str], list[dict[str, float]]] = {}
            for i in range(rounds):
                for module, target in targets_for.items():
                    for name, (p, port) in running.items():
                        url = f"http://127.0.0.1:{port}/probe?module={module}&target={target}"
                        check_success(url)
                        r = measure(url, p.pid, seconds, connections)
                        runs.setdefault((name, module), []).append(r)
                        print(f"round {i} {name:18} {module:12} {r}", flush=True)
            for (name, module), rs in runs.items():
                results[name][module] = _total(rs)
            for p, _ in running.values():
                started.stop(p)
            for module in MODULES:
                a, b = results["infrawatch"][module], results["blackbox_exporter"][module]
                results.setdefault("ratio", {})[module] = {
                    "probes_per_second": round(a["probes_per_second"] / b["probes_per_second"], 2),
                    "probes_per_cpu_second": round(a["probes_per_cpu_second"] / b["probes_per_cpu_second"], 2),
                    "per_round_probes_per_cpu_second": [
                        round(x["probes_per_cpu_second"] / y["probes_per_cpu_second"], 2)
                        for x, y in zip(a["rounds"], b["rounds"], strict=True)
                    ],
                }
            results["scheduled"] = scheduled(started, work, nginx, targets)
    finally:
        started.stop_all()
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def settled_rss(pid: int, quiet: float = 1.0, limit: float = 5.0) -> int:
    """RSS once it has stopped falling for ``quiet`` seconds (at most ``limit`` seconds of waiting):
    the response wrk abandoned at the end of its run is still being written for a moment."""
    deadline = time.monotonic() + limit
    low, low_since = rss_bytes(pid), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - low_since < quiet:
        time.sleep(0.25)
        now = rss_bytes(pid)
        if now < low:
            low, low_since = now, time.monotonic()
    return low


def scheduled(started: Started, work: Path, nginx: int, n: int) -> dict:
    """RSS, startup and /metrics latency with ``n`` scheduled targets (30 s interval)."""
    conf = work / "scheduled.yml"
    conf.write_text(
        yaml.safe_dump(
            {
                "allowed_targets": ["127.0.0.1"],
                "modules": MODULES,
                "targets": [
                    {
                        "target": f"http://127.0.0.1:{nginx}/t{i}",
                        "module": "http_2xx",
                        "service": f"svc{i % 20}",
                        "interval": "30s",
                        "labels": {"team": f"team{i % 5}"},
                    }
                    for i in range(n)
                ],
            }
        )
    )
    port = free_port()
    p = started.start(
        [
            str(VENV_BIN / "infrawatch-probe-exporter"),
            f"--config.file={conf}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=error",
        ],
        work / "scheduled.log",
        cpu="1",
    )
    url = f"http://127.0.0.1:{port}/metrics"
    startup = wait_http(url)
    time.sleep(35)  # one full interval: every target probed at least once
    with urllib.request.urlopen(url) as r:
        body = r.read().decode()
    probed = sum(1 for line in body.splitlines() if line.startswith("probe_success{"))
    rss_before = rss_bytes(p.pid)
    c0 = cpu_seconds(p.pid)
    r = wrk(url, 10, 1, latency=True, cpu="0")
    # Share of its core the exporter got during the run: well below 1 means other processes ran on
    # that core (a shared machine), and their time slices show up in the p99.
    cpu_used = cpu_seconds(p.pid) - c0
    cpu_share = cpu_used / 10
    rss_at_end = rss_bytes(p.pid)  # may include the response still being written when wrk stopped
    rss_settled = settled_rss(p.pid)
    out = {
        "targets": n,
        "targets_with_results": probed,
        "startup_seconds": round(startup, 2),
        "rss_mb": round(rss_settled / 2**20, 1),
        "rss_before_metrics_load_mb": round(rss_before / 2**20, 1),
        "rss_at_end_of_metrics_load_mb": round(rss_at_end / 2**20, 1),
        "rss_peak_mb": round(rss_bytes(p.pid, "VmHWM") / 2**20, 1),
        "metrics_bytes": len(body),
        "metrics_p50_ms": round(r.get("p50_seconds", 0) * 1000, 1),
        "metrics_p99_ms": round(r.get("p99_seconds", 0) * 1000, 1),
        "metrics_requests_per_second": round(r["requests_per_second"], 1),
        "metrics_exporter_cpu_share": round(cpu_share, 2),
        "metrics_cpu_ms_per_request": round(1000 * cpu_used / r["requests"], 2) if r["requests"] else 0.0,
    }
    print(f"scheduled          {out}", flush=True)
    started.stop(p)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2, help="alternating measurement rounds per exporter and module")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "probe_vs_blackbox.json")
    args = ap.parse_args(argv)
    res = run(args.seconds, args.connections, args.targets, args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2))
    print(json.dumps(res["ratio"], indent=2))
    goals = {
        "http ratio >= 1.0 (probes/CPU-s)": res["ratio"]["http_2xx"]["probes_per_cpu_second"] >= 1.0,
        "tcp ratio >= 1.0 (probes/CPU-s)": res["ratio"]["tcp_connect"]["probes_per_cpu_second"] >= 1.0,
        f"RSS <= 60 MB with {res['scheduled']['targets']:,} targets": res["scheduled"]["rss_mb"] <= 60,
        f"/metrics p99 <= 50 ms with {res['scheduled']['targets']:,} targets": res["scheduled"]["metrics_p99_ms"] <= 50,
    }
    for goal, met in goals.items():
        print(f"{'met   ' if met else 'MISSED'} {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
