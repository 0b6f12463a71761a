"""Listed-since and daily volume in the IP Reputation Monitor when the series exist.

Branch ``reputation`` adds ``reputation_listed_since_timestamp_seconds{target,list}``; until it is
merged here, a small metrics endpoint serves the reputation exporter's series in that contract (the
only stand-in in this file: the exporter of this branch does not export the metric yet) together
with the seeds' ``email_sent_total{status,source_ip}`` counter.  A real Prometheus scrapes it; a real
console process renders the page.
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from infrawatch_dev.devstack.console import ConsoleProc
from infrawatch_dev.devstack.procs import free_port
from infrawatch_dev.devstack.receivers import HTTPRequest, RecordingHTTPServer

LISTED, CLEAN = "192.0.2.10", "192.0.2.11"
LISTED_AGO = 2 * 3600 + 10 * 60 + 15  # "2 h 10 min" for the next 45 s


class ReputationSeries(RecordingHTTPServer):
    """The reputation exporter's series for two IPs, and a growing e-mail counter per sending IP."""

    def __init__(self) -> None:
        super().__init__()
        self.started = time.time()
        self.since = self.started - LISTED_AGO

    def respond(self, req: HTTPRequest) -> web.Response:
        sent = int((time.time() - self.started) * 10)
        lines = [
            f'reputation_target_info{{target="{LISTED}",kind="ip",provider="aws",pool="transactional"}} 1',
            f'reputation_target_info{{target="{CLEAN}",kind="ip",provider="sendgrid",pool="marketing"}} 1',
            f'reputation_score{{target="{LISTED}"}} 40',
            f'reputation_score{{target="{CLEAN}"}} 100',
            f'reputation_status{{target="{LISTED}",status="critical"}} 1',
            f'reputation_status{{target="{CLEAN}",status="good"}} 1',
            f'reputation_listed{{target="{LISTED}",list="spamhaus-zen"}} 1',
            f'reputation_listed{{target="{LISTED}",list="barracuda"}} 1',
            f'reputation_listed{{target="{CLEAN}",list="spamhaus-zen"}} 0',
            f'reputation_listed_since_timestamp_seconds{{target="{LISTED}",list="spamhaus-zen"}} {self.since:.0f}',
            f'reputation_listed_since_timestamp_seconds{{target="{LISTED}",list="barracuda"}} {self.since + 600:.0f}',
            f'email_sent_total{{type="transactional",status="success",source_ip="{LISTED}"}} {sent}',
            f'email_sent_total{{type="transactional",status="failed",source_ip="{LISTED}"}} {sent * 5}',
        ]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


def test_listed_since_and_daily_volume_columns(tmp_path: Path, prometheus_factory: Callable) -> None:
    with ReputationSeries() as series:
        since = series.since
        prom = prometheus_factory(
            {
                "global": {"scrape_interval": "1s"},
                "scrape_configs": [{"job_name": "rep", "static_configs": [{"targets": [f"127.0.0.1:{series.port}"]}]}],
            }
        )
        prom.wait_for(f'increase(email_sent_total{{source_ip="{LISTED}"}}[1d]) > 0', 60)
        cfg = tmp_path / "console.yml"
        cfg.write_text(f"prometheus_url: {prom.url}\nalertmanager_url: http://127.0.0.1:{free_port()}\n")
        console = ConsoleProc(cfg, tmp_path).start()
        try:
            with urllib.request.urlopen(console.page_url, timeout=30) as r:
                page = r.read().decode()
        finally:
            console.stop()
    rows = dict(re.findall(r'<tr data-ip="([^"]+)" data-status="[a-z]+">(.*?)</tr>', page, re.S))
    listed = re.sub(r"<[^>]+>", " ", rows[LISTED])
    cells = [c for c in (c.strip() for c in listed.split("  ")) if c]
    # the earliest listing counts; 2 h 10 min ago
    assert time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(since)) + " (2 h 10 min)" in listed, cells
    assert "barracuda, spamhaus-zen" in listed and "Critical" in listed
    # daily volume: the default query's successful messages, a whole number
    volume = re.search(r"<td>([\d,]+)</td>\s*<td><span class=\"pill", rows[LISTED])
    assert volume and int(volume.group(1).replace(",", "")) > 0
    clean = re.sub(r"<[^>]+>", " ", rows[CLEAN])
    assert "Good" in clean and "n/a" not in clean  # the metric exists, this IP just is not listed
    assert page.index(f'data-ip="{LISTED}"') < page.index(f'data-ip="{CLEAN}"')
