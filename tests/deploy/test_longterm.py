"""Long-term history: Prometheus ``remote_write`` to VictoriaMetrics, ``reputation export`` from it.

Prometheus keeps 15 days by default, so the 90 days of reputation history `infrawatch reputation
export` promises need a long-term store.  All real, on loopback: rbldnsd with the demo blacklists,
the reputation exporter (examples/reputation.yml: some demo targets are listed), Prometheus scraping
it with ``remote_write`` to Debian's ``victoria-metrics``.  Then Prometheus is stopped and its data
deleted, and the export, pointed at VictoriaMetrics' Prometheus-compatible query API, still returns
the history: it came through remote_write.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infrawatch_dev.devstack.exporters import ReputationExporterProc, all_checked
from infrawatch_dev.devstack.rbldnsd import Rbldnsd, zones_from_datasets
from support.victoriametrics import VictoriaMetrics

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def vm(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    v = VictoriaMetrics(tmp_path / "vm")
    try:
        yield v
    finally:
        v.stop()


@pytest.fixture
def reputation(tmp_path: Path) -> Iterator[ReputationExporterProc]:
    dnsbl = Rbldnsd(tmp_path / "rbldnsd", zones_from_datasets(ROOT / "examples" / "demo-dnsbl")).start()
    cfg = yaml.safe_load((ROOT / "examples" / "reputation.yml").read_text())
    cfg["resolver"]["nameservers"] = [dnsbl.address]
    cfg["interval"] = "10s"
    cfg["state_file"] = str(tmp_path / "state.json")
    exporter = ReputationExporterProc(tmp_path / "reputation", yaml.safe_dump(cfg)).start()
    try:
        exporter.wait_api(all_checked, 60)
        yield exporter
    finally:
        exporter.stop()
        dnsbl.stop()


def export(url: str, *args: str) -> list[dict[str, str]]:
    r = subprocess.run(
        [sys.executable, "-m", "infrawatch.cli", "reputation", "export", "--prometheus", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return list(csv.DictReader(io.StringIO(r.stdout)))


def test_history_written_through_remote_write_comes_back_in_the_export(
    vm: VictoriaMetrics, reputation: ReputationExporterProc, prometheus_factory
) -> None:
    listed = {t["target"] for t in reputation.api()["targets"] if t["status"] == "critical"}
    assert listed, "examples/reputation.yml lists some demo targets on a major list"
    prom = prometheus_factory(
        {
            "global": {"scrape_interval": "1s"},
            "scrape_configs": [
                {
                    "job_name": "infrawatch-reputation",
                    "static_configs": [{"targets": [reputation.url.removeprefix("http://")]}],
                }
            ],
            # the same remote_write block docs/deployment.md and deploy/compose/prometheus.yml use
            "remote_write": [{"url": vm.url + "/api/v1/write"}],
        }
    )
    # a few scrapes reach VictoriaMetrics
    deadline = time.monotonic() + 60
    rows: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        rows = export(vm.url, "--since", "5m", "--step", "1s")
        if len({r["timestamp"] for r in rows}) >= 5:
            break
        time.sleep(1)
    assert len({r["timestamp"] for r in rows}) >= 5, rows
    # Prometheus goes away with its data: what the export reads is VictoriaMetrics' copy
    prom.stop()
    shutil.rmtree(prom.workdir / "data")
    with urllib.request.urlopen(vm.url + "/api/v1/query?query=count(reputation_score)", timeout=10) as r:
        assert b'"status":"success"' in r.read()
    rows = export(vm.url, "--since", "10m", "--step", "1s")
    targets = {r["target"] for r in rows}
    assert {t["target"] for t in reputation.api()["targets"]} <= targets
    for target in listed:
        mine = [r for r in rows if r["target"] == target]
        assert mine and all(r["status"] == "critical" and r["listed_on"] for r in mine), mine[:3]
        assert all(float(r["score"]) < 100 for r in mine)
    # a target filter goes through VictoriaMetrics' PromQL (MetricsQL) too
    # VictoriaMetrics answers a fresh step from its newest parts a moment later (seen: an empty answer
    # at step 5s right after one at step 1s had data), so ask again for a little while.
    one = sorted(listed)[0]
    deadline = time.monotonic() + 30
    while True:
        got = {r["target"] for r in export(vm.url, "--since", "10m", "--step", "5s", "--target", one)}
        if got or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert got == {one}
