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
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
FAMILIES = (HEALTH_STATUS, HEALTH_CHECK_STATUS)

_WORD_STATUS = {w: status for status, words in _WORDS.items() for w in words}


class HealthParseError(ValueError):
    """The body is not a recognised health document."""


@dataclass
class HealthResult:
    status: float
    format: str
    checks: dict[str, float] = field(default_factory=dict)
    truncated: bool = False

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


def parse_health(doc: Any) -> HealthResult:
    """Classify a decoded JSON value (see module docstring)."""
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
