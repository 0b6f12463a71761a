"""The alerts feed lists alerts that fired, never alerts that were only pending.

A real Prometheus evaluates four rules on a small toggle endpoint (the only stand-in: a scrape target
whose series the test switches off) and sends to a real Alertmanager; a real console process renders
the page.  Before the fix, ``PendingThenCleared`` was listed as "resolved" and ``StillPending`` as
"pending".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from aiohttp import web

from infrawatch_dev.devstack.console import render_console_page
from infrawatch_dev.devstack.receivers import HTTPRequest, RecordingHTTPServer
from support.alertmanager import Alertmanager


class Toggles(RecordingHTTPServer):
    """``feed_toggle{name=...} 1`` for every name still switched on."""

    def __init__(self) -> None:
        super().__init__()
        self.on = {"fired", "pending"}

    def respond(self, req: HTTPRequest) -> web.Response:
        text = "".join(f'feed_toggle{{name="{n}"}} 1\n' for n in sorted(self.on))
        return web.Response(text=text, content_type="text/plain")


def rule(alert: str, expr: str, for_: str, severity: str) -> dict[str, object]:
    return {
        "alert": alert,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "service": "feedtest"},
        "annotations": {"summary": f"{alert} summary.", "runbook_url": f"https://runbooks.example/{alert}"},
    }


RULES = {
    "groups": [
        {
            "name": "feed",
            "interval": "1s",
            "rules": [
                rule("FiringNow", "vector(1)", "1s", "critical"),
                rule("FiredThenResolved", 'feed_toggle{name="fired"} == 1', "1s", "warning"),
                rule("PendingThenCleared", 'feed_toggle{name="pending"} == 1', "1h", "critical"),
                rule("StillPending", "vector(1)", "1h", "warning"),
            ],
        }
    ]
}


def feed_rows(page: str) -> dict[str, str]:
    """alertname -> the row's text (cells joined by " | ")."""
    table = page[page.index('<table id="alerts">') :]
    rows = {}
    for name, body in re.findall(r'<tr data-alertname="([^"]*)"[^>]*>(.*?)</tr>', table, re.S):
        cells = [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
        assert name not in rows, f"two rows for {name}"
        rows[name] = " | ".join(" ".join(c) for c in cells)
    return rows


def test_feed_lists_fired_alerts_only(tmp_path: Path, prometheus_factory: Callable) -> None:
    am_cfg = tmp_path / "alertmanager.yml"
    am_cfg.write_text(yaml.safe_dump({"route": {"receiver": "null"}, "receivers": [{"name": "null"}]}))
    am = Alertmanager(tmp_path / "am", am_cfg).start()
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(RULES, sort_keys=False))
    try:
        with Toggles() as toggles:
            prom = prometheus_factory(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am.port}"]}]}]},
                    "scrape_configs": [
                        {"job_name": "toggles", "static_configs": [{"targets": [f"127.0.0.1:{toggles.port}"]}]}
                    ],
                },
                [str(rules)],
            )
            prom.wait_for('ALERTS{alertname="FiredThenResolved",alertstate="firing"}', 60)
            prom.wait_for('ALERTS{alertname="PendingThenCleared",alertstate="pending"}', 60)
            toggles.on.clear()
            prom.wait_for('absent(ALERTS{alertname=~"FiredThenResolved|PendingThenCleared"})', 60)
            deadline = time.time() + 60
            while not any(a["labels"]["alertname"] == "FiringNow" for a in am.alerts()):
                assert time.time() < deadline, "FiringNow never reached Alertmanager"
                time.sleep(0.5)
            # Prometheus' own view: all four alerts have an ALERTS_FOR_STATE series in the window
            assert len(prom.query("count by (alertname) (max_over_time(ALERTS_FOR_STATE[1h]))")) == 4
            page = render_console_page(prom.url, am.url, tmp_path)
    finally:
        am.stop()
    rows = feed_rows(page)
    assert set(rows) == {"FiringNow", "FiredThenResolved"}, rows
    # timestamp | severity | service | message | state | actions (runbook)
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    assert re.fullmatch(
        stamp + r" \| ERROR \| feedtest \| FiringNow FiringNow summary\. \| firing \| Runbook.*", rows["FiringNow"]
    )
    assert re.fullmatch(
        stamp + r" \| WARNING \| feedtest \| FiredThenResolved FiredThenResolved summary\. \| resolved \| Runbook.*",
        rows["FiredThenResolved"],
    )
    assert 'href="https://runbooks.example/FiringNow"' in page
    # the banner counts what fires now: one ERROR, no WARNING (the resolved one and the pending ones)
    summary = re.search(r'<p id="feed-summary"[^>]*>(.*?)</p>', page, re.S)
    assert summary and "Firing now: 1 ERROR, 0 WARNING" in summary.group(1), summary
