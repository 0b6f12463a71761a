"""``infrawatch-probe-exporter``: the service-probe exporter's command line."""

from __future__ import annotations

import argparse
import ctypes

from ..core.config import parse_duration_flag
from ..core.server import common_flags, run
from .allowlist import AllowList
from .exporter import ProbeExporter
from .targets import parse_shard


def _shard(text: str) -> tuple[int, int]:
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _allowed(text: str) -> list[str]:
    entries = [e.strip() for e in text.split(",") if e.strip()]
    try:
        AllowList(entries)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return entries


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
        type=parse_duration_flag(allow_zero=True),
        default=0.5,
        help="seconds subtracted from X-Prometheus-Scrape-Timeout-Seconds for /probe (default 0.5)",
    )
    p.add_argument(
        "--probe.allowed-targets",
        dest="allowed_targets",
        type=_allowed,
        action="append",
        default=[],
        metavar="LIST",
        help="hosts /probe may reach, added to the file's allowed_targets (comma-separated, repeatable): "
        'host names with * wildcards, IPs, CIDR ranges or "*"; keeps a blackbox.yml unchanged',
    )
    return p


# glibc mallopt() parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def return_large_buffers_to_os() -> bool:
    """Serve blocks of 384 KiB and more from their own mmap, so freeing them returns the memory.

    With 1,000 scheduled targets each ``/metrics`` answer is ~2 MB, built and copied a few times
    per scrape.  glibc's default raises its mmap threshold to the size of the first such block
    freed, after which they come from the heap and stay resident: RSS settled 3-7 MB higher after
    a burst of scrapes, in some runs above the 60 MB goal.  A fixed threshold keeps them out of the
    heap; 384 KiB stays above asyncio's 256 KiB socket read buffer, which must not pay an mmap per
    read.  The trim threshold is fixed too (fixing one turns off glibc's dynamic adjustment of
    both).  Not glibc (musl): no ``mallopt``, nothing changes.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 384 << 10)) and bool(mallopt(_M_TRIM_THRESHOLD, 2 << 20))


def main(argv: list[str] | None = None) -> int:
    return_large_buffers_to_os()
    return run(ProbeExporter, argv, build_parser())


if __name__ == "__main__":
    raise SystemExit(main())
