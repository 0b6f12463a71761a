"""The README's screenshots, taken by this test from a running dev stack in headless Chromium.

The stack is ``make demo``'s (``DevStack`` with the ``--fast`` timings) in the middle of its story:
the demo IP listed on the major list and the demo app degraded.  Each page is checked for what the
screenshot is meant to show before it is taken.  Screenshots go to test-artifacts/; with
``INFRAWATCH_UPDATE_DOCS_IMAGES=1`` also to docs/img/, which the README shows (commit them).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrawatch_dev.devstack.stack import DevStack, Timings

ROOT = Path(__file__).resolve().parents[2]
DOCS_IMG = ROOT / "docs" / "img"
# README image -> what it shows (the file names the README links to).
SHOTS = {
    "console.png": "the console (Infrastructure Monitoring) during the demo's story",
    "probe-status-page.png": "the probe exporter's status page",
    "reputation-status-page.png": "the reputation exporter's status page: listed, with reason and delisting link",
}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def test_readme_shows_every_screenshot_and_each_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\(docs/img/([\w.-]+\.png)\)", readme))
    assert linked == set(SHOTS), linked
    for name in SHOTS:
        data = (DOCS_IMG / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with DevStack(tmp_path_factory.mktemp("screenshots"), Timings.demo(fast=True)) as st:
        st.wait_ready(120)
        st.set_listed(True)
        st.set_app_health("degraded")
        # the listing has been checked and the degradation has become an alert
        st.reputation_exporter.wait_api(
            lambda d: any(t["target"] == st.demo_target and t["status"] == "critical" for t in d["targets"]), 60
        )
        st.alertmanager.wait_alert(lambda a: True, 60, alertname="ServiceDegraded")
        yield st


@pytest.mark.slow
def test_screenshots(stack: DevStack, artifacts_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    taken = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()

            page.goto(stack.reputation_exporter.url + "/", wait_until="load")
            row = page.locator(f'#targets tr[data-target="{stack.demo_target}"]')
            assert "Critical" in row.inner_text() and row.locator("a.delist").count() == 1
            taken["reputation-status-page.png"] = page.screenshot()

            page.goto(stack.probe_exporter.url + "/", wait_until="load")
            assert page.locator('#targets .card[data-state="degraded"]').count() >= 1
            taken["probe-status-page.png"] = page.screenshot()

            page.goto(stack.console.page_url, wait_until="load")
            deadline = time.monotonic() + 60
            while page.get_attribute('.card[data-service="api"]', "data-state") != "degraded":
                assert time.monotonic() < deadline, page.inner_text("body")[:2000]
                page.wait_for_timeout(500)
            assert "IPListedOnMajorBlacklist" in page.inner_text("body")
            taken["console.png"] = page.screenshot()
        finally:
            browser.close()
    assert set(taken) == set(SHOTS)
    for name, data in taken.items():
        (artifacts_dir / f"readme-{name}").write_bytes(data)
        if os.environ.get("INFRAWATCH_UPDATE_DOCS_IMAGES") == "1":
            DOCS_IMG.mkdir(exist_ok=True)
            (DOCS_IMG / name).write_bytes(data)
