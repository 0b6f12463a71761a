"""``infrawatch reputation check|export`` — for a person at a terminal, no Prometheus needed.

check   look targets up now and print a table
export  write score and listing history from a Prometheus server's query_range API as CSV

Exit status of check: 0 every target clean, 1 something is listed, 2 usage or configuration
error, 3 unknown (some lookup gave no verdict and nothing is listed).  With --nagios: one
check_rbl-style line and the Nagios codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TextIO

from ..core.config import ConfigError, Context, Locator
from . import state
from .api import duration_text
from .config import Loaded, ReputationConfig, Target, build, load_config
from .engine import Engine
from .history import QUERY_ERRORS, history_rows, parse_range, write_history_csv
from .lists import PROFILES
from .names import normalize_ip, to_ascii_domain
from .score import Summary

EXIT_CLEAN, EXIT_LISTED, EXIT_USAGE, EXIT_UNKNOWN = 0, 1, 2, 3
NAGIOS = {"good": (0, "OK"), "warning": (1, "WARNING"), "critical": (2, "CRITICAL"), "unknown": (3, "UNKNOWN")}


class UsageError(Exception):
    """A bad command line (exit 2)."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Control bytes of a list's TXT reason (escape sequences!) shown as \\xNN, never sent to a terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class _Style:
    """ANSI colours on a terminal unless NO_COLOR is set (https://no-color.org/)."""

    CODES = {"good": "32", "clean": "32", "warning": "33", "critical": "31", "listed": "31", "unknown": "35"}

    def __init__(self, out: TextIO):
        isatty = getattr(out, "isatty", lambda: False)
        self.on = bool(isatty()) and not os.environ.get("NO_COLOR")

    def __call__(self, text: str, what: str) -> str:
        code = self.CODES.get(what)
        return f"\x1b[{code}m{text}\x1b[0m" if self.on and code else text


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
    seen: set[str] = set()

    def add(t: Target) -> None:
        if t.value not in seen:  # duplicates (also 192.0.2.1 and ::ffff:192.0.2.1) are checked once
            seen.add(t.value)
            targets.append(t)

    for v in values:
        try:
            if "/" in v:
                net = ipaddress.ip_network(v, strict=False)
                if net.num_addresses > max_cidr:
                    raise UsageError(f"{v} has {net.num_addresses} addresses (cap {max_cidr}); use a smaller range")
                for ip in net:
                    add(Target(str(normalize_ip(str(ip))), "ip", source=str(net)))
            else:
                add(Target(str(normalize_ip(v)), "ip", source=v))
        except ValueError:
            domain = to_ascii_domain(v)
            if domain is None:
                raise UsageError(f"{v!r} is neither an IP, a CIDR nor a domain") from None
            add(Target(domain, "domain", source=v))
    return targets


