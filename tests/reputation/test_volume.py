"""Issue 14 (seed 000): the "Daily volume" column on the exporter's page and in its API, from the
documented metric contract (``email_sent_total{status,source_ip}``, as the demo app exports it),
through a real Prometheus scraping a small endpoint that serves that counter."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from infrawatch_dev.devstack.receivers import HTTPRequest, RecordingHTTPServer
from support import dnsbl_zones as z
from support.rbldnsd import Rbldnsd
from support.reputation_exporter import ReputationExporterProc, all_checked


class Mta(RecordingHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.started = time.time()

    def respond(self, req: HTTPRequest) -> web.Response:
        sent = int((time.time() - self.started) * 100) + 100
        lines = [
            f'email_sent_total{{type="marketing",status="success",source_ip="{z.SBL_IP}"}} {sent}',
            f'email_sent_total{{type="marketing",status="failed",source_ip="{z.SBL_IP}"}} {sent * 7}',
        ]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


def test_daily_volume_column(tmp_path: Path, dnsbl: Rbldnsd, prometheus_factory: Callable) -> None:
    with Mta() as mta:
        prom = prometheus_factory(
            {
                "global": {"scrape_interval": "1s"},
                "scrape_configs": [{"job_name": "mta", "static_configs": [{"targets": [f"127.0.0.1:{mta.port}"]}]}],
            }
        )
        prom.wait_for(f'increase(email_sent_total{{source_ip="{z.SBL_IP}"}}[1d]) > 0', 60)
        extra = f"volume:\n  prometheus_url: {prom.url}\n"
        ex = ReputationExporterProc(tmp_path, z.config_yaml(dnsbl.address, extra=extra)).start()
        try:
            ex.wait_api(all_checked)
            doc = json.loads(ex.get("/api/v1/targets")[1])
            page = ex.get("/")[1]
        finally:
            ex.stop()
    assert doc["volume_column"] is True
    rows = {t["target"]: t for t in doc["targets"]}
    assert rows[z.SBL_IP]["daily_volume"] > 0  # successful messages only
    assert rows[z.CLEAN_IP]["daily_volume"] is None  # no series for that IP
    assert "<th>Daily volume</th>" in page
    cell = re.search(rf'data-target="{re.escape(z.SBL_IP)}">.*?<td class="volume">([\d,]+)</td>', page, re.S)
    assert cell and int(cell.group(1).replace(",", "")) > 0
    assert re.search(rf'data-target="{re.escape(z.CLEAN_IP)}">.*?<td class="volume">-</td>', page, re.S)
    # listed targets come first on the page
    assert page.index(f'data-target="{z.SBL_IP}"') < page.index(f'data-target="{z.CLEAN_IP}"')
