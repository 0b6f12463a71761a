"""The SLO inhibit rules in a real Alertmanager 0.25: a firing page tier mutes the same SLO's tickets."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infrawatch_dev.build import evaluate_snippet
from support.alertmanager import Alertmanager
from support.procs import require_binary
from support.rulefiles import ROOT

RULES = ROOT / "rules" / "slo-api-requests-availability.yaml"


def alert_labels(tier: str, sloth_id: str = "api-requests-availability") -> dict[str, str]:
    """Labels the generated rule of `tier` gives its alert (plus the SLO's series labels)."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rule = next(r for g in groups for r in g["rules"] if r.get("labels", {}).get("slo_burn_tier") == tier)
    return {"alertname": rule["alert"], "team": "platform", **rule["labels"], "sloth_id": sloth_id}


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    config = {
        "route": {
            "receiver": "null",
            "group_by": ["sloth_id", "slo_burn_tier"],
            "group_wait": "100ms",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "null"}],
        "inhibit_rules": evaluate_snippet(ROOT, "(import 'mixin.libsonnet').sloInhibitRules"),
    }
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    amtool = require_binary("amtool")
    check = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    am = Alertmanager(tmp_path / "am", path).start()
    yield am
    am.stop()


def test_page_tier_mutes_ticket_tiers_of_the_same_slo_only(alertmanager: Alertmanager) -> None:
    page = alert_labels("page-1h")
    ticket = alert_labels("ticket-1d")
    other_ticket = alert_labels("ticket-1d", sloth_id="api-tenant-acme-availability")
    assert page["sloth_severity"] == "page" and ticket["sloth_severity"] == "ticket"
    alertmanager.post_alerts([{"labels": page}, {"labels": ticket}, {"labels": other_ticket}])

    muted = alertmanager.wait_alert(
        lambda a: bool(a["status"]["inhibitedBy"]),
        timeout=30,
        sloth_id="api-requests-availability",
        slo_burn_tier="ticket-1d",
    )
    assert muted["status"]["state"] == "suppressed"
    by_tier = {a["labels"]["slo_burn_tier"]: a for a in alertmanager.alerts(sloth_id="api-requests-availability")}
    assert by_tier["page-1h"]["status"]["state"] == "active"
    other = alertmanager.alerts(sloth_id="api-tenant-acme-availability")
    assert [a["status"]["state"] for a in other] == ["active"] and not other[0]["status"]["inhibitedBy"]

    # The page tier resolves: the ticket is no longer muted.
    alertmanager.resolve_alerts([{"labels": page}])
    alertmanager.wait_alert(
        lambda a: a["status"]["state"] == "active",
        timeout=30,
        sloth_id="api-requests-availability",
        slo_burn_tier="ticket-1d",
    )
