"""The application simulator behaves like the seeds' API: its knobs show up in the metrics and health JSON."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.appsim import AppSim
from support.procs import Proc


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _samples(sim: AppSim) -> list:
    _, body = _get(sim.url + "/metrics")
    return [s for f in text_string_to_metric_families(body.decode()) for s in f.samples]


@pytest.fixture
def sim():
    s = AppSim(seed=1, tick_seconds=3600).start()  # traffic only through generate(): exact counts
    yield s
    s.stop()


def test_error_ratio_and_latency_knobs_shape_the_metrics(sim):
    sim.set(error_ratio=0.5, latency_seconds=0.2, requests_per_second=100)
    assert sim.generate(10) == 1000
    samples = _samples(sim)
    total = sum(s.value for s in samples if s.name == "http_requests_total")
    errors = sum(s.value for s in samples if s.name == "http_requests_total" and s.labels["code"].startswith("5"))
    assert total == 1000
    assert 0.4 < errors / total < 0.6
    count = sum(s.value for s in samples if s.name == "http_request_duration_seconds_count")
    under_100ms = sum(
        s.value for s in samples if s.name == "http_request_duration_seconds_bucket" and s.labels["le"] == "0.1"
    )
    under_500ms = sum(
        s.value for s in samples if s.name == "http_request_duration_seconds_bucket" and s.labels["le"] == "0.5"
    )
    assert count == 1000
    assert under_100ms / count < 0.2 and under_500ms / count > 0.9  # median 0.2 s


def test_health_states_in_health_json_and_cluster_health(sim):
    status, body = _get(sim.url + "/health")
    assert status == 200 and json.loads(body)["status"] == "healthy"
    assert json.loads(_get(sim.url + "/_cluster/health")[1])["status"] == "green"
    sim.set(health="degraded")
    status, body = _get(sim.url + "/health")
    doc = json.loads(body)
    assert status == 200 and doc["status"] == "degraded" and doc["checks"]["rpc"]["status"] == "degraded"
    assert json.loads(_get(sim.url + "/_cluster/health")[1])["status"] == "yellow"
    sim.set(health="down")
    assert _get(sim.url + "/health")[0] == 503
    assert _get(sim.url + "/ready")[0] == 503
    sim.generate(1)
    codes = {s.labels["code"] for s in _samples(sim) if s.name == "http_requests_total"}
    assert codes <= {"500", "502", "503"}


def test_knobs_over_http_and_validation(sim):
    req = urllib.request.Request(sim.url + "/-/sim", data=json.dumps({"error_ratio": 0.25}).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert json.load(r)["error_ratio"] == 0.25
    assert sim.state()["error_ratio"] == 0.25
    assert _get(sim.url + "/-/sim?health=broken")[0] == 400
    assert _get(sim.url + "/-/sim?error_ratio=2")[0] == 400
    assert _get(sim.url + "/-/sim?bogus=1")[0] == 400
    assert sim.state()["health"] == "healthy"


def _emails(sim: AppSim, status: str) -> dict[str, float]:
    return {
        s.labels["source_ip"]: s.value
        for s in _samples(sim)
        if s.name == "email_sent_total" and s.labels["status"] == status
    }


def test_email_volume_per_sending_ip(sim):
    sim.set(emails_per_second=2, sending_ips="192.0.2.10,192.0.2.11", requests_per_second=0)
    sim.generate(10)
    assert _emails(sim, "success") == {"192.0.2.10": 10.0, "192.0.2.11": 10.0}
    # No failures by default, but the series exists (at 0) so a failure ratio is 0, not absent.
    assert _emails(sim, "failed") == {"192.0.2.10": 0.0, "192.0.2.11": 0.0}


def test_email_failure_ratio_knob_fails_that_share_of_each_ips_mail(sim):
    sim.set(emails_per_second=100, sending_ips="192.0.2.10,192.0.2.11", requests_per_second=0)
    sim.set(email_failure_ratio=0.25)
    sim.generate(20)
    ok, failed = _emails(sim, "success"), _emails(sim, "failed")
    for ip in ("192.0.2.10", "192.0.2.11"):
        assert ok[ip] + failed[ip] == 1000
        assert 0.2 < failed[ip] / 1000 < 0.3, (ip, failed[ip])
    assert _get(sim.url + "/-/sim?email_failure_ratio=1.5")[0] == 400


def test_runs_as_a_script_and_generates_traffic(tmp_path, repo_root):
    proc = Proc(
        [
            sys.executable,
            str(repo_root / "tests/support/appsim.py"),
            "--web.listen-address=127.0.0.1:0",
            "--requests-per-second=50",
        ],
        tmp_path / "appsim.log",
    )
    try:
        import time

        deadline = time.monotonic() + 60  # a loaded machine starts Python slowly
        while "listening" not in proc.log() and time.monotonic() < deadline:
            assert proc.alive(), proc.log()
            time.sleep(0.05)
        url = json.loads(proc.log().splitlines()[0])["addresses"][0]
        first = _get(url + "/metrics")[1].decode()
        # The traffic is random: wait for the series (the most common request kind), not just any.
        want = 'http_requests_total{code="200",method="GET",path="/v1/tracks"}'
        while time.monotonic() < deadline:
            body = _get(url + "/metrics")[1].decode()
            if want in body and body != first:
                break
            time.sleep(0.2)
        assert want in body
    finally:
        proc.stop()
    assert proc.proc.returncode == 0
