"""End-to-end tests: the measured detection latencies go to the terminal summary and a JSON file."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@dataclass
class LatencyReport:
    latency_seconds: dict[str, float] = field(default_factory=dict)  # scenario -> change-to-notification
    settings: dict[str, Any] = field(default_factory=dict)  # the intervals the stack ran with

    def record(self, scenario: str, seconds: float) -> None:
        self.latency_seconds[scenario] = round(seconds, 2)
        print(f"\ne2e latency: {scenario}: {seconds:.1f} s")


LATENCIES = pytest.StashKey[LatencyReport]()


@pytest.fixture(scope="session")
def latency_report(pytestconfig: pytest.Config, artifacts_dir: Path) -> Iterator[LatencyReport]:
    """Filled by the tests; written to test-artifacts/e2e-latency.json at the end of the session."""
    report = LatencyReport()
    pytestconfig.stash[LATENCIES] = report
    yield report
    if report.latency_seconds:
        doc = {
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": f"{platform.machine()} {platform.system()} {platform.release()}, "
            f"{len(os.sched_getaffinity(0))} CPUs",
            "settings": report.settings,
            "latency_seconds": report.latency_seconds,
        }
        (artifacts_dir / "e2e-latency.json").write_text(json.dumps(doc, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    report = config.stash.get(LATENCIES, None)
    if report and report.latency_seconds:
        terminalreporter.section("e2e detection latency (change -> notification received)")
        for scenario, seconds in report.latency_seconds.items():
            terminalreporter.write_line(f"{scenario:<55} {seconds:6.1f} s")
        terminalreporter.write_line("written to test-artifacts/e2e-latency.json")
