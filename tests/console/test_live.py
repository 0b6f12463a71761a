"""The console against the dev stack (real Prometheus, Alertmanager, both exporters, rbldnsd, the
app simulator, fake receivers), driven in headless Chromium (Debian's, through playwright).

One stack and one browser for the module; the tests run in file order and tell one story: healthy,
degraded, down, an IP listed, acknowledge, ticket, rotation, then Alertmanager goes away.
Screenshots go to test-artifacts/console-*.png (docs/console.md shows copies of them).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from infrawatch_dev.devstack.console import ConsoleProc, console_config
from infrawatch_dev.devstack.stack import DevStack

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
TOKEN = "demo-console-hook-token"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    st = DevStack(tmp_path_factory.mktemp("console-stack"))
    with st:
        st.wait_ready(120)
        yield st


@pytest.fixture(scope="module")
def page(stack: DevStack) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            pg.goto(stack.console.page_url, wait_until="load")
            yield pg
        finally:
            browser.close()


def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"console-{name}.png"), full_page=True)


def card_state(page: Page, service: str) -> str | None:
    return page.get_attribute(f'.card[data-service="{service}"]', "data-state")


def hook_calls(stack: DevStack, path: str) -> list[Any]:
    return stack.webhook.matching(lambda r: r.path == path)


def wait_until(page: Page, js: str, timeout: float = 90) -> None:
    page.wait_for_function(js, timeout=timeout * 1000, polling=250)


def test_stack_lists_the_console_first_and_it_answers(stack: DevStack) -> None:
    name, url = next(iter(stack.urls().items()))
    assert name == "console (Infrastructure Monitoring)" and url == stack.console.page_url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
    assert "console" in stack.pids()


def test_healthy_page_every_card_of_the_mixin(stack: DevStack, page: Page, artifacts_dir: Path) -> None:
    assert page.title() == "Infrastructure Monitoring · infrawatch"
    # one card per service of jsonnet/config.libsonnet, in its order
    services = page.eval_on_selector_all(".card", "els => els.map(e => e.dataset.service)")
    assert services == ["api", "smtp", "oltp-db", "olap-db", "redis", "elasticsearch"]
    wait_until(page, "document.querySelector('.card[data-service=api]').dataset.state === 'healthy'")
    colour = page.eval_on_selector('.card[data-service="api"] .dot', "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(46, 158, 79)"
    # The probe makes the card healthy before the request rate has two samples in its window: wait
    # for the figure (the page refreshes in place), as the figure itself is what is asserted.
    wait_until(page, "document.querySelector('.card[data-service=api]').innerText.includes('req/s')")
    api = page.inner_text('.card[data-service="api"]')
    for figure in ("Average", "p95", "p99", "Request rate", "Error rate"):
        assert figure in api
    assert "req/s" in api
    # the demo has no Postfix/PostgreSQL/Redis/Elasticsearch: said so, not painted green
    assert card_state(page, "redis") == "nodata"
    assert "5 without data" in page.inner_text("#banner")
    assert page.inner_text("#feed-summary") == "No ERROR or WARNING alert firing"
    # IP table: the transactional pool, from the reputation exporter through Prometheus
    wait_until(page, f"document.querySelector('#ips tr[data-ip=\"{stack.demo_target}\"]') !== null")
    row = page.inner_text(f'#ips tr[data-ip="{stack.demo_target}"]')
    assert "aws" in row and "transactional" in row and "Good" in row
    content = page.content()
    assert TOKEN not in content and stack.webhook.url not in content
    shot(page, artifacts_dir, "healthy")


def test_all_green_banner_when_every_card_is_healthy(stack: DevStack, page: Page, artifacts_dir: Path) -> None:
    """A site running only the API (its config.libsonnet lists one service): the dashboard the console
    reads has one card, and the banner says all green."""
    doc = json.loads((stack.root / "dashboards" / "infrawatch-overview.json").read_text())
    doc["panels"] = [p for p in doc["panels"] if p["gridPos"]["x"] == 0 or p["type"] == "row"]
    workdir = stack.workdir / "console-api-only"
    workdir.mkdir()
    (workdir / "overview.json").write_text(json.dumps(doc))
    cfg = console_config(
        workdir,
        stack.prometheus.url,
        stack.alertmanager.url,
        stack.reputation_exporter.url,
        stack.webhook.url,
        extra={"dashboard_file": str(workdir / "overview.json")},
    )
    console = ConsoleProc(cfg, workdir).start()
    other = page.context.new_page()
    try:
        other.goto(console.page_url)
        assert other.eval_on_selector_all(".card", "els => els.map(e => e.dataset.service)") == ["api"]
        assert other.get_attribute("#banner", "data-state") == "all-green"
        assert other.inner_text("#banner") == "✓ All 1 service healthy — all green"
        other.screenshot(path=str(artifacts_dir / "console-all-green.png"), full_page=True)
    finally:
        other.close()
        console.stop()


def test_cards_change_colour_live_when_the_service_degrades_and_goes_down(
    stack: DevStack, page: Page, artifacts_dir: Path
) -> None:
    page.evaluate("window.__notReloaded = true")
    stack.set_app_health("degraded")
    wait_until(page, "document.querySelector('.card[data-service=api]').dataset.state === 'degraded'")
    assert page.eval_on_selector('.card[data-service="api"] .dot', "e => getComputedStyle(e).backgroundColor") == (
        "rgb(224, 176, 0)"
    )
    shot(page, artifacts_dir, "degraded")
    stack.set_app_health("down")
    wait_until(page, "document.querySelector('.card[data-service=api]').dataset.state === 'down'")
    assert page.eval_on_selector('.card[data-service="api"] .dot', "e => getComputedStyle(e).backgroundColor") == (
        "rgb(217, 54, 54)"
    )
    assert page.evaluate("window.__notReloaded") is True, "the page reloaded instead of refreshing its panels"
    # the outage reaches the feed as an ERROR for service api (ServiceProbeFailing / APIDown)
    wait_until(
        page, "[...document.querySelectorAll('#alerts tr[data-severity=ERROR]')].some(r => r.dataset.fingerprint)"
    )
    assert "api" in page.inner_text("#alerts")
    shot(page, artifacts_dir, "down")


def test_listed_ip_appears_with_reasons_and_delisting_link(stack: DevStack, page: Page, artifacts_dir: Path) -> None:
    stack.set_listed(True)
    sel = f'#ips tr[data-ip="{stack.demo_target}"]'
    wait_until(page, f"document.querySelector('{sel}')?.dataset.status === 'critical'")
    row = page.inner_text(sel)
    assert "spamhaus-zen" in row and "Critical" in row
    # listed first: what needs attention is on top
    assert page.get_attribute("#ips tbody tr", "data-ip") == stack.demo_target
    shot(page, artifacts_dir, "listed")
    details = page.context.new_page()
    try:
        details.goto(stack.console.page_url + "/ip/" + stack.demo_target)
        text = details.inner_text("#listings")
        assert "Listed in the SBL (infrawatch demo)" in text
        assert "spamhaus-zen" in text and "major" in text
        assert details.get_attribute('#listings tr[data-list="spamhaus-zen"] a.delist', "href").startswith("http")
        details.screenshot(path=str(artifacts_dir / "console-ip-details.png"), full_page=True)
    finally:
        details.close()


def _active_row(page: Page, alertname: str) -> str:
    """Fingerprint of the firing (Alertmanager-active) row of ``alertname``, once it is there."""
    rows = f"[...document.querySelectorAll('#alerts tr[data-alertname={alertname}]')]"
    wait_until(page, f"{rows}.some(r => r.dataset.fingerprint && r.dataset.state === 'firing')")
    return page.evaluate(f"{rows}.find(r => r.dataset.fingerprint && r.dataset.state === 'firing').dataset.fingerprint")


def test_acknowledge_creates_a_silence_and_the_feed_shows_it(stack: DevStack, page: Page, artifacts_dir: Path) -> None:
    alertname = "IPListedOnMajorBlacklist"
    fp = _active_row(page, alertname)
    before = len(stack.alertmanager.silences())
    page.click(f'#alerts tr[data-fingerprint="{fp}"] button.ack')
    page.fill("#ack-dialog input[name=author]", "alice")
    page.fill("#ack-dialog textarea[name=comment]", "rotating the IP, delisting requested")
    page.fill("#ack-dialog input[name=expiry_minutes]", "30")
    with page.expect_navigation():
        page.click("#ack-confirm")
    assert "acknowledged by alice" in page.inner_text("#flash")
    silences = stack.alertmanager.silences()
    assert len(silences) == before + 1
    s = next(s for s in silences if s["createdBy"] == "alice")
    assert s["comment"] == "rotating the IP, delisting requested" and s["status"]["state"] == "active"
    assert {"name": "alertname", "value": alertname, "isRegex": False, "isEqual": True} in s["matchers"]
    # Alertmanager marks the alert silenced; the feed shows who acknowledged it
    wait_until(
        page, f"document.querySelector('#alerts tr[data-fingerprint=\"{fp}\"]')?.dataset.state === 'acknowledged'"
    )
    assert "Acknowledged by alice" in page.inner_text(f'#alerts tr[data-fingerprint="{fp}"]')
    # one row per alert: Prometheus' copy (without the external label cluster=demo) is not listed again
    same = page.eval_on_selector_all(f'#alerts tr[data-alertname="{alertname}"]', "rs => rs.map(r => r.dataset.state)")
    assert same == ["acknowledged"], same
    audit = [json.loads(line) for line in (stack.workdir / "console" / "audit.jsonl").read_text().splitlines()]
    assert any(e["action"] == "acknowledge" and e["result"] == "ok" and e["author"] == "alice" for e in audit)
    shot(page, artifacts_dir, "acknowledged")


def test_feed_filters_survive_the_live_refresh(stack: DevStack, page: Page) -> None:
    page.click('#feed-filters a[data-severity="ERROR"]')
    page.wait_for_load_state("load")
    assert "severity=ERROR" in page.url
    severities = "[...document.querySelectorAll('#alerts tr[data-severity]')].map(r => r.dataset.severity)"
    assert set(page.evaluate(severities)) == {"ERROR"}
    refreshes = int(page.evaluate("document.body.dataset.refreshes || '0'"))
    wait_until(page, f"parseInt(document.body.dataset.refreshes || '0') >= {refreshes + 2}")
    assert set(page.evaluate(severities)) == {"ERROR"}, "the refresh dropped the filter"
    page.click('#feed-filters a[data-service="smtp"]')
    page.wait_for_load_state("load")
    services = page.eval_on_selector_all(
        "#alerts tr[data-alertname] td:nth-child(3)", "tds => tds.map(t => t.innerText)"
    )
    assert services and set(services) == {"smtp"}
    assert "IPListedOnMajorBlacklist" in page.inner_text("#alerts")
    # the summary still counts every alert, not only the filtered rows
    assert "ERROR" in page.inner_text("#feed-summary")
    page.goto(stack.console.page_url)


def test_ticket_hook_called_once_per_confirmed_click(stack: DevStack, page: Page) -> None:
    row = page.locator("#alerts tr:has(button.ticket)").first
    fp = row.get_attribute("data-fingerprint")
    alertname = row.get_attribute("data-alertname")
    row.locator("button.ticket").click()
    page.click("#ticket-dialog button[value=cancel]")
    time.sleep(1)
    assert hook_calls(stack, "/ticket") == [], "cancel must not call the hook"
    page.locator(f'#alerts tr[data-fingerprint="{fp}"] button.ticket').click()
    with page.expect_navigation():
        page.click("#ticket-confirm", click_count=2)  # an impatient double click is still one ticket
    assert "Incident ticket requested" in page.inner_text("#flash")
    time.sleep(1)
    calls = hook_calls(stack, "/ticket")
    assert len(calls) == 1
    body = calls[0].json
    assert calls[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert body["alert"]["labels"]["alertname"] == alertname and body["alert"]["fingerprint"] == fp
    assert body["links"]["runbook"].endswith(f"/runbooks/{alertname}.md")
    assert body["links"]["console"].endswith("/dashboard/system/infrastructure")
    assert body["alert"]["annotations"]["summary"]


def test_rotation_hook_called_once_per_confirmed_click(stack: DevStack, page: Page, artifacts_dir: Path) -> None:
    button = f'#ips tr[data-ip="{stack.demo_target}"] button.rotate'
    page.click(button)
    assert "transactional" in page.inner_text("#rotate-dialog") and "backup" in page.inner_text("#rotate-dialog")
    page.screenshot(path=str(artifacts_dir / "console-rotate-confirm.png"))
    page.click("#rotate-dialog button[value=cancel]")
    time.sleep(1)
    assert hook_calls(stack, "/rotation") == []
    page.click(button)
    with page.expect_navigation():
        page.click("#rotate-confirm")
    assert "moved from pool transactional to backup" in page.inner_text("#flash")
    time.sleep(1)
    calls = hook_calls(stack, "/rotation")
    assert len(calls) == 1
    assert {k: calls[0].json[k] for k in ("action", "ip", "from_pool", "to_pool")} == {
        "action": "rotate_to_backup_pool",
        "ip": stack.demo_target,
        "from_pool": "transactional",
        "to_pool": "backup",
    }
    audit = [json.loads(line) for line in (stack.workdir / "console" / "audit.jsonl").read_text().splitlines()]
    rot = [e for e in audit if e["action"] == "rotate"]
    assert len(rot) == 1 and rot[0]["user"].startswith("anonymous@127.0.0.1") and rot[0]["ip"] == stack.demo_target
    log = (stack.workdir / "console" / "console.log").read_text()
    assert "rotate" in log and TOKEN not in log and "/rotation" not in log


def test_post_without_csrf_token_is_refused(stack: DevStack) -> None:
    data = urllib.parse.urlencode({"ip": stack.demo_target, "confirm": "yes"}).encode()
    req = urllib.request.Request(stack.console.page_url + "/actions/rotate", data=data, method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 403
    assert len(hook_calls(stack, "/rotation")) == 1  # still only the confirmed click's
    with urllib.request.urlopen(stack.console.url + "/metrics", timeout=10) as r:
        metrics = r.read().decode()
    assert 'infrawatch_console_actions_total{action="rotate",result="refused"} 1.0' in metrics
    assert 'infrawatch_console_actions_total{action="rotate",result="ok"} 1.0' in metrics


def test_history_csv_through_prometheus(stack: DevStack) -> None:
    with urllib.request.urlopen(stack.console.page_url + f"/ip/{stack.demo_target}/history.csv", timeout=60) as r:
        text = r.read().decode()
        # 90 days at 5m = 25,921 points: three range queries per series kind
        assert r.headers["X-Range-Queries"] == "9"
    lines = text.splitlines()
    assert lines[0] == "timestamp,target,score,status,listed_on"
    assert any(line.endswith(",critical,spamhaus-zen") for line in lines[1:])


def test_unreachable_alertmanager_blanks_only_the_feed(stack: DevStack, page: Page, artifacts_dir: Path) -> None:
    stack.alertmanager.stop()
    wait_until(page, "document.querySelector('[data-unreachable^=feed]') !== null")
    assert "Alertmanager" in page.inner_text("#feed")
    # the other panels keep working
    assert page.locator(".card").count() == 6
    assert page.locator("#ips tbody tr[data-ip]").count() >= 1
    shot(page, artifacts_dir, "alertmanager-down")
