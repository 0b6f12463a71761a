"""The exporter process against a real rbldnsd: metrics, JSON API, reload, state file, Prometheus."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from support import dnsbl_zones as z
from support.procs import free_udp_port
from support.prometheus import Prometheus
from support.rbldnsd import Rbldnsd
from support.reputation_exporter import ReputationExporterProc, all_checked

DQS_KEY = "abcdefgh12345678"


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """Value of the first sample of ``name`` whose labels include ``labels``."""
    for line in metrics.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        m = re.match(r"^(\w+)(\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(4))
    return None


@pytest.fixture
def exporter(tmp_path: Path, dnsbl: Rbldnsd):  # type: ignore[no-untyped-def]
    (tmp_path / "dqs.key").write_text(DQS_KEY + "\n")
    cfg = z.config_yaml(dnsbl.address, extra=f"state_file: {tmp_path / 'state.json'}\n")
    cfg = cfg.replace(
        "targets:", "  - {name: spamhaus-dbl-dqs, profile: spamhaus-dbl, dqs_key_file: dqs.key}\ntargets:", 1
    )
    ex = ReputationExporterProc(tmp_path, cfg).start()
    ex.wait_api(all_checked)
    yield ex
    ex.stop()


def test_metrics_and_api(exporter: ReputationExporterProc) -> None:
    status, metrics = exporter.get("/metrics")
    assert status == 200
    assert sample(metrics, "reputation_listed", target=z.SBL_IP, list="zen") == 1
    assert sample(metrics, "reputation_listed", target=z.CLEAN_IP, list="zen") == 0
    assert sample(metrics, "reputation_listed", target=z.CSS_V6, list="zen") == 1
    assert sample(metrics, "reputation_listed", target=z.SPAM_DOMAIN, list="dbl") == 1
    assert sample(metrics, "reputation_lookup_error", target=z.CLEAN_IP, list="zen") == 0
    assert (
        sample(metrics, "reputation_listing_info", target=z.SBL_IP, list="zen", code="127.0.0.2", category="sbl") == 1
    )
    assert sample(metrics, "reputation_score", target=z.SBL_IP) == 0
    assert sample(metrics, "reputation_score", target=z.CLEAN_IP) == 100
    assert sample(metrics, "reputation_status", target=z.SBL_IP, status="critical") == 1
    assert sample(metrics, "reputation_status", target=z.SBL_IP, status="good") == 0
    assert sample(metrics, "reputation_status", target=z.CLEAN_IP, status="good") == 1
    assert sample(metrics, "reputation_coverage_ratio", target=z.CLEAN_IP) == 1
    assert (
        sample(metrics, "reputation_target_info", target=z.SBL_IP, kind="ip", provider="sendgrid", pool="marketing")
        == 1
    )
    assert sample(metrics, "reputation_list_up", list="zen") == 1
    assert (
        sample(
            metrics,
            "reputation_list_info",
            list="zen",
            zone="zen.test",
            tier="major",
            delist_url="https://check.spamhaus.org/",
        )
        == 1
    )
    assert (sample(metrics, "reputation_last_check_timestamp_seconds", target=z.SBL_IP) or 0) > time.time() - 120
    assert (sample(metrics, "reputation_queries_total", list="zen", result="nxdomain") or 0) >= 1
    assert sample(metrics, "reputation_check_duration_seconds") is not None
    assert sample(metrics, "reputation_daily_query_budget", list="zen") == 300000
    # 3 IP targets + 2 test points every 10 s
    assert sample(metrics, "reputation_projected_daily_queries", list="zen") == 5 * 8640
    assert sample(metrics, "infrawatch_build_info", exporter="reputation") == 1
    assert sample(metrics, "infrawatch_scheduled_targets") == 5
    # the DQS list cannot resolve here: it is down, its pairs unknown, and its key never shown
    assert sample(metrics, "reputation_list_up", list="spamhaus-dbl-dqs") == 0
    assert sample(metrics, "reputation_lookup_error", target=z.SPAM_DOMAIN, list="spamhaus-dbl-dqs") == 1
    assert sample(metrics, "reputation_listed", target=z.SPAM_DOMAIN, list="spamhaus-dbl-dqs") is None
    assert sample(metrics, "reputation_list_info", list="spamhaus-dbl-dqs", zone="<key>.dbl.dq.spamhaus.net") == 1
    # TXT reasons never become labels; secrets appear nowhere
    assert "check.spamhaus.org/sbl/query" not in metrics
    for path in ("/metrics", "/config", "/", "/api/v1/targets"):
        assert DQS_KEY not in exporter.get(path)[1], path
    assert DQS_KEY not in exporter.proc.log()  # type: ignore[union-attr]

    doc = exporter.api()
    sbl = next(t for t in doc["targets"] if t["target"] == z.SBL_IP)
    assert sbl["status"] == "critical" and sbl["provider"] == "sendgrid" and sbl["pool"] == "marketing"
    zen = next(li for li in sbl["listings"] if li["list"] == "zen")
    assert zen["reasons"] == [z.SBL_REASON]
    assert zen["delist_url"] == "https://check.spamhaus.org/"
    assert zen["categories"] == ["sbl"]
    assert {li["list"] for li in sbl["listings"]} == {"zen", "barracuda"}
    assert next(li for li in doc["lists"] if li["name"] == "spamhaus-dbl-dqs")["up"] is False


def test_reload_applies_new_config_and_keeps_old_on_error(exporter: ReputationExporterProc, dnsbl: Rbldnsd) -> None:
    cfg = exporter.config_path
    good = cfg.read_text()
    cfg.write_text(good.replace(f"  - {{ip: {z.CLEAN_IP}, provider: aws, pool: transactional}}\n", ""))
    status, body = exporter.post("/-/reload")
    assert status == 200, body
    doc = exporter.api()
    assert z.CLEAN_IP not in {t["target"] for t in doc["targets"]}
    assert z.SBL_IP in {t["target"] for t in doc["targets"]}
    # bad config: refused, old one stays, gauge drops to 0
    cfg.write_text(good.replace("interval: 10s", "interval: often"))
    status, body = exporter.post("/-/reload")
    assert status == 500 and "interval" in body
    metrics = exporter.get("/metrics")[1]
    assert sample(metrics, "infrawatch_config_last_reload_successful") == 0
    assert z.CLEAN_IP not in {t["target"] for t in exporter.api()["targets"]}
    assert sample(metrics, "reputation_listed", target=z.SBL_IP, list="zen") == 1
    # SIGHUP reloads too
    cfg.write_text(good)
    exporter.proc.signal(signal.SIGHUP)  # type: ignore[union-attr]
    exporter.wait_api(lambda d: z.CLEAN_IP in {t["target"] for t in d["targets"]} and all_checked(d))
    assert sample(exporter.get("/metrics")[1], "infrawatch_config_last_reload_successful") == 1


def test_restart_serves_state_file_results_with_age(tmp_path: Path, exporter: ReputationExporterProc) -> None:
    exporter.stop()
    assert (tmp_path / "state.json").exists()
    # Restart against a resolver that does not answer: only the state file can provide results.
    dead = f"127.0.0.1:{free_udp_port()}"
    text = re.sub(r'nameservers: \["[^"]+"\]', f'nameservers: ["{dead}"]', exporter.config_path.read_text())
    again = ReputationExporterProc(tmp_path / "again", text.replace("dqs.key", str(tmp_path / "dqs.key"))).start()
    try:
        doc = again.api()  # immediately, before any lookup could have finished
        sbl = next(t for t in doc["targets"] if t["target"] == z.SBL_IP)
        assert sbl["status"] == "critical" and sbl["restored"] is True
        assert sbl["result_age_seconds"] >= 0
        metrics = again.get("/metrics")[1]
        assert sample(metrics, "reputation_listed", target=z.SBL_IP, list="zen") == 1
        assert sample(metrics, "reputation_status", target=z.CLEAN_IP, status="good") == 1
        assert sample(metrics, "reputation_result_age_seconds", target=z.SBL_IP) is not None
        assert "restored" in again.get("/")[1]
        # The scheduled list checks (interval 10 s, spread over it) then run against the dead
        # resolver: lists go down and the restored listing becomes unknown instead of staying stale.
        doc = again.wait_api(lambda d: all(li["up"] is False for li in d["lists"]), timeout=40)
        sbl = next(t for t in doc["targets"] if t["target"] == z.SBL_IP)
        assert sbl["status"] == "unknown" and sbl["listings"] == [] and not sbl["restored"]
        metrics = again.get("/metrics")[1]
        assert sample(metrics, "reputation_listed", target=z.SBL_IP, list="zen") is None
        assert sample(metrics, "reputation_lookup_error", target=z.SBL_IP, list="zen") == 1
        assert (sample(metrics, "reputation_queries_total", list="zen", result="timeout") or 0) >= 2
    finally:
        again.stop()


def test_prometheus_scrapes_the_exporter(
    exporter: ReputationExporterProc, prometheus_factory: Callable[..., Prometheus]
) -> None:
    host = exporter.url.split("//", 1)[1]
    prom = prometheus_factory({"scrape_configs": [{"job_name": "reputation", "static_configs": [{"targets": [host]}]}]})
    res = prom.wait_for(f'reputation_listed{{target="{z.SBL_IP}",list="zen"}} == 1')
    assert res[0]["metric"]["job"] == "reputation"
    res = prom.wait_for(f'reputation_status{{target="{z.CLEAN_IP}",status="good"}} == 1')
    assert res
    assert prom.query(f'reputation_listed{{target="{z.CLEAN_IP}"}} == 1') == []
