"""Mutation check (issue 16, "Tests that catch mistakes"): each deliberate mistake in the availability
SLO's rules (devtools/infrawatch_dev/slo_mutations.py) makes a promtool test fail.

The generated tests must catch every mutation except those listed in HAND_WRITTEN_ONLY, which the named
hand-written test catches.  Real promtool 2.42; several minutes of promtool CPU (caught mutations stop
at the first failing test group).  ``python -m infrawatch_dev.slo_mutations`` prints the same table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infrawatch_dev import slo_mutations as sm
from support.rulefiles import promtool

# Mistakes no generated scenario can see, and the hand-written test that catches each:
HAND_WRITTEN_ONLY = {
    # slo:current_burn_rate:ratio feeds dashboards only (no alert reads it): its value is checked by hand.
    "current-burn-budget": "tests/slo/api-availability.yaml",
}


def test_mutations_are_loadable_rules(tmp_path: Path) -> None:
    """A mutation is a wrong rule Prometheus loads, not a syntax error any test would trip on."""
    original = sm.RULES.read_text()
    paths = []
    for m in sm.MUTATIONS:
        text = m.apply(original)
        assert text != original, m.name
        paths.append(tmp_path / f"{m.name}.yaml")
        paths[-1].write_text(text)
    res = promtool("check", "rules", *paths)
    assert res.returncode == 0, res.stdout + res.stderr
    assert len({m.name for m in sm.MUTATIONS}) == len(sm.MUTATIONS) >= 27


@pytest.mark.timeout(3600)
def test_generated_tests_catch_the_mutations() -> None:
    chosen = [m for m in sm.MUTATIONS if m.name not in HAND_WRITTEN_ONLY]
    results = sm.run(chosen, jobs=2, hand_written=False)
    survived = [f"{r.mutation.name}: {r.mutation.what}" for r in results if r.caught_by is None]
    assert not survived, survived


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN_ONLY))
def test_hand_written_tests_catch_the_rest(name: str) -> None:
    mutation = next(m for m in sm.MUTATIONS if m.name == name)
    result = sm.check(mutation, hand_written=True, generated=False)
    assert result.caught_by == HAND_WRITTEN_ONLY[name], result