def _loaded_for_check(args: argparse.Namespace) -> tuple[Loaded, Path | None]:
    """The configuration to check with, and the exporter's state file (read for first-seen times)."""
    if args.list:
        known = {lc.name for lc in load_config(args.config).raw.lists} if args.config else set(PROFILES)
        unknown = sorted(set(args.list) - known)
        if unknown:
            raise UsageError(f"unknown list(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if args.config:
        loaded = load_config(args.config)
    else:
        from .config import ListConfig

        cfg = ReputationConfig()
        ctx = Context(Locator("<defaults>"))
        cfg.lists = [ListConfig(name=n) for n in sorted(set(args.list or PROFILES))]
        cfg.resolver.nameservers = _system_nameservers()
        loaded = build(cfg, ctx)
        ctx.raise_if_problems()
    if args.resolver:
        loaded.raw.resolver.nameservers = args.resolver
    if args.list:
        loaded.lists = [s for s in loaded.lists if s.name in args.list]
    if args.targets:
        loaded.targets = _parse_targets(args.targets, loaded.raw.max_cidr_addresses)
    state_path = loaded.base_dir / loaded.raw.state_file if args.config and loaded.raw.state_file else None
    loaded.raw.state_file = ""  # a one-off check never writes the exporter's state file
    return loaded, state_path


def _table(rows: list[list[str]], out: TextIO, style: _Style, colour_col: int) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        cells = []
        for i, (c, w) in enumerate(zip(r, widths, strict=True)):
            cell = c.ljust(w)
            if n and i == colour_col:
                cell = style(cell, c.split()[0].lower())
            cells.append(cell)
        out.write("  ".join(cells).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


async def _check(loaded: Loaded, state_path: Path | None) -> Engine:
    engine = Engine(loaded)
    if state_path is not None:
        # Listings the exporter has seen keep their first-seen time ("listed since ... for 2 h 10 min");
        # the lookups below decide everything else, and a delisted pair drops it.
        engine.results.update(state.peek(state_path, {t.value for t in loaded.targets}, {s.name for s in loaded.lists}))
    try:
        await engine.run_cycle(save=False)
    finally:
        await engine.close()
    return engine


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    try:
        loaded, state_path = _loaded_for_check(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"infrawatch reputation check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not loaded.targets:
        print("infrawatch reputation check: no targets (give TARGET... or targets in --config)", file=sys.stderr)
        return EXIT_USAGE
    engine = asyncio.run(_check(loaded, state_path))
    now = time.time()
    listed_any = unknown_any = False
    rows = [["TARGET", "LIST", "RESULT", "CODES", "SINCE", "REASON", "DELISTING"]]
    for t in engine.targets:
        for spec in engine.specs:
            if not spec.applies(t):
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
                        _since(r.listed_since, now),
                        terminal_safe(" | ".join(r.reasons))[:100],
                        spec.delist_url,
                    ]
                )
            elif r.status == "clean" and h.up:
                rows.append([t.value, spec.name, "clean", "", "", "", ""])
            else:
                unknown_any = True
                why = r.reason or h.reason_code
                rows.append(
                    [
                        t.value,
                        spec.name,
                        "UNKNOWN" + (f" {why}" if why else ""),
                        ",".join(r.codes),
                        "",
                        terminal_safe(r.error or h.reason)[:100],
                        "",
                    ]
                )
    summaries = engine.summaries()
    code = EXIT_LISTED if listed_any else (EXIT_UNKNOWN if unknown_any else EXIT_CLEAN)
    if args.json:
        from .api import targets_document

        text = json.dumps(targets_document(engine), indent=2)
        if args.json == "-":
            out.write(text + "\n")
            return _nagios(summaries, None) if args.nagios else code
        Path(args.json).write_text(text)
    if args.nagios:
        return _nagios(summaries, out)
    style = _Style(out)
    _table(rows, out, style, colour_col=2)
    out.write("\n")
    for s in summaries:
        score = "-" if s.score is None else f"{s.score:.0f}"
        out.write(
            f"{s.target.value}: status {style(s.status, s.status)}, score {score}, "
            f"{s.evidence}/{s.applicable} lists answered\n"
        )
    return code


def _since(listed_since: float | None, now: float) -> str:
    """``2026-12-03 14:30Z (for 2 h 10 min)``; ``now`` for a listing first seen by this check."""
    if listed_since is None or now - listed_since < 60:
        return "now"
    at = time.strftime("%Y-%m-%d %H:%MZ", time.gmtime(listed_since))
    return f"{at} (for {duration_text(now - listed_since)})"


def _nagios(summaries: list[Summary], out: TextIO | None) -> int:
    """check_rbl-style: the worst state first, then every listing; perfdata after '|'."""
    statuses = {s.status for s in summaries}
    worst = next(st for st in ("critical", "warning", "unknown", "good") if st in statuses or st == "good")
    exit_code, word = NAGIOS[worst]
    listed = [f"{s.target.value} on {', '.join(s.listed_on)}" for s in summaries if s.listed_on]
    unknown = [s.target.value for s in summaries if s.status == "unknown"]
    if listed:
        text = "listed: " + "; ".join(listed)
    elif unknown:
        text = f"no verdict for {', '.join(unknown)}"
    else:
        text = f"{len(summaries)} target(s) not listed"
    if unknown and listed:
        text += f"; no verdict for {', '.join(unknown)}"
    perf = f"listed={sum(1 for s in summaries if s.listed_on)};;;0;{len(summaries)} unknown={len(unknown)};;;0"
    if out is not None:
        out.write(f"RBL {word} - {terminal_safe(text)} | {perf}\n")
    return exit_code


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    try:
        since, step = parse_range(args.since, args.step)
    except ValueError as exc:
        print(f"infrawatch reputation export: {exc}", file=sys.stderr)
        return 2
    try:
        rows = history_rows(args.prometheus, args.target or [], since, step)
    except QUERY_ERRORS as exc:
        print(f"infrawatch reputation export: cannot query {args.prometheus}: {exc}", file=sys.stderr)
        return 2
    dest = open(args.output, "w", newline="") if args.output else out  # noqa: SIM115
    try:
        write_history_csv(rows, dest)
    finally:
        if dest is not out:
            dest.close()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="infrawatch reputation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="look targets up now (exit 0 clean, 1 listed, 2 usage, 3 unknown)")
    c.add_argument("targets", nargs="*", metavar="TARGET", help="IP, CIDR or domain (default: the config's)")
    c.add_argument("--config", help="reputation exporter config: lists, resolver, scoring")
    c.add_argument("--resolver", action="append", metavar="HOST:PORT", help="nameserver to use (repeatable)")
    c.add_argument("--list", action="append", metavar="NAME", help="only these lists (repeatable)")
    c.add_argument("--json", metavar="FILE", help="also write the /api/v1/targets document to FILE ('-': stdout only)")
    c.add_argument("--nagios", action="store_true", help="one check_rbl-style line, Nagios exit codes (0/1/2/3)")
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
