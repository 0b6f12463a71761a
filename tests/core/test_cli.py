"""The ``infrawatch`` umbrella command as installed (the console script), run as a process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def infrawatch() -> list[str]:
    script = Path(sys.executable).with_name("infrawatch")
    if script.exists():
        return [str(script)]
    found = shutil.which("infrawatch")
    if not found:
        pytest.skip("the infrawatch console script is not installed (make setup installs it)")
    return [found]


def test_no_command_prints_usage_and_exits_2() -> None:
    r = subprocess.run(infrawatch(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith("usage: infrawatch ")
    assert "a command is required" in r.stderr
    assert r.stdout == ""


def test_help_exits_0() -> None:
    r = subprocess.run([*infrawatch(), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("usage: infrawatch ")


def test_unknown_command_exits_2() -> None:
    r = subprocess.run([*infrawatch(), "frobnicate"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr
