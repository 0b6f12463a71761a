"""Issue 14, "what a deliverability specialist sees", against a real exporter process and rbldnsd:
a SpamCop-only listing is never Good (page, metrics, API, CLI and --nagios), listed targets come
first on the page, "listed since" is the same on the page, in the API and in the metric, and the
page points at ``export``."""

from __future__ import annotations

import calendar
import io
import re
import time
from pathlib import Path

from infrawatch.reputation.cli import main as cli_main
from support import dnsbl_zones as z
from support.rbldnsd import Rbldnsd
from support.reputation_exporter import ReputationExporterProc, all_checked

from .test_exporter import sample

LISTS = """
  - {name: zen, profile: spamhaus-zen, zone: zen.test}
  - {name: spamcop, profile: spamcop, zone: scop.test}
"""
# configured good first, listed last: the page must reorder them
TARGETS = f"""
  - {{ip: {z.CLEAN_IP}}}
  - {{ip: {z.ERR_254}}}
  - {{ip: {z.SPAMCOP_IP}}}
  - {{ip: {z.SBL_IP}}}
"""


def test_spamcop_listing_is_not_good_and_listed_targets_come_first(tmp_path: Path, dnsbl: Rbldnsd) -> None:
    text = z.config_yaml(dnsbl.address, LISTS, TARGETS)
    ex = ReputationExporterProc(tmp_path / "ex", text).start()
    try:
        doc = ex.wait_api(all_checked)
        metrics = ex.get("/metrics")[1]
        page = ex.get("/")[1]
    finally:
        ex.stop()
    by = {t["target"]: t for t in doc["targets"]}
    scop = by[z.SPAMCOP_IP]
    # 100 - 15 (minor weight) = 85: above the warning threshold, but listed: never Good
    assert (scop["status"], scop["score"]) == ("warning", 85)
    assert [li["list"] for li in scop["listings"]] == ["spamcop"]
    assert sample(metrics, "reputation_status", target=z.SPAMCOP_IP, status="warning") == 1
    assert sample(metrics, "reputation_status", target=z.SPAMCOP_IP, status="good") == 0
    row = re.search(rf'<tr data-target="{re.escape(z.SPAMCOP_IP)}">.*?</tr>', page)
    assert row and '<span class="status warning">Warning</span>' in row.group(0) and "Good" not in row.group(0)

    # the page: listed first (critical, then warning), then unknown, then good
    # an unknown says why, in words an alert and a person can use
    err = re.search(rf'<tr data-target="{re.escape(z.ERR_254)}">.*?</tr>', page)
    assert err and "unknown on 1 list(s): zen (blocked_resolver)" in err.group(0)
    assert by[z.ERR_254]["errors"][0]["reason_text"].startswith("the list refuses our resolver")
    order = re.findall(r'<tr data-target="([^"]+)"', page)
    assert order == [z.SBL_IP, z.SPAMCOP_IP, z.ERR_254, z.CLEAN_IP], order

    # listed since: one value in the API, the metric and the page
    zen = next(li for li in by[z.SBL_IP]["listings"] if li["list"] == "zen")
    since = calendar.timegm(time.strptime(zen["listed_since"][:19], "%Y-%m-%dT%H:%M:%S"))
    metric = sample(metrics, "reputation_listed_since_timestamp_seconds", target=z.SBL_IP, list="zen")
    assert metric is not None and abs(metric - since) < 1.5
    assert sample(metrics, "reputation_listed_since_timestamp_seconds", target=z.CLEAN_IP, list="zen") is None
    assert 0 <= zen["listed_for_seconds"] < 120 and by[z.SBL_IP]["listed_since"] == zen["listed_since"]
    assert re.search(rf"listed since {re.escape(zen['listed_since'])} \(for \d+ min\)", page)

    # the page points at the history export (a CLI: shown as the command to run)
    assert "infrawatch reputation export --prometheus" in page

    # the CLI agrees: listed (exit 1), and --nagios says WARNING (exit 1) for the SpamCop-only IP
    cfg = tmp_path / "r.yml"
    cfg.write_text(text)
    out = io.StringIO()
    assert cli_main(["check", z.SPAMCOP_IP, "--config", str(cfg)], out=out) == 1
    assert f"{z.SPAMCOP_IP}: status warning, score 85" in out.getvalue()
    out = io.StringIO()
    assert cli_main(["check", z.SPAMCOP_IP, "--config", str(cfg), "--nagios"], out=out) == 1
    assert out.getvalue().startswith(f"RBL WARNING - listed: {z.SPAMCOP_IP} on spamcop |")
