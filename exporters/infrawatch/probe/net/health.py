"""JSON health documents -> one status (1 healthy, 0.5 degraded, 0 down) and per-check statuses.

Services report health in a handful of shapes; ``parse_health`` recognises them in this order:

- Elasticsearch ``_cluster/health``: ``{"cluster_name": ..., "status": "green|yellow|red"}``
- IETF draft ``application/health+json``: ``{"status": "pass|warn|fail", "checks":
  {"name:measurement": [{"status": ...}, ...]}}`` (a check is as bad as its worst entry)
- Spring Boot actuator: ``{"status": "UP|DOWN|OUT_OF_SERVICE|UNKNOWN", "components"|"details":
  {"db": {"status": "UP"}, ...}}``
- the common ``{"status": "healthy", "checks": {"db": "healthy" | {"status": ...}}}``
- ``{"ok": true, "db": {"ok": true}}``

A document without an overall status takes its worst check.  Anything else is not a health
document (``HealthParseError``); the probe then fails with reason ``health_check``.

Beside the statuses, what the seeds' documents carry is exported when present: a check's latency
(``latency_ms``, ``response_time_ms``, ``duration_ms``, ``latency_seconds``, or IETF's
``observedValue`` with ``observedUnit`` ``ms``/``s`` on a ``…:responseTime`` check), the
application's ``version`` (IETF ``releaseId``) and the document's ``timestamp`` (ISO 8601 or Unix
seconds).  They never change the verdict; a value of the wrong type is ignored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...core.metrics import MetricFamily
from ..sink import MetricSink

HEALTHY, DEGRADED, DOWN = 1.0, 0.5, 0.0
MAX_CHECKS = 64  # label cardinality guard: a document with hundreds of checks is cut here

_WORDS = {
    HEALTHY: {"pass", "passed", "ok", "up", "healthy", "green", "true", "success", "available", "online"},
    DEGRADED: {"warn", "warning", "degraded", "yellow", "partial", "unknown"},
    DOWN: {
        "fail",
        "failed",
        "failure",
        "down",
        "unhealthy",
        "red",
        "false",
        "error",
        "critical",
        "out_of_service",
        "outofservice",
        "unavailable",
        "offline",
    },
}
HEALTH_STATUS = MetricFamily("probe_health_status", "Health reported by the target: 1 healthy, 0.5 degraded, 0 down")
HEALTH_CHECK_STATUS = MetricFamily(
    "probe_health_check_status",
    "Health of one check reported by the target: 1 pass, 0.5 warn, 0 fail",
    labels=("check",),
)
HEALTH_CHECK_LATENCY = MetricFamily(
    "probe_health_check_latency_seconds",
    "Latency of one check as the target reports it in its health document",
    labels=("check",),
)
HEALTH_INFO = MetricFamily(
    "probe_health_info", "The version the health document reports (value 1)", labels=("version",)
)
HEALTH_TIMESTAMP = MetricFamily(
    "probe_health_timestamp_seconds", "When the target says it produced its health document (Unix time)"
)
FAMILIES = (HEALTH_STATUS, HEALTH_CHECK_STATUS, HEALTH_CHECK_LATENCY, HEALTH_INFO, HEALTH_TIMESTAMP)
MAX_VERSION = 64  # a longer "version" is not one (and would be a huge label value)
_LATENCY_KEYS = {
    "latency_ms": 1e-3,
    "response_time_ms": 1e-3,
    "responsetime_ms": 1e-3,
    "duration_ms": 1e-3,
    "latency_seconds": 1.0,
    "duration_seconds": 1.0,
}
_UNITS = {"ms": 1e-3, "s": 1.0}

_WORD_STATUS = {w: status for status, words in _WORDS.items() for w in words}


class HealthParseError(ValueError):
    """The body is not a recognised health document."""


@dataclass
class HealthResult:
    status: float
    format: str
    checks: dict[str, float] = field(default_factory=dict)
    truncated: bool = False
    latencies: dict[str, float] = field(default_factory=dict)  # check -> seconds
    version: str | None = None
    timestamp: float | None = None

    @property
    def word(self) -> str:
        return {HEALTHY: "healthy", DEGRADED: "degraded", DOWN: "down"}[self.status]


def status_value(value: Any) -> float | None:
    """Map a status word / boolean to 1, 0.5 or 0; ``None`` when it is not a status."""
    if isinstance(value, bool):
        return HEALTHY if value else DOWN
    if isinstance(value, str):
        return _WORD_STATUS.get(value.strip().lower().replace("-", "_").replace(" ", "_"))
    return None


def _require(value: Any, where: str) -> float:
    s = status_value(value)
    if s is None:
        raise HealthParseError(f"unrecognised status {value!r} in {where}")
    return s


def _finish(fmt: str, overall: Any, checks: dict[str, float], where: str) -> HealthResult:
    truncated = len(checks) > MAX_CHECKS
    if truncated:
        checks = dict(list(checks.items())[:MAX_CHECKS])
    if overall is None:
        if not checks:
            raise HealthParseError("document has neither a status nor checks")
        status = min(checks.values())
    else:
        status = _require(overall, where)
    return HealthResult(status, fmt, checks, truncated)


def _check_status(value: Any, name: str) -> float:
    """A check entry: a status word/bool, ``{"status": ...}``, ``{"ok": ...}`` or an IETF array."""
    if isinstance(value, list):
        if not value:
            raise HealthParseError(f"check {name!r} is an empty list")
        return min(_check_status(v, name) for v in value)
    if isinstance(value, dict):
        for key in ("status", "state", "ok", "healthy"):
            if key in value:
                return _require(value[key], f"check {name!r}")
        raise HealthParseError(f"check {name!r} has no status")
    return _require(value, f"check {name!r}")


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def _latency(name: str, value: Any) -> float | None:
    """A check entry's latency in seconds, if it reports one."""
    if isinstance(value, list):  # IETF: the entries of one check; the worst one counts
        found = [x for x in (_latency(name, v) for v in value) if x is not None]
        return max(found) if found else None
    if not isinstance(value, dict):
        return None
    for key, scale in _LATENCY_KEYS.items():
        for k in (key, key.replace("_", "")):
            if k in value and (n := _number(value[k])) is not None:
                return n * scale
    unit = value.get("observedUnit")
    if name.lower().endswith(":responsetime") and isinstance(unit, str) and unit.lower() in _UNITS:
        n = _number(value.get("observedValue"))
        return None if n is None else n * _UNITS[unit.lower()]
    return None


