"""Issue 15 items 5-7: configuration files cannot blow the exporters up.

An alias bomb, a NUL or other control byte, 5,000-deep nesting and an oversized file each end in
one located problem (file, line) and exit 2 from ``--config.check`` of a real exporter process,
within a time and memory bound; a reload with such a file keeps the running configuration and
does not grow the process.  Ordinary anchors and merge keys keep working.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from infrawatch.core.config import ConfigError, load_yaml_text
from support.probeutil import ExporterProc

ROOT = Path(__file__).resolve().parents[2]
MODULES = "modules:\n  http_2xx:\n    prober: http\n"


def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return MODULES + "bomb:\n" + "\n".join("  " + line for line in lines) + "\n"


def deep(levels: int) -> str:
    return MODULES + "x:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(levels)) + "  " * (levels + 1) + "v\n"


# Runs the exporter's main module and reports its peak RSS (VmHWM belongs to the address space
# the exec made, so the forked pytest's memory does not count, as it does in wait4's ru_maxrss).
_WRAPPER = """
import atexit, runpy, sys
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            print("VmHWM-KiB", line.split()[1], file=sys.stderr)
atexit.register(hwm)
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def check_rss(module: str, cfg: Path, timeout: float = 30) -> tuple[int, str, float, float]:
    """``--config.check`` in a child process: (exit, stderr, seconds, peak RSS MiB)."""
    t0 = time.monotonic()
    argv = [sys.executable, "-c", _WRAPPER, module, f"--config.file={cfg}", "--config.check"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:  # subprocess.run kills the child it started
        pytest.fail(f"--config.check did not finish within {timeout}s")
    secs = time.monotonic() - t0
    hwm = [line for line in r.stderr.splitlines() if line.startswith("VmHWM-KiB")]
    assert hwm, r.stderr
    return r.returncode, r.stderr, secs, int(hwm[-1].split()[1]) / 1024


CASES = {
    "alias_bomb": (alias_bomb(), 5, "YAML aliases expand to more than"),
    "nul_byte": (MODULES + "x: a\x00b\n", 4, "control character U+0000"),
    "bell_byte": (MODULES + "\n\nx: a\x07b\n", 6, "control character U+0007"),
    "deep_nesting": (deep(5000), 1003, "exceeded maximum nesting depth"),  # libyaml's bound
    "deep_150": (deep(150), 104, "nested more than 100 levels deep"),  # ours
    "deep_flow": (MODULES + "x: " + "[" * 5000 + "]" * 5000 + "\n", 4, "nesting depth"),
}


@pytest.mark.parametrize("exporter", ["infrawatch.probe.main", "infrawatch.reputation.main"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_config_check_gives_one_located_problem(tmp_path: Path, exporter: str, case: str) -> None:
    text, line, message = CASES[case]
    cfg = tmp_path / "c.yml"
    cfg.write_text(text)
    code, stderr, secs, rss = check_rss(exporter, cfg)
    assert code == 2, stderr
    assert "Traceback" not in stderr and message in stderr, stderr
    if line is not None:
        assert f"{cfg}:{line}: " in stderr, stderr
    assert secs < 15 and rss < 150, (secs, rss)


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    cfg = tmp_path / "big.yml"
    with cfg.open("w") as f:
        f.write(MODULES + "pad: |\n")
        line = "  " + "x" * 1000 + "\n"
        for _ in range(34 * 1024):
            f.write(line)
    code, stderr, secs, rss = check_rss("infrawatch.probe.main", cfg)
    assert code == 2 and "file is larger than 32 MiB" in stderr, stderr
    assert secs < 10 and rss < 100, (secs, rss)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_reload_with_a_bomb_keeps_the_configuration_and_the_memory(tmp_path: Path) -> None:
    cfg = tmp_path / "probe.yml"
    cfg.write_text(MODULES)
    e = ExporterProc(cfg, tmp_path)
    try:
        assert e.pid is not None
        before = _rss_mib(e.pid)
        for text in (alias_bomb(), deep(5000), MODULES + "x: \x00\n"):
            cfg.write_text(text)
            t0 = time.monotonic()
            status, body = e.post("/-/reload")
            assert status == 500 and "probe.yml:" in body, body
            assert time.monotonic() - t0 < 10
        assert e.metric("infrawatch_config_last_reload_successful") == 0
        assert yaml.safe_load(e.get("/config")[1])["modules"]["http_2xx"]["prober"] == "http"
        assert _rss_mib(e.pid) - before < 100
        cfg.write_text(MODULES)
        assert e.post("/-/reload")[0] == 200
    finally:
        e.stop()


def test_anchors_and_merge_keys_still_work() -> None:
    text = (
        "defaults: &d {prober: http, timeout: 5s}\n"
        "modules:\n"
        "  a: {<<: *d}\n"
        "  b:\n    <<: *d\n    timeout: 2s\n"
        "  c: *d\n"
    )
    data, loc = load_yaml_text(text, "m.yml")
    assert data["modules"]["b"] == {"prober": "http", "timeout": "2s"}
    assert data["modules"]["c"] == {"prober": "http", "timeout": "5s"}
    assert loc.line(("modules", "b", "timeout")) == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb:\n  c: 1\n  c: 2\n", "m.yml:4: b.c: duplicate key"),
        ("? [a, b]\n: 1\n", "m.yml:1: <root>: mapping key must be a string"),
        ("a: !!python/object:os.system x\n", "m.yml:1: <root>: YAML syntax error"),
        ("a: [1, 2\n", "m.yml:2: <root>: YAML syntax error"),
    ],
)
def test_other_bad_yaml_is_located(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_yaml_text(text, "m.yml")
    assert str(exc.value).startswith(expected), str(exc.value)


def test_an_alias_of_a_merged_mapping_is_no_duplicate() -> None:
    text = "d: &d {a: 1, b: 2}\ne: &e {<<: *d, c: 3}\nf: {<<: *e, a: 9, x: *e, y: *e}\n"
    data, _ = load_yaml_text(text, "m.yml")
    assert data["f"] == {"a": 9, "b": 2, "c": 3, "x": data["e"], "y": data["e"]}
