"""`infrawatch build`: the two-process evaluation gives exactly the one-process result, and errors
keep jsonnet's file:line in both modes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infrawatch_dev import build

ROOT = Path(__file__).resolve().parents[2]


def test_two_processes_evaluate_exactly_what_one_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRAWATCH_BUILD_JOBS", "1")
    assert build.build_jobs() == 1
    one = build.evaluate(ROOT)
    monkeypatch.setenv("INFRAWATCH_BUILD_JOBS", "2")
    parts = list(build.evaluate_parts(ROOT))
    assert len(parts) == 2
    assert set(parts[1]) and all(k.startswith(build.SECOND_PROCESS_PREFIX) for k in parts[1])
    assert not set(parts[0]) & set(parts[1])
    assert {**parts[0], **parts[1]} == one


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_evaluation_error_names_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    for d in ("jsonnet", "slos", "examples"):
        shutil.copytree(ROOT / d, tmp_path / d)
    config = tmp_path / "jsonnet" / "config.libsonnet"
    lines = config.read_text().count("\n")
    config.write_text(config.read_text() + "local broken = ;\n")
    monkeypatch.setenv("INFRAWATCH_BUILD_JOBS", jobs)
    with pytest.raises(RuntimeError) as exc:
        build.build(tmp_path, check=True)
    assert f"config.libsonnet:{lines + 1}:" in str(exc.value)
