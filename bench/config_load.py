"""Config load time and peak memory: infrawatch's probe exporter vs Debian's blackbox_exporter.

    python -m bench.config_load [--mb 5] [--runs 3] [--out bench/results/config_load.json]

Writes a blackbox-format module file of ``--mb`` megabytes (http, tcp with query_response and dns
modules as real blackbox.yml files have them), then times ``--config.check`` of both exporters on
it, each in a fresh process, timed by GNU time (wall, CPU, peak RSS), in interleaved rounds (one run
of each per round) with the ratio per round.  The load average is
printed next to the figures (the machine is shared).  Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import yaml

BLACKBOX = "prometheus-blackbox-exporter"
TIME = "/usr/bin/time"  # GNU time (Debian package time)


def module_set(i: int) -> dict:
    """Four modules of the kinds a real blackbox.yml holds (``i`` makes the names unique)."""
    return {
        f"http_2xx_{i}": {
            "prober": "http",
            "timeout": "5s",
            "http": {
                "valid_status_codes": [200, 204],
                "valid_http_versions": ["HTTP/1.1", "HTTP/2.0"],
                "method": "GET",
                "headers": {"Accept": "application/json", "X-Request-Source": f"monitoring-{i}"},
                "follow_redirects": True,
                "fail_if_ssl": False,
                "fail_if_not_ssl": True,
                "fail_if_body_not_matches_regexp": ['"status":\\s*"(ok|UP)"'],
                "fail_if_header_matches": [{"header": "X-Maintenance", "regexp": "true", "allow_missing": True}],
                "tls_config": {"insecure_skip_verify": False, "server_name": f"svc{i}.example.com"},
                "preferred_ip_protocol": "ip4",
                "ip_protocol_fallback": False,
            },
        },
        f"http_post_{i}": {
            "prober": "http",
            "timeout": "10s",
            "http": {
                "method": "POST",
                "headers": {"Content-Type": "application/json"},
                "body": '{"probe": true}',
                "valid_status_codes": [200, 201, 202],
            },
        },
        f"smtp_starttls_{i}": {
            "prober": "tcp",
            "timeout": "5s",
            "tcp": {
                "query_response": [
                    {"expect": "^220 "},
                    {"send": "EHLO prober.example.com\r"},
                    {"expect": "^250-STARTTLS"},
                    {"send": "STARTTLS\r"},
                    {"expect": "^220"},
                    {"starttls": True},
                    {"send": "QUIT\r"},
                ],
                "preferred_ip_protocol": "ip4",
            },
        },
        f"dns_soa_{i}": {
            "prober": "dns",
            "timeout": "5s",
            "dns": {
                "query_name": f"zone{i}.example.com",
                "query_type": "SOA",
                "valid_rcodes": ["NOERROR"],
                "validate_answer_rrs": {"fail_if_not_matches_regexp": [f"zone{i}\\.example\\.com\\.\\t.*\\tIN\\tSOA"]},
                "preferred_ip_protocol": "ip4",
            },
        },
    }


def write_modules(path: Path, megabytes: float) -> int:
    """Write modules until the file reaches ``megabytes``; returns the number of modules."""
    target = int(megabytes * 1_000_000)
    chunk = yaml.safe_dump({"modules": module_set(0)}, sort_keys=False)
    per_set = len(chunk)
    sets = max(1, target // per_set)
    modules: dict = {}
    for i in range(sets):
        modules.update(module_set(i))
    path.write_text(yaml.safe_dump({"modules": modules}, sort_keys=False))
    return len(modules)


def measure(argv: list[str], work: Path) -> dict:
    """Wall, CPU and peak RSS of one child, as GNU time reports them.

    Not ``wait4`` here: a child forked from this (large, after writing the file) process keeps
    this process's RSS as its ``ru_maxrss`` across exec; ``/usr/bin/time`` is a small process.
    """
    out = work / "time.txt"
    proc = subprocess.run(
        [TIME, "-f", "%e %U %S %M", "-o", str(out), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wall, user, system, rss_kib = out.read_text().split()[-4:]
    return {
        "seconds": float(wall),
        "cpu_seconds": round(float(user) + float(system), 2),
        "max_rss_mb": round(int(rss_kib) / 1024, 1),
        "exit": proc.returncode,
        "stderr": proc.stderr.decode(errors="replace")[-300:],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", default="/tmp/infrawatch-config-load")
    ap.add_argument("--out", default="bench/results/config_load.json")
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "modules.yml"
    n = write_modules(cfg, args.mb)
    size = cfg.stat().st_size
    print(f"{cfg}: {size / 1e6:.1f} MB, {n} modules; load average {os.getloadavg()}")
    contenders = {
        "infrawatch": [sys.executable, "-m", "infrawatch.probe.main", f"--config.file={cfg}", "--config.check"]
    }
    if shutil.which(BLACKBOX):
        contenders["blackbox_exporter"] = [BLACKBOX, f"--config.file={cfg}", "--config.check"]
    results: dict = {"file_bytes": size, "modules": n, "runs": {name: [] for name in contenders}, "ratios": []}
    # Rounds interleaved (one run of each contender per round), so a busy spell hits both alike.
    for rnd in range(1, args.runs + 1):
        row = {}
        for name, cmd in contenders.items():
            r = measure(cmd, work)
            r["loadavg_1m"] = round(os.getloadavg()[0], 2)
            results["runs"][name].append(r)
            row[name] = r
            print(
                f"round {rnd} {name:18} {r['seconds']:7.2f} s wall {r['cpu_seconds']:7.2f} s CPU"
                f" {r['max_rss_mb']:8.1f} MB exit {r['exit']} (load {r['loadavg_1m']})"
            )
            if r["exit"] != 0:
                print(r["stderr"])
        if len(row) == 2:
            iw, bb = row["infrawatch"], row["blackbox_exporter"]
            ratio = {
                "wall": round(iw["seconds"] / bb["seconds"], 2),
                "cpu": round(iw["cpu_seconds"] / bb["cpu_seconds"], 2),
                "rss": round(iw["max_rss_mb"] / bb["max_rss_mb"], 2),
            }
            results["ratios"].append(ratio)
            print(f"round {rnd} infrawatch / blackbox: wall {ratio['wall']}x, CPU {ratio['cpu']}x, RSS {ratio['rss']}x")
    for name, runs in results["runs"].items():
        walls = sorted(r["seconds"] for r in runs)
        cpus = sorted(r["cpu_seconds"] for r in runs)
        print(
            f"{name:18} wall min/median/max {walls[0]:.2f} / {statistics.median(walls):.2f} / {walls[-1]:.2f} s,"
            f" CPU {cpus[0]:.2f} / {statistics.median(cpus):.2f} / {cpus[-1]:.2f} s"
        )
    if results["ratios"]:
        for k in ("wall", "cpu", "rss"):
            vals = sorted(r[k] for r in results["ratios"])
            print(f"ratio {k:4} min/median/max {vals[0]} / {statistics.median(vals)} / {vals[-1]} (goal: within 2x)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
