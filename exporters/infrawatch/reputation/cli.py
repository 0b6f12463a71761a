"""``infrawatch reputation check|export`` — for a person at a terminal, no Prometheus needed.

check   look targets up now and print a table; exit 0 clean, 1 listed, 2 unknown or error
export  write score and listing history from a Prometheus server's query_range API as CSV
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import ipaddress
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any, TextIO

from ..core.config import ConfigError, Context, Duration, Locator
from .config import Loaded, ReputationConfig, Target, build, load_config
from .engine import Engine
from .lists import PROFILES


def _system_nameservers() -> list[str]:
    out = []
    try:
        for line in Path("/etc/resolv.conf").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                host = parts[1]
                out.append(f"[{host}]:53" if ":" in host else f"{host}:53")
    except OSError:
        pass
    return out or ["127.0.0.1:53"]


def _parse_targets(values: list[str], max_cidr: int) -> list[Target]:
    targets: list[Target] = []
    for v in values:
        try:
            if "/" in v:
                net = ipaddress.ip_network(v, strict=False)
                if net.num_addresses > max_cidr:
                    raise SystemExit(
                        f"infrawatch reputation: {v} has {net.num_addresses} addresses "
                        f"(cap {max_cidr}); use a smaller range"
                    )
                targets += [Target(str(ip), "ip", source=str(net)) for ip in net]
            else:
                targets.append(Target(str(ipaddress.ip_address(v)), "ip", source=v))
        except ValueError:
            if not re.fullmatch(r"[A-Za-z0-9_.-]+\.[A-Za-z]{2,63}\.?", v):
                raise SystemExit(f"infrawatch reputation: {v!r} is neither an IP, a CIDR nor a domain") from None
            targets.append(Target(v.lower().rstrip("."), "domain", source=v))
    return targets


def _loaded_for_check(args: argparse.Namespace) -> Loaded:
    if args.config:
        loaded = load_config(args.config)
    else:
        cfg = ReputationConfig()
        ctx = Context(Locator("<defaults>"))
        cfg.lists = []
        from .config import ListConfig

        cfg.lists = [ListConfig(name=n) for n in (args.list or sorted(PROFILES))]
        cfg.resolver.nameservers = _system_nameservers()
        loaded = build(cfg, ctx)
        ctx.raise_if_problems()
    if args.resolver:
        loaded.raw.resolver.nameservers = args.resolver
    if args.list and args.config:
        unknown = set(args.list) - {s.name for s in loaded.lists}
        if unknown:
            raise SystemExit(f"infrawatch reputation: unknown list(s) {', '.join(sorted(unknown))}")
        loaded.lists = [s for s in loaded.lists if s.name in args.list]
    if args.targets:
        loaded.targets = _parse_targets(args.targets, loaded.raw.max_cidr_addresses)
    loaded.raw.state_file = ""  # a one-off check never touches the exporter's state file
    return loaded


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


async def _check(loaded: Loaded) -> Engine:
    engine = Engine(loaded)
    try:
        await engine.run_cycle(save=False)
    finally:
        await engine.close()
    return engine


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    try:
        loaded = _loaded_for_check(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not loaded.targets:
        print("infrawatch reputation check: no targets (give TARGET... or targets in --config)", file=sys.stderr)
        return 2
    engine = asyncio.run(_check(loaded))
    listed_any = unknown_any = False
    rows = [["TARGET", "LIST", "RESULT", "CODES", "REASON", "DELISTING"]]
    for t in engine.targets:
        for spec in engine.specs:
            if spec.kind != t.kind:
                continue
            r = engine.results.get((t.value, spec.name))
            h = engine.health.get(spec.name)
            if r is None or h is None:
                continue
            if r.status == "listed" and h.up:
                listed_any = True
                rows.append(
                    [
                        t.value,
                        spec.name,
                        "LISTED " + ",".join(r.categories),
                        ",".join(r.codes),
                        " | ".join(r.reasons)[:100],
                        spec.delist_url,
                    ]
                )
            elif r.status == "clean" and h.up:
                rows.append([t.value, spec.name, "clean", "", "", ""])
            else:
                unknown_any = True
                rows.append([t.value, spec.name, "UNKNOWN", ",".join(r.codes), (r.error or h.reason)[:100], ""])
    _table(rows, out)
    out.write("\n")
    for s in engine.summaries():
        score = "-" if s.score is None else f"{s.score:.0f}"
        out.write(f"{s.target.value}: status {s.status}, score {score}, {s.evidence}/{s.applicable} lists answered\n")
    if args.json:
        from .api import targets_document

        Path(args.json).write_text(json.dumps(targets_document(engine), indent=2))
    return 1 if listed_any else (2 if unknown_any else 0)


def _query_range(base: str, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"})
    try:
        with urllib.request.urlopen(f"{base.rstrip('/')}/api/v1/query_range?{params}", timeout=60) as r:
            body = json.load(r)
    except urllib.error.HTTPError as exc:
        try:
            body = json.load(exc)
        except ValueError:
            raise RuntimeError(f"HTTP {exc.code}") from None
    if body.get("status") != "success":
        raise RuntimeError(f"Prometheus error: {body.get('error')}")
    return body["data"]["result"]


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    try:
        since = float(Duration.parse(args.since))
        step = float(Duration.parse(args.step)) if args.step else max(60.0, since / 10000)
    except ValueError as exc:
        print(f"infrawatch reputation export: {exc}", file=sys.stderr)
        return 2
    end = time.time()
    start = end - since
    sel = ""
    if args.target:
        # a PromQL raw (backtick) string: the regex escapes pass through unchanged
        sel = "{target=~`" + "|".join(re.escape(t.replace("`", "")) for t in args.target) + "`}"
    rows: dict[tuple[float, str], dict[str, Any]] = defaultdict(lambda: {"score": "", "status": "", "listed": []})
    try:
        for s in _query_range(args.prometheus, f"reputation_score{sel}", start, end, step):
            for ts, v in s["values"]:
                rows[(float(ts), s["metric"].get("target", ""))]["score"] = v
        for s in _query_range(args.prometheus, f"reputation_status{sel} == 1", start, end, step):
            for ts, _v in s["values"]:
                rows[(float(ts), s["metric"].get("target", ""))]["status"] = s["metric"].get("status", "")
        for s in _query_range(args.prometheus, f"reputation_listed{sel} == 1", start, end, step):
            for ts, _v in s["values"]:
                rows[(float(ts), s["metric"].get("target", ""))]["listed"].append(s["metric"].get("list", ""))
    except (OSError, urllib.error.URLError, RuntimeError, ValueError) as exc:
        print(f"infrawatch reputation export: cannot query {args.prometheus}: {exc}", file=sys.stderr)
        return 2
    dest = open(args.output, "w", newline="") if args.output else out  # noqa: SIM115
    try:
        w = csv.writer(dest)
        w.writerow(["timestamp", "target", "score", "status", "listed_on"])
        for (ts, target), row in sorted(rows.items()):
            w.writerow(
                [
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)),
                    target,
                    row["score"],
                    row["status"],
                    ";".join(sorted(row["listed"])),
                ]
            )
    finally:
        if dest is not out:
            dest.close()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="infrawatch reputation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="look targets up now (exit 0 clean, 1 listed, 2 unknown/error)")
    c.add_argument("targets", nargs="*", metavar="TARGET", help="IP, CIDR or domain (default: the config's)")
    c.add_argument("--config", help="reputation exporter config: lists, resolver, scoring")
    c.add_argument("--resolver", action="append", metavar="HOST:PORT", help="nameserver to use (repeatable)")
    c.add_argument("--list", action="append", metavar="NAME", help="only these lists (repeatable)")
    c.add_argument("--json", metavar="FILE", help="also write the /api/v1/targets document to FILE")
    e = sub.add_parser("export", help="score and listing history from Prometheus as CSV")
    e.add_argument("--prometheus", required=True, metavar="URL", help="Prometheus base URL")
    e.add_argument("--since", default="90d", help="how far back (default 90d)")
    e.add_argument("--step", default="", help="resolution (default: since/10000, at least 1m)")
    e.add_argument("--target", action="append", help="only these targets (repeatable)")
    e.add_argument("--output", "-o", help="CSV file (default: standard output)")
    return p


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    out = out or sys.stdout
    if args.cmd == "check":
        return cmd_check(args, out)
    return cmd_export(args, out)


if __name__ == "__main__":
    raise SystemExit(main())
