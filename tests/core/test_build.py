"""`infrawatch build`: the fast engine (jrsonnet) writes exactly what go-jsonnet, the reference
engine importers use, would write, and errors keep jsonnet's file:line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import _gojsonnet
import pytest

from infrawatch_dev import build

ROOT = Path(__file__).resolve().parents[2]


def test_jrsonnet_and_go_jsonnet_render_the_same_files() -> None:
    slos = build.load_slo_specs(ROOT)
    fast = build.evaluate(ROOT, slos=slos)
    reference = json.loads(
        _gojsonnet.evaluate_file(
            str(ROOT / "jsonnet" / "build.jsonnet"),
            jpathdir=[str(ROOT / "jsonnet")],
            ext_codes={"sloImported": json.dumps(slos)},
        )
    )
    assert sorted(fast) == sorted(reference)
    # Rendered text, not values: 1 == 1.0 in Python, but YAML writes them differently.
    differ = [rel for rel in reference if build.render(rel, fast[rel]) != build.render(rel, reference[rel])]
    assert differ == []


def test_evaluation_error_names_file_and_line(tmp_path: Path) -> None:
    for d in ("jsonnet", "slos", "examples"):
        shutil.copytree(ROOT / d, tmp_path / d)
    config = tmp_path / "jsonnet" / "config.libsonnet"
    lines = config.read_text().count("\n")
    config.write_text(config.read_text() + "local broken = ;\n")
    with pytest.raises(RuntimeError) as exc:
        build.build(tmp_path, check=True)
    assert f"config.libsonnet:{lines + 1}:" in str(exc.value)


def test_a_config_problem_is_printed_located_without_the_stack_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for d in ("jsonnet", "slos", "examples"):
        shutil.copytree(ROOT / d, tmp_path / d)
    config = tmp_path / "jsonnet" / "config.libsonnet"
    text = config.read_text()
    assert "        kind: 'http',\n" in text
    config.write_text(text.replace("        kind: 'http',\n", "        kind: 'htpp',\n", 1))
    line = config.read_text().splitlines().index("        kind: 'htpp',") + 1
    assert build.main(["--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    problem = "_config.services[0] (api).kind: unknown kind 'htpp'; did you mean 'http'?"
    assert f"  {problem}  (jsonnet/config.libsonnet:{line})" in err.splitlines(), err
    assert "config_schema.libsonnet" not in err and "build.jsonnet" not in err, "the stack trace is left out"
