"""The probe exporter as a real process: /probe refusals, debug output, timeouts, reload,
file_sd, sharding, hanging targets, descriptor leaks and `promtool check metrics`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infrawatch.probe.targets import parse_shard, shard_owner
from support.probeutil import SECRET, ExporterProc, Targets, write_config
from support.procs import require_binary


@pytest.fixture
def exporter(tmp_path: Path, targets: Targets):
    started: list[ExporterProc] = []

    def start(extra: dict | None = None, args: list[str] | None = None) -> ExporterProc:
        cfg = write_config(tmp_path / f"probe-{len(started)}.yml", targets, extra)
        e = ExporterProc(cfg, tmp_path, args)
        started.append(e)
        return e

    yield start
    for e in started:
        e.stop()


def test_probe_refusals_and_messages(exporter, targets: Targets) -> None:
    e = exporter()
    code, text = e.get("/probe?target=" + targets.http() + "&module=nope")
    assert code == 400 and "Unknown module 'nope'" in text
    code, text = e.get("/probe?module=http_2xx")
    assert code == 400 and "Target parameter is missing" in text
    code, text = e.get("/probe?module=http_2xx&target=http://%5B::1/")
    assert code == 400 and "malformed" in text
    code, text = e.get("/probe?module=http_2xx&target=http://169.254.169.254/latest/meta-data/")
    assert code == 403 and "not in allowed_targets" in text
    code, text = e.get("/probe?module=http_2xx&target=http://example.com/")
    assert code == 403
    assert e.metric("infrawatch_probe_refused_total", reason="not_allowed") == 2
    assert e.metric("infrawatch_probe_refused_total", reason="unknown_module") == 1
    assert e.metric("infrawatch_probe_refused_total", reason="bad_target") == 2
    # allowed by the list
    code, text = e.get("/probe?module=http_2xx&target=" + targets.http())
    assert code == 200 and "probe_success 1" in text
    # a configured target is allowed although 10.0.0.0/8 is not in allowed_targets
    code, text = e.get(
        "/probe?module=http_2xx&target=http://10.255.255.1:81/only-configured",
        headers={"X-Prometheus-Scrape-Timeout-Seconds": "1.5"},
    )
    assert code == 200 and "probe_success 0" in text


def test_scrape_timeout_header_bounds_probe(exporter, targets: Targets) -> None:
    e = exporter()
    code, text = e.get(
        "/probe?module=http_2xx&target=" + targets.http("/slow?secs=20"),
        headers={"X-Prometheus-Scrape-Timeout-Seconds": "1.5"},
    )
    assert code == 200
    assert "probe_success 0" in text
    assert 'probe_failure_info{reason="timeout"} 1' in text
    duration = float(next(line.split()[1] for line in text.splitlines() if line.startswith("probe_duration_seconds")))
    assert duration < 1.5  # 1.5 s scrape timeout minus the 0.5 s offset
    e2 = exporter(args=["--timeout-offset=1.2"])
    code, text = e2.get(
        "/probe?module=http_2xx&debug=true&target=" + targets.http("/slow?secs=20"),
        headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"},
    )
    assert "timeout_seconds=0.8" in text  # 2 s minus the 1.2 s offset


def test_debug_output_masks_secrets(exporter, targets: Targets) -> None:
    e = exporter()
    for module in ("http_auth", "http_inline"):
        code, text = e.get(f"/probe?module={module}&debug=true&target=" + targets.http("/echo"))
        assert code == 200
        assert "Logs for the probe:" in text and "Metrics that would have been returned:" in text
        assert "Module configuration:" in text and "prober: http" in text
        assert ("<secret>" in text) if module == "http_inline" else ("password_file:" in text)
        assert SECRET not in text and "Authorization" not in text
    code, text = e.get("/config")
    assert code == 200 and SECRET not in text and "<secret>" in text
    code, text = e.get("/")
    assert SECRET not in text
    assert SECRET not in e.proc.log()


def test_reload_with_broken_file_keeps_old_config(exporter, targets: Targets) -> None:
    e = exporter()
    assert e.metric("infrawatch_config_last_reload_successful") == 1
    good = e.config_path.read_text()
    e.config_path.write_text(good.replace("prober: http\n", "prober: htp\n", 1))
    code, text = e.post("/-/reload")
    assert code == 500 and "unknown prober 'htp'" in text and ":" in text
    assert e.metric("infrawatch_config_last_reload_successful") == 0
    code, text = e.get("/probe?module=http_2xx&target=" + targets.http())
    assert code == 200 and "probe_success 1" in text  # the old modules still work
    # SIGHUP takes the same path
    e.proc.signal(signal.SIGHUP)
    time.sleep(0.5)
    assert e.metric("infrawatch_config_last_reload_successful") == 0
    code, page = e.get("/")
    assert "reload failed" in page
    e.config_path.write_text(good.replace("interval: 2s", "interval: 3s"))
    code, _ = e.post("/-/reload")
    assert code == 200
    assert e.metric("infrawatch_config_last_reload_successful") == 1


def test_scheduled_results_and_promtool_check_metrics(exporter, targets: Targets, tmp_path: Path) -> None:
    e = exporter(
        {
            "targets": [
                {"target": targets.http("/ok"), "module": "http_2xx", "service": "api", "labels": {"env": "test"}},
                {"target": targets.https("expired"), "module": "http_tls", "service": "web"},
                {"target": targets.http("/health/checks-degraded"), "module": "http_health", "service": "svc"},
                {"target": "http://127.0.0.1:9/", "module": "http_2xx", "service": "down"},
            ]
        }
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and e.metric("probe_success", service="down") is None:
        time.sleep(0.3)
    time.sleep(2.5)  # every target has run once (interval 2s)
    assert e.metric("probe_success", target=targets.http("/ok"), module="http_2xx", service="api", env="test") == 1
    assert e.metric("probe_success", service="web") == 0
    assert e.metric("probe_tls_verified", service="web") == 0
    assert e.metric("probe_ssl_earliest_cert_expiry", service="web") == targets.certs.not_after("expired")
    assert e.metric("probe_failure_info", service="web", reason="tls") == 1
    assert e.metric("probe_health_status", service="svc") == 0.5
    assert e.metric("probe_failure_info", service="down", reason="connect_refused") == 1
    assert e.metric("infrawatch_scheduled_targets") == 4
    assert e.metric("infrawatch_probes_total", module="http_2xx", result="success") >= 1
    code, om = e.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert code == 200 and om.endswith("# EOF\n") and om.count("# EOF") == 1 and "probe_success{" in om
    _, text = e.get("/metrics")
    out = subprocess.run(
        [require_binary("promtool"), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_file_sd_reloaded_on_change(exporter, targets: Targets, tmp_path: Path) -> None:
    sd = tmp_path / "sd"
    sd.mkdir()
    (sd / "a.json").write_text(json.dumps([{"targets": [targets.http("/ok?from=file_sd")], "labels": {"team": "a"}}]))
    e = exporter(
        {
            "file_sd": [
                {"files": [str(sd / "*.json")], "module": "http_2xx", "service": "fsd", "refresh_interval": "200ms"}
            ]
        }
    )

    def wait(pred, what: str) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.2)
        raise AssertionError(what)

    wait(lambda: e.metric("probe_success", service="fsd", team="a") == 1, "file_sd target probed")
    (sd / "b.json").write_text(
        json.dumps([{"targets": [targets.http("/status/500")], "labels": {"team": "b", "service": "other"}}])
    )
    wait(lambda: e.metric("probe_success", service="other", team="b") == 0, "new file picked up")
    assert e.metric("infrawatch_scheduled_targets") == 4
    (sd / "a.json").write_text("[{not json")
    wait(lambda: e.metric("infrawatch_file_sd_errors") == 1, "broken file reported")
    assert e.metric("probe_success", service="fsd", team="a") == 1  # previous targets kept
    (sd / "b.json").unlink()
    wait(lambda: e.metric("probe_success", service="other") is None, "removed file's target dropped")


def test_shards_split_targets(exporter, targets: Targets) -> None:
    tlist = [
        {"target": f"http://127.0.0.1:9/{i}", "module": "http_2xx", "service": "s", "interval": "1h"} for i in range(24)
    ]
    shards = [exporter({"targets": tlist}, ["--shard", f"{i}/3"]) for i in range(3)]
    counts = [e.metric("infrawatch_scheduled_targets") for e in shards]
    # 2 configured targets are in write_config's base list but replaced here: 24 in all
    assert sum(counts) == 24 and all(c > 0 for c in counts), counts


def test_shard_hashing_is_consistent() -> None:
    keys = [f"target-{i}" for i in range(2000)]
    before = {k: shard_owner(k, 4) for k in keys}
    after = {k: shard_owner(k, 5) for k in keys}
    moved = sum(1 for k in keys if before[k] != after[k])
    assert moved < len(keys) * 0.3  # ~1/5 move; modulo hashing would move ~4/5
    assert all(after[k] == 4 for k in keys if before[k] != after[k])
    assert parse_shard("2/3") == (2, 3)
    for bad in ("3/3", "a/b", "1", "-1/2"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_hanging_targets_block_neither_metrics_nor_other_probes(exporter, targets: Targets) -> None:
    hang = [
        {"target": targets.http(f"/slow?secs=60&i={i}"), "module": "http_2xx", "service": "hang", "interval": "2s"}
        for i in range(30)
    ]
    e = exporter(
        {
            "targets": hang,
            "scheduler": {"interval": "2s", "timeout": "2s", "concurrency": 8},
            "probe_endpoint": {"concurrency": 4},
        }
    )
    stop = threading.Event()

    def flood() -> None:
        while not stop.is_set():
            e.get(
                "/probe?module=http_2xx&target=" + targets.http("/slow?secs=60"),
                headers={"X-Prometheus-Scrape-Timeout-Seconds": "3"},
            )

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        for _ in range(5):
            code, text = e.get("/metrics", timeout=5)
            assert code == 200 and "infrawatch_probes_in_flight" in text
            code, _ = e.get("/-/healthy", timeout=5)
            assert code == 200
        # a good target still gets probed (waits at most for a slot, within its own deadline)
        code, text = e.get(
            "/probe?module=http_2xx&target=" + targets.http(),
            headers={"X-Prometheus-Scrape-Timeout-Seconds": "10"},
            timeout=15,
        )
        assert code == 200 and "probe_success 1" in text
    finally:
        stop.set()
        for t in threads:
            t.join(10)


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_no_fd_leak_after_1000_failed_probes(exporter, targets: Targets) -> None:
    e = exporter({"targets": []})
    e.get("/probe?module=http_2xx&target=http://127.0.0.1:9/")  # warm up lazily opened files
    e.get("/probe?module=http_tls&target=" + targets.https("expired"))
    time.sleep(0.3)
    start = _fds(e.proc.pid)
    urls = (
        ["/probe?module=http_2xx&target=http://127.0.0.1:9/"] * 900
        + ["/probe?module=http_tls&target=" + targets.https("expired")] * 50
        + ["/probe?module=http_2xx&target=" + targets.http("/reset")] * 50
    )
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda u: e.get(u), urls))
    assert all(code == 200 and "probe_success 0" in text for code, text in results)
    assert e.metric("infrawatch_probes_total", module="http_2xx", result="failure") >= 950
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _fds(e.proc.pid) > start:
        time.sleep(0.2)
    assert _fds(e.proc.pid) <= start
