"""Hand-written promtool tests of the example SLOs in config.libsonnet (tests/slo/api-*.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.rulefiles import ROOT, promtool

HERE = Path(__file__).parent
EXAMPLES = sorted(HERE.glob("api-*.yaml"))


def test_the_four_seed_slos_have_hand_written_tests() -> None:
    assert [p.name for p in EXAMPLES] == [
        "api-availability.yaml",
        "api-latency-28d.yaml",
        "api-latency.yaml",
        "api-tenant-acme.yaml",
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_hand_written_example(path: Path) -> None:
    res = promtool("test", "rules", path.name, cwd=path.parent)
    assert res.returncode == 0, res.stdout + res.stderr


def test_prometheus2_bucket_spelling_fails_without_the_le_regex(tmp_path: Path) -> None:
    """The 28d test feeds le="1.0"; with the rule matching only le="1" (Sloth's way) it must fail."""
    rules = (ROOT / "rules" / "slo-api-requests-latency-1s-28d.yaml").read_text()
    assert 'le=~"1|1\\\\.0"' in rules
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "slo-api-requests-latency-1s-28d.yaml").write_text(rules.replace('le=~"1|1\\\\.0"', 'le="1"'))
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "t.yaml").write_text((HERE / "api-latency-28d.yaml").read_text())
    res = promtool("test", "rules", "t.yaml", cwd=tmp_path / "t")
    assert res.returncode != 0 and "page-1h" in res.stdout + res.stderr
