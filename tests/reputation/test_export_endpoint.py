"""Issue 14: "``export``: any range and step ... and the page links to it".  With
``history.prometheus_url`` the status page links every row to ``GET /export?target=``, which gives
the same CSV as ``infrawatch reputation export`` (split under Prometheus' 11,000-point limit), for
configured targets only; against a real exporter, rbldnsd and a real Prometheus scraping it."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from pathlib import Path

from support import dnsbl_zones as z
from support.prometheus import Prometheus
from support.rbldnsd import Rbldnsd
from support.reputation_exporter import ReputationExporterProc, all_checked


def rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def test_page_links_each_row_to_its_history_csv(
    tmp_path: Path, dnsbl: Rbldnsd, prometheus_factory: Callable[..., Prometheus]
) -> None:
    ex = ReputationExporterProc(tmp_path / "ex", z.config_yaml(dnsbl.address)).start()
    try:
        ex.wait_api(all_checked)
        # off by default: no link, the command is shown, /export is 404
        page = ex.get("/")[1]
        assert "/export?" not in page and "infrawatch reputation export --prometheus" in page
        assert ex.get(f"/export?target={z.SBL_IP}")[0] == 404

        host = ex.url.split("//", 1)[1]
        prom = prometheus_factory({"scrape_configs": [{"job_name": "rep", "static_configs": [{"targets": [host]}]}]})
        prom.wait_for(f'count_over_time(reputation_score{{target="{z.SBL_IP}"}}[1m]) >= 3')
        ex.config_path.write_text(
            z.config_yaml(dnsbl.address, extra=f"history: {{prometheus_url: '{prom.url}', since: 5m}}\n")
        )
        assert ex.post("/-/reload")[0] == 200

        page = ex.get("/")[1]
        links = dict(
            (m.group(1), html.unescape(m.group(2)))
            for m in re.finditer(r'<tr data-target="([^"]+)">.*?<a class="history" href="([^"]+)"', page)
        )
        assert links[z.SBL_IP] == f"/export?target={z.SBL_IP}"
        assert links[z.CSS_V6] == "/export?target=2001%3Adb8%3A%3A10"
        assert len(links) == 5  # every row

        status, body = ex.get(links[z.SBL_IP])  # the link, as a browser follows it
        assert status == 200, body
        got = rows(body)
        assert got and set(got[0]) == {"timestamp", "target", "score", "status", "listed_on"}
        assert {r["target"] for r in got} == {z.SBL_IP}
        assert all(r["score"] == "0" and r["status"] == "critical" and r["listed_on"] == "barracuda;zen" for r in got)

        # any step: 5 min at 10 ms = 30,000 points, more than one query_range may answer
        status, body = ex.get(f"/export?target={z.CSS_V6}&since=5m&step=10ms")
        assert status == 200, body
        fine = rows(body)
        assert len(fine) >= 100 and all(r["target"] == z.CSS_V6 and r["status"] == "critical" for r in fine)

        # only configured targets; a bad range is a 400
        assert ex.get("/export?target=198.51.100.1")[0] == 403
        assert ex.get("/export?target=")[0] == 403
        assert ex.get(f"/export?target={z.SBL_IP}&since=often")[0] == 400
    finally:
        ex.stop()


def test_unreachable_history_prometheus_is_a_502(tmp_path: Path, dnsbl: Rbldnsd) -> None:
    extra = "history: {prometheus_url: 'http://127.0.0.1:1', timeout: 2s}\n"
    ex = ReputationExporterProc(tmp_path, z.config_yaml(dnsbl.address, extra=extra)).start()
    try:
        ex.wait_api(all_checked)
        status, body = ex.get(f"/export?target={z.SBL_IP}")
        assert status == 502 and "cannot query the history Prometheus" in body
        assert ex.get("/-/healthy")[0] == 200
    finally:
        ex.stop()
