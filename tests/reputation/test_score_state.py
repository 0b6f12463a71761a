"""Scoring rules and the state file (pure functions and files: no server needed)."""

from __future__ import annotations

import json
from pathlib import Path

from infrawatch.reputation import state
from infrawatch.reputation.config import load_config_text
from infrawatch.reputation.results import ListHealth, PairResult
from infrawatch.reputation.score import summarize

CFG = """
lists:
  - {name: a, zone: a.test, kind: ip, tier: minor, weight: 20}
  - {name: b, zone: b.test, kind: ip, tier: minor, weight: 20}
  - {name: c, zone: c.test, kind: ip, tier: minor}
  - {name: m, zone: m.test, kind: ip, tier: major}
targets:
  - ip: 192.0.2.1
scoring: {warning_below: 70, min_coverage: 0.75, minor_weight: 5}
"""


def summary(statuses: dict[str, str], up: dict[str, bool] | None = None):  # type: ignore[no-untyped-def]
    loaded = load_config_text(CFG)
    results = {("192.0.2.1", n): PairResult(s, 1000.0 + i) for i, (n, s) in enumerate(statuses.items())}
    health = {n: ListHealth((up or {}).get(n, True), 1000.0) for n in ("a", "b", "c", "m")}
    return summarize(loaded.targets[0], loaded.lists, results, health, loaded.raw.scoring)


def test_good_needs_evidence() -> None:
    s = summary({"a": "clean", "b": "clean", "c": "clean", "m": "clean"})
    assert (s.status, s.score, s.coverage) == ("good", 100, 1.0)
    s = summary({"a": "clean", "b": "clean"})  # two lists never answered
    assert (s.status, s.coverage) == ("unknown", 0.5)
    s = summary({"a": "clean", "b": "clean", "c": "clean", "m": "clean"}, up={"m": False, "c": False})
    assert s.status == "unknown" and s.evidence == 2
    assert summary({}).score is None


def test_warning_below_threshold_and_critical_on_major() -> None:
    s = summary({"a": "listed", "b": "clean", "c": "listed", "m": "clean"})  # 100 - 20 - 5
    assert (s.status, s.score) == ("warning", 75)  # above the threshold, but listed: never good
    s = summary({"a": "clean", "b": "clean", "c": "listed", "m": "clean"}, up={"a": True})  # 100 - 5
    assert (s.status, s.score) == ("warning", 95)
    s = summary({"a": "listed", "b": "listed", "c": "clean", "m": "clean"})  # 100 - 40
    assert (s.status, s.score, s.listed_on) == ("warning", 60, ["a", "b"])
    s = summary({"a": "clean", "b": "error", "m": "listed"})  # definitive major listing beats coverage
    assert (s.status, s.score) == ("critical", 50)
    s = summary({"a": "clean", "b": "clean", "c": "clean", "m": "listed"}, up={"m": False})
    assert s.status == "good"  # a list that is down does not count, listed or not


def test_state_file_roundtrip_and_filtering(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.json"
    results = {
        ("192.0.2.1", "a"): PairResult("listed", 5.0, ["127.0.0.2"], ["sbl"], ["why"]),
        ("192.0.2.9", "a"): PairResult("clean", 6.0),
    }
    state.save(path, results, {"a": ListHealth(True, 5.0), "gone": ListHealth(False, 5.0, "x")})
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temporary file left
    got, health = state.load(path, {"192.0.2.1"}, {"a"})
    assert list(got) == [("192.0.2.1", "a")]
    r = got[("192.0.2.1", "a")]
    assert (r.status, r.codes, r.reasons, r.restored) == ("listed", ["127.0.0.2"], ["why"], True)
    assert set(health) == {"a"} and health["a"].restored


def test_damaged_state_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    assert state.load(path, {"x"}, {"a"}) == ({}, {})
    path.write_text(json.dumps({"version": 99}))
    assert state.load(path, {"x"}, {"a"}) == ({}, {})
    assert state.load(tmp_path / "missing.json", {"x"}, {"a"}) == ({}, {})
