"""Single-node VictoriaMetrics (Debian package victoria-metrics) on a free loopback port (tests/deploy)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infrawatch_dev.devstack.procs import Proc, free_port, wait_http

# The test default: the seed's "a year of metrics", samples visible at once (VictoriaMetrics hides
# the last 30 s by default) and no response cache between the polls.
DEFAULT_ARGS = ("-retentionPeriod=1y", "-search.latencyOffset=0s", "-search.disableCache")


class VictoriaMetrics:
    """``args``: the flags besides -storageDataPath and -httpListenAddr (set to ``workdir`` / a free port)."""

    def __init__(self, workdir: Path, args: tuple[str, ...] | list[str] = DEFAULT_ARGS) -> None:
        binary = shutil.which("victoria-metrics")
        if not binary:
            pytest.skip("victoria-metrics is not installed (scripts/bootstrap installs it)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.argv = [binary, f"-storageDataPath={workdir / 'data'}", f"-httpListenAddr=127.0.0.1:{self.port}", *args]
        self.proc = Proc(self.argv, workdir / "victoria-metrics.log")
        wait_http(self.url + "/health", timeout=60, proc=self.proc.proc)

    def stop(self) -> None:
        self.proc.stop()
