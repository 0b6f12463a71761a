"""``infrawatch-probe-exporter``: the service-probe exporter's command line."""

from __future__ import annotations

import argparse

from ..core.server import common_flags, run
from .exporter import ProbeExporter
from .targets import parse_shard


def _shard(text: str) -> tuple[int, int]:
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _offset(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = common_flags(
        "infrawatch-probe-exporter",
        "Service-probe exporter: blackbox-compatible /probe and scheduled targets.",
        default_config="probe.yml",
        default_listen=":9516",
    )
    p.add_argument(
        "--shard",
        type=_shard,
        default=None,
        metavar="i/N",
        help="probe only the scheduled targets of shard i of N (0 <= i < N), by consistent hashing",
    )
    p.add_argument(
        "--timeout-offset",
        dest="timeout_offset",
        type=_offset,
        default=0.5,
        help="seconds subtracted from X-Prometheus-Scrape-Timeout-Seconds for /probe (default 0.5)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    return run(ProbeExporter, argv, build_parser())


if __name__ == "__main__":
    raise SystemExit(main())