def _timestamp(value: Any) -> float | None:
    if (n := _number(value)) is not None:
        return n / 1000 if n > 1e11 else n  # milliseconds since the epoch, as JavaScript writes it
    if isinstance(value, str) and len(value) <= 64:
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return when.timestamp() if when.tzinfo is not None else None  # a local time says nothing
    return None


def _extras(doc: dict[str, Any], result: HealthResult, section: Any) -> HealthResult:
    version = doc.get("version", doc.get("releaseId"))
    if (
        isinstance(version, str | int | float)
        and not isinstance(version, bool)
        and 0 < len(str(version)) <= MAX_VERSION
    ):
        result.version = str(version)
    result.timestamp = _timestamp(doc.get("timestamp", doc.get("time")))
    if isinstance(section, dict):
        for name in result.checks:
            if (latency := _latency(name, section.get(name))) is not None:
                result.latencies[name] = latency
    return result


def parse_health(doc: Any) -> HealthResult:
    """Classify a decoded JSON value (see module docstring)."""
    result = _parse_status(doc)
    assert isinstance(doc, dict)
    section = next((doc[k] for k in ("components", "details", "checks") if isinstance(doc.get(k), dict)), None)
    if result.format == "ok":
        section = doc
    return _extras(doc, result, section)


def _parse_status(doc: Any) -> HealthResult:
    if not isinstance(doc, dict):
        raise HealthParseError(f"expected a JSON object, got {type(doc).__name__}")
    status = doc.get("status")
    if "cluster_name" in doc and isinstance(status, str) and status.lower() in ("green", "yellow", "red"):
        checks = {}
        for key in ("unassigned_shards", "initializing_shards", "relocating_shards"):
            if isinstance(doc.get(key), int) and not isinstance(doc.get(key), bool):
                # Shards in flux are a warning sign, not an outage.
                checks[key] = HEALTHY if doc[key] == 0 else DEGRADED
        return _finish("elasticsearch", status, checks, "status")
    for key, fmt in (("components", "spring"), ("details", "spring"), ("checks", "checks")):
        section = doc.get(key)
        if isinstance(section, dict):
            checks = {str(name): _check_status(v, str(name)) for name, v in section.items()}
            if fmt == "checks" and any(isinstance(v, list) for v in section.values()):
                fmt = "ietf"
            return _finish(fmt, status, checks, "status")
    if "status" in doc:
        return _finish("status", status, {}, "status")
    if "ok" in doc:
        checks = {
            str(k): _check_status(v, str(k))
            for k, v in doc.items()
            if isinstance(v, dict) and ("ok" in v or "status" in v)
        }
        return _finish("ok", doc["ok"], checks, "ok")
    if "healthy" in doc:
        return _finish("status", doc["healthy"], {}, "healthy")
    raise HealthParseError("no 'status', 'ok' or 'checks' field")


def parse_health_body(body: bytes) -> HealthResult:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HealthParseError(f"body is not JSON: {exc}") from None
    return parse_health(doc)


def record_health(metrics: MetricSink, result: HealthResult) -> None:
    """``probe_health_status`` and one ``probe_health_check_status{check}`` per check."""
    metrics.set(HEALTH_STATUS, result.status)
    for name, value in result.checks.items():
        metrics.set(HEALTH_CHECK_STATUS, value, {"check": name})
    for name, seconds in result.latencies.items():
        metrics.set(HEALTH_CHECK_LATENCY, seconds, {"check": name})
    if result.version is not None:
        metrics.set(HEALTH_INFO, 1, {"version": result.version})
    if result.timestamp is not None:
        metrics.set(HEALTH_TIMESTAMP, result.timestamp)
