"""The status page in headless Chromium (Debian's, driven by playwright): a person can read the
traffic-light grid and the recent /probe calls.  A screenshot is kept in test-artifacts/."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from support.probeutil import SECRET, ExporterProc, Targets, write_config

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def test_status_page_in_chromium(targets: Targets, tmp_path: Path, artifacts_dir: Path) -> None:
    cfg = write_config(
        tmp_path / "probe.yml",
        targets,
        {
            "targets": [
                {"target": targets.http("/ok"), "module": "http_2xx", "service": "api", "labels": {"env": "prod"}},
                {"target": targets.http("/health/checks-degraded"), "module": "http_health", "service": "orders"},
                {"target": targets.https("expired"), "module": "http_tls", "service": "smtp"},
                {"target": "http://127.0.0.1:9/", "module": "http_2xx", "service": "redis"},
            ]
        },
    )
    e = ExporterProc(cfg, tmp_path)
    try:
        deadline = time.monotonic() + 20
        while (
            time.monotonic() < deadline
            and e.metric("infrawatch_probes_total", module="http_tls", result="failure") is None
        ):
            time.sleep(0.3)
        time.sleep(2.5)
        e.get("/probe?module=http_2xx&target=" + targets.http())
        e.get("/probe?module=http_2xx&target=" + targets.http("/status/502"))
        e.get(f"/probe?module=http_inline&debug=true&target={targets.http('/echo')}")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.goto(e.url + "/", wait_until="load")
                assert page.title() == "infrawatch probes"
                cards = page.locator("#targets .card")
                assert cards.count() == 4
                states = {
                    cards.nth(i).get_attribute("data-target"): cards.nth(i).get_attribute("data-state")
                    for i in range(4)
                }
                assert states == {
                    targets.http("/ok"): "healthy",
                    targets.http("/health/checks-degraded"): "degraded",
                    targets.https("expired"): "down",
                    "http://127.0.0.1:9/": "down",
                }
                # down first, then degraded, then healthy: what needs attention is on top
                assert cards.nth(0).get_attribute("data-state") == "down"
                assert cards.nth(3).get_attribute("data-state") == "healthy"
                text = page.inner_text("body")
                assert "connect_refused" in text and "certificate has expired" in text
                assert "latency" in text and "ago" in text
                rows = page.locator("#recent tbody tr")
                assert rows.count() == 3
                assert "status_code" in page.inner_text("#recent")
                assert SECRET not in page.content()
                # the dots are really coloured (CSS applied), not just labelled
                colour = page.eval_on_selector(".card.down .dot", "e => getComputedStyle(e).backgroundColor")
                assert colour == "rgb(217, 54, 54)"
                page.screenshot(path=str(artifacts_dir / "probe-status-page.png"), full_page=True)
            finally:
                browser.close()
    finally:
        e.stop()
    assert (artifacts_dir / "probe-status-page.png").stat().st_size > 10_000
