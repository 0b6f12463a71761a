"""Listed-since and daily volume in the IP Reputation Monitor, from the real reputation exporter.

The reputation exporter runs against a real rbldnsd serving the standard test zones; its state file
(written by this test in the exporter's own format, as a restart would find it) says the listed IP
was first seen listed 2 h 10 min ago, so ``reputation_listed_since_timestamp_seconds`` carries that
time after the exporter's own cycle confirms the listing.  The only stand-in is a small endpoint with
the seeds' application counter ``email_sent_total{status,source_ip}`` (the mail system's metric, not
infrawatch's).  A real Prometheus scrapes both; a real console process renders the page.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from infrawatch_dev.devstack.console import render_console_page
from infrawatch_dev.devstack.procs import free_port
from infrawatch_dev.devstack.receivers import HTTPRequest, RecordingHTTPServer
from support import dnsbl_zones as z
from support.rbldnsd import start_rbldnsd
from support.reputation_exporter import ReputationExporterProc, all_checked

LISTED, CLEAN = z.SBL_IP, z.CLEAN_IP
LISTED_AGO = 2 * 3600 + 10 * 60 + 15  # "2 h 10 min" for the next 45 s


class EmailCounter(RecordingHTTPServer):
    """The application's e-mail counter per sending IP, growing."""

    def __init__(self) -> None:
        super().__init__()
        self.started = time.time()

    def respond(self, req: HTTPRequest) -> web.Response:
        sent = int((time.time() - self.started) * 10)
        lines = [
            f'email_sent_total{{type="transactional",status="success",source_ip="{LISTED}"}} {sent}',
            f'email_sent_total{{type="transactional",status="failed",source_ip="{LISTED}"}} {sent * 5}',
        ]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


def write_state(path: Path, since: float) -> None:
    """A state file as the exporter writes it (reputation/state.py): the IP listed on both lists."""
    results = [
        {"target": LISTED, "list": name, "status": "listed", "checked_at": since + 60, "listed_since": at}
        for name, at in (("zen", since), ("barracuda", since + 600))
    ]
    path.write_text(json.dumps({"version": 1, "saved_at": since + 60, "results": results, "lists": {}}))


def test_listed_since_and_daily_volume_columns(tmp_path: Path, prometheus_factory: Callable) -> None:
    since = time.time() - LISTED_AGO
    write_state(tmp_path / "state.json", since)
    targets = (
        f"\n  - {{ip: {LISTED}, provider: aws, pool: transactional}}"
        f"\n  - {{ip: {CLEAN}, provider: sendgrid, pool: marketing}}\n"
    )
    dnsbl = start_rbldnsd(tmp_path / "rbldnsd", z.standard_zones())
    exporter = None
    try:
        rep_cfg = z.config_yaml(dnsbl.address, targets=targets, extra=f"state_file: {tmp_path / 'state.json'}\n")
        exporter = ReputationExporterProc(tmp_path / "rep", rep_cfg).start()
        exporter.wait_api(all_checked)
        with EmailCounter() as counter:
            rep_address = exporter.url.split("//", 1)[1].rstrip("/")
            prom = prometheus_factory(
                {
                    "global": {"scrape_interval": "1s"},
                    "scrape_configs": [
                        {"job_name": "reputation", "static_configs": [{"targets": [rep_address]}]},
                        {"job_name": "mail", "static_configs": [{"targets": [f"127.0.0.1:{counter.port}"]}]},
                    ],
                }
            )
            prom.wait_for(f'increase(email_sent_total{{source_ip="{LISTED}"}}[1d]) > 0', 60)
            # the real exporter's series, as Prometheus has it: the state file's first-seen times
            got = prom.wait_for("reputation_listed_since_timestamp_seconds", 60)
            assert {(s["metric"]["list"], round(float(s["value"][1]))) for s in got} == {
                ("zen", round(since)),
                ("barracuda", round(since + 600)),
            }
            page = render_console_page(prom.url, f"http://127.0.0.1:{free_port()}", tmp_path)
    finally:
        if exporter is not None:
            exporter.stop()
        dnsbl.cleanup()
    rows = dict(re.findall(r'<tr data-ip="([^"]+)" data-status="[a-z]+">(.*?)</tr>', page, re.S))
    listed = re.sub(r"<[^>]+>", " ", rows[LISTED])
    cells = [c for c in (c.strip() for c in listed.split("  ")) if c]
    # the earliest listing counts; 2 h 10 min ago
    assert time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(since)) + " (2 h 10 min)" in listed, cells
    assert "barracuda, zen" in listed and "Critical" in listed
    # daily volume: the default query's successful messages, a whole number
    volume = re.search(r"<td>([\d,]+)</td>\s*<td><span class=\"pill", rows[LISTED])
    assert volume and int(volume.group(1).replace(",", "")) > 0
    clean = re.sub(r"<[^>]+>", " ", rows[CLEAN])
    assert "Good" in clean and "n/a" not in clean  # the metric exists, this IP just is not listed
    assert page.index(f'data-ip="{LISTED}"') < page.index(f'data-ip="{CLEAN}"')
