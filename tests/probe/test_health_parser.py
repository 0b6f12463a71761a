"""JSON health document parser: fixed examples of each format and property tests."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infrawatch.probe.net.health import (
    DEGRADED,
    DOWN,
    HEALTHY,
    MAX_CHECKS,
    HealthParseError,
    parse_health,
    parse_health_body,
)

WORDS = {
    HEALTHY: ["pass", "ok", "UP", "healthy", "green"],
    DEGRADED: ["warn", "degraded", "yellow"],
    DOWN: ["fail", "DOWN", "unhealthy", "red", "OUT_OF_SERVICE"],
}
status_values = st.sampled_from([HEALTHY, DEGRADED, DOWN])
check_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)


def word(value: float, data: st.DataObject) -> str:
    return data.draw(st.sampled_from(WORDS[value]))


def test_examples() -> None:
    r = parse_health({"status": "pass", "checks": {"a:b": [{"status": "pass"}, {"status": "fail"}]}})
    assert (r.status, r.checks, r.format) == (HEALTHY, {"a:b": DOWN}, "ietf")
    r = parse_health({"status": "UP", "components": {"db": {"status": "DOWN", "details": {}}}})
    assert (r.status, r.checks, r.format) == (HEALTHY, {"db": DOWN}, "spring")
    r = parse_health({"ok": False, "db": {"ok": True}, "version": "1.2"})
    assert (r.status, r.checks) == (DOWN, {"db": HEALTHY})
    r = parse_health({"cluster_name": "x", "status": "yellow"})
    assert (r.status, r.format) == (DEGRADED, "elasticsearch")
    r = parse_health({"checks": {"db": "healthy", "mq": "degraded"}})
    assert r.status == DEGRADED  # no overall status: the worst check


def test_latency_version_and_timestamp() -> None:
    """Seed 004's document: per-check latency_ms, the version and an ISO timestamp are exported."""
    r = parse_health(
        {
            "status": "healthy",
            "timestamp": "2026-12-03T10:00:00Z",
            "version": "1.4.2",
            "checks": {
                "database": {"status": "healthy", "latency_ms": 5},
                "redis": {"status": "healthy", "latency_ms": 1.5},
                "rpc": {"status": "degraded", "latency_ms": 1800},
            },
        }
    )
    assert r.checks == {"database": HEALTHY, "redis": HEALTHY, "rpc": DEGRADED}
    assert r.latencies == {"database": 0.005, "redis": 0.0015, "rpc": 1.8}
    assert (r.version, r.timestamp) == ("1.4.2", 1796292000.0)
    # IETF: observedValue/observedUnit on a :responseTime check (the worst entry), releaseId, epoch ms
    r = parse_health(
        {
            "status": "pass",
            "releaseId": "2026.12",
            "time": 1796292000123,
            "checks": {
                "db:responseTime": [
                    {"status": "pass", "observedValue": 250, "observedUnit": "ms"},
                    {"status": "pass", "observedValue": 0.4, "observedUnit": "s"},
                ],
                "db:connections": [{"status": "pass", "observedValue": 250, "observedUnit": "ms"}],  # no latency
            },
        }
    )
    assert r.latencies == {"db:responseTime": 0.4} and r.version == "2026.12"
    assert r.timestamp == pytest.approx(1796292000.123)
    # Wrong types and local times are ignored, never an error, never a verdict change.
    r = parse_health({"ok": True, "version": True, "timestamp": "yesterday", "db": {"ok": True, "latency_ms": "fast"}})
    assert (r.status, r.latencies, r.version, r.timestamp) == (HEALTHY, {}, None, None)
    assert parse_health({"status": "UP", "timestamp": "2026-12-03T10:00:00"}).timestamp is None
    assert parse_health({"status": "UP", "version": "x" * 65}).version is None
    assert parse_health({"status": "UP", "checks": {"db": {"status": "UP", "latency_ms": -1}}}).latencies == {}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"nope",
        b"[1,2]",
        b'"up"',
        b'{"status": "purple"}',
        b'{"x": 1}',
        b'{"checks": {"db": {"latency": 3}}}',
        b'{"checks": {}}',
        b"\xff\xfe",
    ],
)
def test_not_health_documents(body: bytes) -> None:
    with pytest.raises(HealthParseError):
        parse_health_body(body)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=20,
    )
)
@settings(max_examples=300)
def test_any_json_parses_or_is_rejected_cleanly(doc: object) -> None:
    try:
        r = parse_health(doc)
    except HealthParseError:
        return
    assert r.status in (HEALTHY, DEGRADED, DOWN)
    assert all(v in (HEALTHY, DEGRADED, DOWN) for v in r.checks.values())
    assert len(r.checks) <= MAX_CHECKS


@given(
    st.data(),
    st.dictionaries(check_names, status_values, min_size=1, max_size=80),
    st.sampled_from(["checks-str", "checks-obj", "ietf", "spring", "ok"]),
    st.booleans(),
)
def test_checks_round_trip(data: st.DataObject, checks: dict[str, float], fmt: str, with_overall: bool) -> None:
    if fmt == "ok":
        checks = {k: v for k, v in checks.items() if v != DEGRADED and k not in ("ok",)} or {"db": HEALTHY}
        doc: dict = {k: {"ok": v == HEALTHY} for k, v in checks.items()}
        overall = min(checks.values())
        doc["ok"] = overall == HEALTHY
    else:
        if fmt == "checks-str":
            section = {k: word(v, data) for k, v in checks.items()}
        elif fmt == "checks-obj":
            section = {k: {"status": word(v, data)} for k, v in checks.items()}
        elif fmt == "ietf":
            section = {k: [{"status": word(HEALTHY, data)}, {"status": word(v, data)}] for k, v in checks.items()}
        else:
            section = {k: {"status": word(v, data)} for k, v in checks.items()}
        doc = {"components" if fmt == "spring" else "checks": section}
        overall = data.draw(status_values) if with_overall else min(checks.values())
        if with_overall:
            doc["status"] = word(overall, data)
    r = parse_health_body(json.dumps(doc).encode())
    assert r.status == overall
    expected = dict(list(checks.items())[:MAX_CHECKS])
    assert r.checks == expected
    assert r.truncated == (len(checks) > MAX_CHECKS)
