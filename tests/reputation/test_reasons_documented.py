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


def test_issue_14_checklist_names_tests_that_exist() -> None:
    """Every ``file::name`` of the guide's "Issue 14 checklist" is a test function of that file."""
    import re

    guide = (DOCS / "reputation.md").read_text()
    checklist = guide.split("## Issue 14 checklist", 1)[1].split("\n## ", 1)[0]
    root = DOCS.parent
    current: Path | None = None
    checked = 0
    for ref in re.findall(r"`((?:tr/|tests/)[\w/]+\.py(?:::test_\w+)?|::test_\w+)", checklist):
        path, _, name = ref.partition("::")
        if path:
            current = root / path.replace("tr/", "tests/reputation/", 1) if path.startswith("tr/") else root / path
            assert current.is_file(), ref
        if name:
            assert current is not None, ref
            assert re.search(rf"^(async )?def {name}\(", current.read_text(), re.M), f"{current.name}::{name}"
            checked += 1
    assert checked >= 40
