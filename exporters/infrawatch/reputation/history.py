"""Score and listing history from Prometheus' query_range API, as CSV rows: ``infrawatch reputation
export`` and the exporter's ``GET /export`` (the status page's "history" links) share it.

Any range and step: a range of more steps than Prometheus answers at once (11,000 points per
series) is split into several queries and the series joined.
"""

from __future__ import annotations

import csv
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from typing import Any, TextIO

from ..core.config import Duration

# Prometheus refuses query_range answers of more than 11,000 points per series: stay below.
MAX_POINTS = 10_000
# What a failed history query raises (the caller says "cannot query ..." with it).
QUERY_ERRORS = (OSError, urllib.error.URLError, RuntimeError, ValueError)


def parse_range(since_text: str, step_text: str = "") -> tuple[float, float]:
    """``90d`` and an optional step (default: since / 10,000, at least 1 minute); ValueError if bad."""
    since = float(Duration.parse(since_text))
    step = float(Duration.parse(step_text)) if step_text else max(60.0, since / MAX_POINTS)
    if step <= 0 or since <= 0:
        raise ValueError("--since and --step must be positive")
    return since, step


def _query_range(
    base: str, expr: str, start: float, end: float, step: float, timeout: float = 60.0
) -> list[dict[str, Any]]:
    """query_range over any range: split into windows of at most MAX_POINTS steps, series merged."""
    merged: dict[tuple, dict[str, Any]] = {}
    t = start
    while t <= end:
        t_end = min(end, t + step * (MAX_POINTS - 1))
        for s in _query_range_once(base, expr, t, t_end, step, timeout):
            key = tuple(sorted(s["metric"].items()))
            merged.setdefault(key, {"metric": s["metric"], "values": []})["values"].extend(s["values"])
        t = t_end + step
    return list(merged.values())


def _query_range_once(
    base: str, expr: str, start: float, end: float, step: float, timeout: float
) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"})
    try:
        with urllib.request.urlopen(f"{base.rstrip('/')}/api/v1/query_range?{params}", timeout=timeout) as r:
            body = json.load(r)
    except urllib.error.HTTPError as exc:
        try:
            body = json.load(exc)
        except ValueError:
            raise RuntimeError(f"HTTP {exc.code}") from None
    if body.get("status") != "success":
        raise RuntimeError(f"Prometheus error: {body.get('error')}")
    return body["data"]["result"]


HISTORY_HEADER = ["timestamp", "target", "score", "status", "listed_on"]


def history_rows(
    prometheus: str, targets: list[str], since: float, step: float, timeout: float = 60.0
) -> list[list[str]]:
    """``timestamp,target,score,status,listed_on`` rows of the last ``since`` seconds, one per step
    (any range: split under Prometheus' 11,000-point limit).  Blocking (urllib); the exporter's
    ``/export`` runs it in a thread.  Raises OSError/URLError/RuntimeError/ValueError."""
    end = time.time()
    start = end - since
    sel = ""
    if targets:
        # a PromQL raw (backtick) string: the regex escapes pass through unchanged
        sel = "{target=~`" + "|".join(re.escape(t.replace("`", "")) for t in targets) + "`}"
    rows: dict[tuple[float, str], dict[str, Any]] = defaultdict(lambda: {"score": "", "status": "", "listed": []})
    for s in _query_range(prometheus, f"reputation_score{sel}", start, end, step, timeout):
        for ts, v in s["values"]:
            rows[(float(ts), s["metric"].get("target", ""))]["score"] = v
    for s in _query_range(prometheus, f"reputation_status{sel} == 1", start, end, step, timeout):
        for ts, _v in s["values"]:
            rows[(float(ts), s["metric"].get("target", ""))]["status"] = s["metric"].get("status", "")
    for s in _query_range(prometheus, f"reputation_listed{sel} == 1", start, end, step, timeout):
        for ts, _v in s["values"]:
            rows[(float(ts), s["metric"].get("target", ""))]["listed"].append(s["metric"].get("list", ""))
    return [
        [
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)),
            target,
            row["score"],
            row["status"],
            ";".join(sorted(row["listed"])),
        ]
        for (ts, target), row in sorted(rows.items())
    ]


def write_history_csv(rows: list[list[str]], dest: TextIO) -> None:
    w = csv.writer(dest)
    w.writerow(HISTORY_HEADER)
    w.writerows(rows)
