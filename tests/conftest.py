"""Shared fixtures.  Real components start on free loopback ports and are stopped by PID."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.prometheus import Prometheus

# Shared fixtures that live in tests/support (session-scoped servers start once per run).
pytest_plugins = ["support.redis", "support.postgres"]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and logs kept after the run (CI uploads or prints them)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[Callable[..., Prometheus]]:
    """``prometheus_factory(config_dict, rule_files=[...])`` -> a started Prometheus."""
    started: list[Prometheus] = []

    def make(config: dict[str, Any], rule_files: list[str] | None = None, **kw: Any) -> Prometheus:
        p = Prometheus(tmp_path / f"prometheus-{len(started)}", config, rule_files, **kw)
        started.append(p)
        return p.start()

    yield make
    for p in started:
        p.stop()


os.environ.setdefault("PYTHONUNBUFFERED", "1")
