"""Issue 15 item 8: hanging targets do not delay healthy ones past their interval.

A real probe exporter with scheduler concurrency 8 probes 24 targets that accept and never answer
(each probe runs into its 4 s timeout) and 8 healthy ones, all every 5 s.  Before, the hanging
probes held every slot (24 x 4 s of work per 5 s for 8 slots) and the healthy targets' results
aged without bound; now a probe still running after ``slow_after`` (1 s) gives its slot back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from support.httptarget import make_app
from support.probeutil import ExporterProc
from support.tls import ServerThread

INTERVAL = 5.0


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerThread, int, int]]:
    thread = ServerThread()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)  # cancelled by ServerThread.stop()

    try:
        yield thread, thread.serve(make_app()), thread.serve_stream(hang)
    finally:
        thread.stop()


def _result_ages(e: ExporterProc) -> dict[str, float]:
    _, text = e.get("/metrics")
    now = time.time()
    return {
        s.labels["target"]: now - s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == "probe_result_timestamp_seconds" and s.labels.get("service") == "healthy"
    }


def test_healthy_targets_stay_fresh_next_to_hanging_ones(tmp_path: Path, servers: tuple) -> None:
    _, web_port, hang_port = servers
    targets = [
        {"target": f"http://127.0.0.1:{hang_port}/h{i}", "module": "http", "service": "hanging"} for i in range(24)
    ] + [{"target": f"http://127.0.0.1:{web_port}/ok?i={i}", "module": "http", "service": "healthy"} for i in range(8)]
    cfg = tmp_path / "probe.yml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "modules": {"http": {"prober": "http", "timeout": "4s", "http": {"preferred_ip_protocol": "ip4"}}},
                "scheduler": {"interval": f"{INTERVAL:g}s", "concurrency": 8},
                "targets": targets,
            }
        )
    )
    e = ExporterProc(cfg, tmp_path)
    try:
        time.sleep(INTERVAL + 1.5)  # every target has had its first slot
        worst = 0.0
        deadline = time.monotonic() + 3 * INTERVAL
        while time.monotonic() < deadline:
            ages = _result_ages(e)
            assert len(ages) == 8, ages
            worst = max(worst, *ages.values())
            time.sleep(0.5)
        assert worst <= INTERVAL + 1, f"a healthy target's result was {worst:.1f}s old (interval {INTERVAL}s)"
        lag = e.metric("infrawatch_scheduler_lag_seconds")
        assert lag is not None and lag < 1.0, lag
    finally:
        e.stop()
