"""The state file: last known results, so a restarted exporter does not start "unknown everywhere".

Written atomically (temporary file in the same directory, fsync, rename) so a crash mid-write
leaves the previous file intact.  Loading ignores pairs whose target or list is no longer
configured, and a damaged file is logged and ignored rather than stopping the exporter.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path

from .results import ListHealth, PairResult

log = logging.getLogger("infrawatch.reputation.state")
VERSION = 1


def save(path: Path, results: dict[tuple[str, str], PairResult], health: dict[str, ListHealth]) -> None:
    doc = {
        "version": VERSION,
        "saved_at": time.time(),
        "results": [{"target": t, "list": lst, **r.to_json()} for (t, lst), r in sorted(results.items())],
        "lists": {name: h.to_json() for name, h in sorted(health.items())},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load(
    path: Path, targets: set[str], lists: set[str]
) -> tuple[dict[tuple[str, str], PairResult], dict[str, ListHealth]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("version") != VERSION:
            raise ValueError(f"unsupported state file version {doc.get('version')!r}")
        results = {
            (str(d["target"]), str(d["list"])): PairResult.from_json(d)
            for d in doc.get("results", [])
            if d.get("target") in targets and d.get("list") in lists
        }
        health = {n: ListHealth.from_json(h) for n, h in doc.get("lists", {}).items() if n in lists}
    except FileNotFoundError:
        return {}, {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable state file", extra={"file": str(path), "err": str(exc)})
        return {}, {}
    return results, health
