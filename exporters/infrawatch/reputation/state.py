"""The state file: last known results, so a restarted exporter does not start "unknown everywhere".

Written atomically (temporary file in the same directory, fsync, rename) so a crash mid-write
leaves the previous file intact; temporary files a crash left behind are removed when the state is
loaded at start.  Loading ignores pairs whose target or list is no longer configured.  A file that
cannot be used — not JSON, JSON of the wrong shape, a wrong version, unreadable — never stops the
exporter: it starts empty, logs what was wrong, and moves the bad file aside
(``<name>.bad-<UTC time>``) so the next write does not destroy the evidence.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .results import ListHealth, PairResult

log = logging.getLogger("infrawatch.reputation.state")
VERSION = 1
T = TypeVar("T")
TMP_SUFFIX = ".tmp"


def save(path: Path, results: dict[tuple[str, str], PairResult], health: dict[str, ListHealth]) -> None:
    doc = {
        "version": VERSION,
        "saved_at": time.time(),
        "results": [{"target": t, "list": lst, **r.to_json()} for (t, lst), r in sorted(results.items())],
        "lists": {name: h.to_json() for name, h in sorted(health.items())},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=TMP_SUFFIX, dir=path.parent)
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


def remove_stale_temporaries(path: Path) -> int:
    """Delete ``<name>.*.tmp`` files a crash during ``save`` left next to the state file."""
    removed = 0
    with contextlib.suppress(OSError):
        for p in path.parent.glob(f"{path.name}.*{TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                p.unlink()
                removed += 1
    if removed:
        log.info("removed temporary state files left by an interrupted write", extra={"files": removed})
    return removed


def _parse(
    doc: Any, targets: set[str], lists: set[str]
) -> tuple[dict[tuple[str, str], PairResult], dict[str, ListHealth]]:
    if not isinstance(doc, dict):
        raise TypeError(f"the document is a JSON {type(doc).__name__}, not an object")
    if doc.get("version") != VERSION:
        raise ValueError(f"unsupported state file version {doc.get('version')!r}")
    raw_results, raw_lists = doc.get("results", []), doc.get("lists", {})
    if not isinstance(raw_results, list) or not isinstance(raw_lists, dict):
        raise TypeError("'results' must be a list and 'lists' an object")
    results: dict[tuple[str, str], PairResult] = {}
    for i, d in enumerate(raw_results):
        r = _entry(f"results[{i}]", d, PairResult.from_json)
        if (targets is None or d.get("target") in targets) and d.get("list") in lists:
            results[(_target(d), d["list"])] = r
    health: dict[str, ListHealth] = {}
    for name, h in raw_lists.items():
        lh = _entry(f"lists[{name!r}]", h, ListHealth.from_json)
        if name in lists:
            health[name] = lh
    return results, health


def _entry(where: str, d: Any, parse: Callable[[dict[str, Any]], T]) -> T:
    """One record of the file, parsed; errors name where it is (``results[3]: ...``)."""
    if not isinstance(d, dict):
        raise TypeError(f"{where} is not an object")
    try:
        return parse(d)
    except (KeyError, TypeError, ValueError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


def _target(d: dict[str, Any]) -> str:
    t = d.get("target")
    if not isinstance(t, str):
        raise TypeError("'target' must be a string")
    return t


def load(
    path: Path, targets: set[str] | None, lists: set[str]
) -> tuple[dict[tuple[str, str], PairResult], dict[str, ListHealth]]:
    remove_stale_temporaries(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, {}
    except (OSError, UnicodeError) as exc:
        _set_aside(path, f"cannot read it: {exc}")
        return {}, {}
    try:
        return _parse(json.loads(text), targets, lists)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        _set_aside(path, str(exc) or type(exc).__name__)
        return {}, {}


def peek(path: Path, targets: set[str] | None, lists: set[str]) -> dict[tuple[str, str], PairResult]:
    """The pair results of the file, read only (``check`` on the command line: the exporter owns
    the file).  Nothing is moved or removed; a file that cannot be used gives nothing."""
    try:
        return _parse(json.loads(path.read_text(encoding="utf-8")), targets, lists)[0]
    except (OSError, UnicodeError, ValueError, KeyError, TypeError, RecursionError):
        return {}


def _set_aside(path: Path, why: str) -> None:
    aside = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    try:
        os.replace(path, aside)
        kept = str(aside)
    except OSError as exc:
        kept = f"(could not move it aside: {exc.strerror or exc})"
    log.warning(
        "ignoring unusable state file; starting with empty results",
        extra={"file": str(path), "err": why, "kept_as": kept},
    )
