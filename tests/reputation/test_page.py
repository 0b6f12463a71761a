"""The status page in headless Chromium (Playwright), against the exporter and a real rbldnsd."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import dnsbl_zones as z
from support.rbldnsd import Rbldnsd
from support.reputation_exporter import ReputationExporterProc, all_checked


@pytest.fixture
def exporter(tmp_path: Path, dnsbl: Rbldnsd) -> Iterator[ReputationExporterProc]:
    lists = """
  - {name: zen, profile: spamhaus-zen, zone: zen.test}
  - {name: barracuda, profile: barracuda, zone: bar.test}
  - {name: wildcard, profile: spamcop, zone: wild.test}
  - {name: dbl, profile: spamhaus-dbl, zone: dbl.test}
"""
    targets = f"""
  - {{ip: {z.CLEAN_IP}, provider: aws, pool: transactional}}
  - {{ip: {z.SBL_IP}, provider: sendgrid, pool: marketing}}
  - {{domain: {z.SPAM_DOMAIN}}}
  - {{ip: {z.PBL_IP}, provider: "<img src=x onerror=alert(1)>", pool: "a&b"}}
"""
    ex = ReputationExporterProc(
        tmp_path, z.config_yaml(dnsbl.address, lists, targets, "scoring: {min_coverage: 0.6}\n")
    ).start()
    ex.wait_api(all_checked)
    yield ex
    ex.stop()


def test_status_page_in_chromium(exporter: ReputationExporterProc, artifacts_dir: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is installed by scripts/bootstrap"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(exporter.url + "/")
            assert page.title() == "infrawatch reputation exporter"
            assert page.locator("h1").inner_text() == "IP Reputation Monitor"
            headers = page.locator("#targets thead th").all_inner_texts()
            assert headers == ["IP / domain", "Provider", "Pool", "Score", "Blacklists", "Status", "Last checked"]

            sbl = page.locator(f'#targets tr[data-target="{z.SBL_IP}"]')
            cells = sbl.locator("td").all_inner_texts()
            assert cells[:4] == [z.SBL_IP, "sendgrid", "marketing", "0"]
            assert cells[5] == "Critical"
            zen = sbl.locator('li[data-list="zen"]')
            assert z.SBL_REASON in zen.inner_text()
            assert zen.locator("a.delist").get_attribute("href") == "https://check.spamhaus.org/"
            assert sbl.locator('li[data-list="barracuda"]').count() == 1
            # the wildcard list is down: not counted as a listing, shown as unknown
            assert sbl.locator('li[data-list="wildcard"]').count() == 0
            assert "unknown on 1 list(s): wildcard" in cells[4]

            clean = page.locator(f'#targets tr[data-target="{z.CLEAN_IP}"]').locator("td").all_inner_texts()
            assert clean[3] == "100" and clean[5] == "Good" and "none" in clean[4]
            assert "coverage 2/3" in clean[6]

            # configured text is escaped, never markup
            odd = page.locator(f'#targets tr[data-target="{z.PBL_IP}"]').locator("td").all_inner_texts()
            assert odd[1:3] == ["<img src=x onerror=alert(1)>", "a&b"]
            assert page.locator("#targets img").count() == 0

            wild = page.locator('#lists tr[data-list="wildcard"]').inner_text()
            assert "down" in wild and "not clean" in wild
            assert "up" in page.locator('#lists tr[data-list="zen"]').inner_text()
            page.screenshot(path=str(artifacts_dir / "reputation-status-page.png"), full_page=True)
        finally:
            browser.close()
