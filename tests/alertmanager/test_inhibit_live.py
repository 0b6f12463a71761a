"""Every cross-alert inhibition rule of the generated config, on a real Alertmanager 0.25.

One outage pages once: for each rule the test posts the source alert, the alert it mutes (same
values of every `equal` label) and a control that differs in one `equal` label only (another service,
another target).  The source and the control page, the muted alert does not; once the source
resolves, the muted alert pages.  The cases are derived from the generated inhibit rules and the
labels of the generated alert rules, so a new rule is tested without editing this file.

PagerDuty is a loopback fake (tests/support/receivers.py): the real service cannot be reached here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .test_live import QUIET_PERIOD, Stack, start_stack, stop_stack

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "alertmanager" / "alertmanager.yml").read_text())

# Realistic values for the labels an inhibit rule may compare (the probe exporter's, node_exporter's).
VALUES = {
    "target": "https://svc-1.example.com/",
    "instance": "probe:9516",
    "module": "http_2xx",
    "mountpoint": "/",
    "device": "/dev/sda1",
    "sloth_id": "api-requests-availability",
}


def _alert_severities() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in sorted((ROOT / "rules").glob("*.yaml")):
        for g in yaml.safe_load(f.read_text())["groups"]:
            for r in g["rules"]:
                if "alert" in r:
                    out.setdefault(r["alert"], set()).add(r["labels"]["severity"])
    return out


def _name(matchers: list[str]) -> str | None:
    names = [m.split("=", 1)[1].strip('"') for m in matchers if m.startswith('alertname="')]
    return names[0] if names else None


def cross_alert_rules() -> list[dict[str, Any]]:
    """The inhibit rules from one named alert to another (severity twins are tested in test_live)."""
    return [
        r
        for r in CONFIG["inhibit_rules"]
        if _name(r["source_matchers"]) and _name(r["target_matchers"]) and len(r["source_matchers"]) == 1
    ]


RULES = cross_alert_rules()
SEVERITIES = _alert_severities()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("am-inhibit"), warnings_any_time=True)
    yield s
    stop_stack(s)


def _labels(
    alertname: str, service: str, equal: list[str], cluster: str, override: dict[str, str] | None = None
) -> dict[str, str]:
    severity = "critical" if "critical" in SEVERITIES[alertname] else sorted(SEVERITIES[alertname])[0]
    lbls = {"alertname": alertname, "severity": severity, "service": service, "cluster": cluster}
    lbls.update({k: VALUES[k] for k in equal if k in VALUES})
    lbls.update(override or {})
    return lbls


def _notified(stack: Stack, cluster: str, alertname: str, service: str) -> list[Any]:
    """Slack messages of one alert (every severity reaches a channel: critical or the team's)."""
    return stack.slack.matching(
        lambda r: (
            f"({cluster})" in ((r.json or {}).get("attachments") or [{}])[0].get("title", "")
            and f"{alertname} · {service} ({cluster})" in r.json["attachments"][0]["title"]
        )
    )


def test_every_down_alert_mutes_the_generic_probe_alert() -> None:
    sources = {_name(r["source_matchers"]) for r in RULES if _name(r["target_matchers"]) == "ServiceProbeFailing"}
    assert {"SMTPServiceDown", "ElasticsearchClusterRed", "RedisDown", "DatabaseDown", "APIDown"} <= sources
    assert all(r["equal"] for r in RULES)


@pytest.mark.parametrize(
    "rule", RULES, ids=[f"{_name(r['source_matchers'])}-mutes-{_name(r['target_matchers'])}" for r in RULES]
)
def test_one_outage_notifies_once_until_the_source_resolves(stack: Stack, rule: dict[str, Any]) -> None:
    source_name, target_name = _name(rule["source_matchers"]), _name(rule["target_matchers"])
    assert source_name and target_name
    cluster = f"inh-{source_name}-{target_name}".lower()
    equal = rule["equal"]
    # A service name of its own per case: the cases share one Alertmanager and `equal` may be just service.
    service = cluster
    source = {"labels": _labels(source_name, service, equal, cluster), "annotations": {"summary": "source"}}
    muted = {"labels": _labels(target_name, service, equal, cluster), "annotations": {"summary": "muted"}}
    # The control differs from the muted alert in the narrowest `equal` label only.
    narrowest = equal[-1]
    other = (service + "-other") if narrowest == "service" else VALUES[narrowest] + "-other"
    control = {
        "labels": _labels(target_name, service, equal, cluster, {narrowest: other}),
        "annotations": {"summary": "control"},
    }
    stack.am.post_alerts([source, muted, control])

    got = stack.am.wait_alert(lambda a: a["status"]["state"] == "suppressed", **muted["labels"])
    [src_state] = stack.am.alerts(**source["labels"])
    assert got["status"]["inhibitedBy"] == [src_state["fingerprint"]]
    [control_state] = stack.am.alerts(**control["labels"])
    assert control_state["status"]["state"] == "active", f"{narrowest}={other} must not be muted"

    control_service = control["labels"]["service"]
    stack.slack.wait_for(lambda r: bool(_notified(stack, cluster, source_name, service)))
    stack.slack.wait_for(lambda r: bool(_notified(stack, cluster, target_name, control_service)))
    time.sleep(QUIET_PERIOD)
    if narrowest == "service":
        assert not _notified(stack, cluster, target_name, service), "the muted alert was notified"
    else:  # same service: the muted alert and the control share a notification group
        msgs = _notified(stack, cluster, target_name, service)
        assert all("[FIRING:1]" in m.json["attachments"][0]["title"] for m in msgs), "muted alert notified"

    # The source resolves: the muted alert is no longer inhibited and is notified.
    stack.am.resolve_alerts([source])
    stack.am.wait_alert(lambda a: a["status"]["state"] == "active", **muted["labels"])
    if narrowest == "service":
        stack.slack.wait_for(lambda r: bool(_notified(stack, cluster, target_name, service)))
    else:
        stack.slack.wait_for(
            lambda r: any(
                "[FIRING:2]" in m.json["attachments"][0]["title"]
                for m in _notified(stack, cluster, target_name, service)
            )
        )
    stack.am.resolve_alerts([muted, control])
