"""Issue 15 item 4: non-finite and non-positive durations are refused everywhere.

``interval: .nan`` used to pass ``--config.check`` and then probe its target hundreds of times a
second; ``.inf`` meant never.  Both exporters' ``--config.check`` (real subprocesses), a reload of
a running probe exporter, file_sd ``interval`` labels and the duration flag are covered.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infrawatch.core.config import Duration, DurationOrZero, parse_duration_flag
from infrawatch.probe.config import load_probe_config
from infrawatch.probe.targets import FileSD
from support.probeutil import ExporterProc

ROOT = Path(__file__).resolve().parents[2]
BAD = [".nan", ".inf", "-.inf", "0", "0s", "-5", "1.0e+400", '"999999999999999999999999y"']


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def _probe_yaml(interval: str = "30s", timeout: str = "0", scheduler_timeout: str = "10s") -> str:
    return (
        "modules:\n"
        "  http_2xx:\n"
        "    prober: http\n"
        f"    timeout: {timeout}\n"
        "scheduler:\n"
        f"  timeout: {scheduler_timeout}\n"
        "targets:\n"
        "  - target: http://127.0.0.1:1/\n"
        "    module: http_2xx\n"
        f"    interval: {interval}\n"
    )


@pytest.mark.parametrize("value", BAD)
def test_probe_config_check_refuses_the_interval(tmp_path: Path, value: str) -> None:
    cfg = tmp_path / "probe.yml"
    cfg.write_text(_probe_yaml(interval=value))
    r = _run("infrawatch.probe.main", f"--config.file={cfg}", "--config.check")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{cfg}:10: targets[0].interval: duration " in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(("key", "line"), [("timeout", 4), ("scheduler_timeout", 6)])
@pytest.mark.parametrize("value", [".nan", ".inf"])
def test_probe_config_check_refuses_timeouts(tmp_path: Path, key: str, line: int, value: str) -> None:
    cfg = tmp_path / "probe.yml"
    cfg.write_text(_probe_yaml(**{key: value}))
    r = _run("infrawatch.probe.main", f"--config.file={cfg}", "--config.check")
    assert r.returncode == 2 and f"{cfg}:{line}: " in r.stderr and "must be finite" in r.stderr, r.stderr


def test_module_timeout_zero_still_means_the_scrape_timeout(tmp_path: Path) -> None:
    cfg = tmp_path / "probe.yml"
    cfg.write_text(_probe_yaml(timeout="0"))
    r = _run("infrawatch.probe.main", f"--config.file={cfg}", "--config.check")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("value", [".nan", ".inf", "0"])
def test_reputation_config_check_refuses_the_interval(tmp_path: Path, value: str) -> None:
    text = (ROOT / "examples" / "reputation.yml").read_text()
    lines = text.splitlines()
    (i,) = [n for n, line in enumerate(lines) if line.startswith("interval:")]
    lines[i] = f"interval: {value}"
    cfg = tmp_path / "reputation.yml"
    cfg.write_text("\n".join(lines) + "\n")
    r = _run("infrawatch.reputation.main", f"--config.file={cfg}", "--config.check")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{cfg}:{i + 1}: interval: duration " in r.stderr, r.stderr


def test_reload_with_nan_keeps_the_running_configuration(tmp_path: Path) -> None:
    cfg = tmp_path / "probe.yml"
    cfg.write_text(_probe_yaml(interval="1h"))
    e = ExporterProc(cfg, tmp_path)
    try:
        cfg.write_text(_probe_yaml(interval=".nan"))
        status, text = e.post("/-/reload")
        assert status == 500 and "targets[0].interval: duration must be finite" in text, text
        assert e.metric("infrawatch_config_last_reload_successful") == 0
        _, body = e.get("/config")
        assert yaml.safe_load(body)["targets"][0]["interval"] == "1h"
        # The target is probed once (at start), not in a loop.
        probes = e.metric("infrawatch_probes_total", module="http_2xx", result="failure") or 0
        assert probes <= 2
    finally:
        e.stop()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "abc"])
def test_timeout_offset_flag_refuses_bad_values(tmp_path: Path, value: str) -> None:
    cfg = tmp_path / "probe.yml"
    cfg.write_text(_probe_yaml())
    r = _run("infrawatch.probe.main", f"--config.file={cfg}", f"--timeout-offset={value}", "--config.check")
    assert r.returncode == 2 and "--timeout-offset" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_file_sd_interval_label_must_be_positive(tmp_path: Path) -> None:
    (tmp_path / "sd.json").write_text('[{"targets": ["127.0.0.1:1"], "labels": {"interval": "0s"}}]')
    cfg = tmp_path / "probe.yml"
    cfg.write_text(
        yaml.safe_dump({"modules": {"tcp": {"prober": "tcp"}}, "file_sd": [{"files": ["sd.json"], "module": "tcp"}]})
    )
    sd = FileSD()
    sd.configure(load_probe_config(cfg))
    sd.refresh()
    assert sd.targets() == []
    (err,) = sd.errors().values()
    assert "duration must be positive" in err or "at least 1s" in err


def test_duration_types() -> None:
    for bad in (float("nan"), float("inf"), -1, "1e3s", True):
        with pytest.raises(ValueError):
            Duration.parse(bad)
    with pytest.raises(ValueError, match="positive"):
        Duration.parse_config("0s")
    assert DurationOrZero.parse_config("0") == 0 and str(DurationOrZero(0)) == "0s"
    assert parse_duration_flag()("1.5") == 1.5 and parse_duration_flag()("1m") == 60
