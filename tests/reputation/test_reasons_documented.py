"""Every bounded reason of an unknown answer is documented (docs/reputation.md) and every
``reputation_queries_total{result}`` value and metric family is in docs/metrics.md."""

from __future__ import annotations

from pathlib import Path

from infrawatch.reputation import families
from infrawatch.reputation.classify import REASONS
from infrawatch.reputation.engine import QUERY_RESULTS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_reason_is_in_the_guide() -> None:
    guide = (DOCS / "reputation.md").read_text()
    for reason in REASONS:
        assert f"| `{reason}` |" in guide, reason
        assert reason.replace("_", "").isalnum() and reason.islower()


def test_metrics_reference_names_every_family_and_result() -> None:
    ref = (DOCS / "metrics.md").read_text()
    for fam in families.FAMILIES:
        name = fam.name + ("_total" if fam.type == "counter" else "")
        assert f"`{name}" in ref, name
    for result in QUERY_RESULTS:
        assert f"`{result}`" in ref, result
