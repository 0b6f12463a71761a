"""Reputation history as CSV, through Prometheus ``query_range`` split under its 11,000-point limit."""

from __future__ import annotations

import csv
import io
import math
import re
import time
from collections import defaultdict
from typing import Any

from .sources import Prometheus

# Prometheus refuses a range query with more than 11,000 points per series.
MAX_POINTS = 11000


def split_range(start: float, end: float, step: float, max_points: int = MAX_POINTS) -> list[tuple[float, float]]:
    """Consecutive [start, end] windows on the step grid, each with at most ``max_points`` points."""
    if step <= 0 or end < start:
        raise ValueError("need step > 0 and end >= start")
    total = math.floor((end - start) / step) + 1
    out = []
    first = 0
    while first < total:
        last = min(total - 1, first + max_points - 1)
        out.append((start + first * step, start + last * step))
        first = last + 1
    return out


def _selector(target: str) -> str:
    return '{target="' + target.replace("\\", "\\\\").replace('"', '\\"') + '"}'


async def history_csv(prom: Prometheus, target: str, range_seconds: float, step: float) -> tuple[str, int]:
    """(CSV text, number of range queries made)."""
    end = time.time()  # the last row is "now", so a listing of the last minutes is in the file
    start = end - range_seconds
    sel = _selector(target)
    rows: dict[float, dict[str, Any]] = defaultdict(lambda: {"score": "", "status": "", "listed": set()})
    windows = split_range(start, end, step)
    queries = 0
    for s, e in windows:
        for expr, kind in (
            (f"reputation_score{sel}", "score"),
            (f"reputation_status{sel} == 1", "status"),
            (f"reputation_listed{sel} == 1", "listed"),
        ):
            queries += 1
            for series in await prom.query_range(expr, s, e, step):
                for ts, v in series["values"]:
                    row = rows[float(ts)]
                    if kind == "score":
                        row["score"] = v
                    elif kind == "status":
                        row["status"] = series["metric"].get("status", "")
                    else:
                        row["listed"].add(series["metric"].get("list", ""))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["timestamp", "target", "score", "status", "listed_on"])
    for ts in sorted(rows):
        r = rows[ts]
        w.writerow(
            [
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)),
                target,
                r["score"],
                r["status"],
                ";".join(sorted(r["listed"])),
            ]
        )
    return out.getvalue(), queries


def safe_filename(target: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", target)
