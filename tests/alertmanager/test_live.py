"""The generated routing against a real Alertmanager 0.25 and fake receivers on loopback.

Alertmanager runs with gossip off, fresh storage and short group timings (an override of
_config.alertmanager; the routing tree is the committed one).  PagerDuty, Slack, the webhooks and the
SMTP server are loopback fakes (tests/support/receivers.py) because the real services cannot be
reached from here; they record exactly what Alertmanager sent.  Secret files are written to a temp
directory and the config points at them through `secretsDir`.

Each test uses its own `cluster` label value, so its notification groups are its own.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infrawatch_dev.devstack.stack import Timings, loopback_alertmanager_override
from support.alertmanager import Alertmanager, render_mixin_config
from support.procs import require_binary
from support.receivers import FakePagerDuty, FakeSlack, FakeSMTP, FakeWebhook, HTTPRequest

pytestmark = pytest.mark.slow

GROUP_INTERVAL = 2  # seconds, the live override of groupInterval
# How long to keep watching for a notification that must NOT arrive: several group intervals after
# a notification that was posted at the same time did arrive.
QUIET_PERIOD = 2 * GROUP_INTERVAL + 1

SECRETS = {
    "pagerduty-default.key": "R0UTINGKEYDEFAULT000000000000001",
    "pagerduty-platform.key": "R0UTINGKEYPLATFORM00000000000002",
    "pagerduty-database.key": "R0UTINGKEYDATABASE00000000000003",
    "pagerduty-deliverability.key": "R0UTINGKEYDELIVERABILITY0000004",
    "smtp-password": "smtp-Pa55word",
    "heartbeat-token": "heartbeat-t0ken",
    "incident-log-token": "incident-l0g-token",
}
SMTP_USER = "alertmanager@example.com"
INFO_CHANNEL = "#monitoring"
INFO_WEBHOOK_PATH = "/services/T000/B000/MONITORING"  # the info channel's own incoming webhook
ESCALATION = "executives@example.com"


@dataclass
class Stack:
    am: Alertmanager
    pagerduty: FakePagerDuty
    slack: FakeSlack
    webhook: FakeWebhook
    smtp: FakeSMTP
    secrets: Path


def live_override(
    secrets: Path,
    pd: FakePagerDuty,
    hook: FakeWebhook,
    smtp: FakeSMTP,
    mute_all_warnings: bool = False,
    warnings_any_time: bool = False,
    info_channel: bool = False,
) -> dict[str, Any]:
    timings = Timings(group_wait="1s", group_interval=f"{GROUP_INTERVAL}s", repeat_interval="1h")
    override = loopback_alertmanager_override(
        secrets,
        timings,
        pd,
        hook,
        smtp,
        smtp_user=SMTP_USER,
        mail_domain="example.com",
        heartbeat_interval="1s",
        heartbeat_repeat="1h",
    )
    am = override["alertmanager"]
    # The info digest with live timings (the defaults, 5m / 1h, are checked by test_config.py).
    am["info"] = {"enabled": True, "groupWait": "1s", "groupInterval": f"{GROUP_INTERVAL}s", "repeatInterval": "1h"}
    if info_channel:  # seed 004: info to a chat channel, through that channel's own webhook
        am["info"] |= {"slackChannel": INFO_CHANNEL, "slackAPIURLFile": "slack-monitoring-webhook-url"}
    am["p0EscalationEmail"] = ESCALATION
    if mute_all_warnings:
        am["timeIntervals"] = {"always": [{"weekdays": ["sunday:saturday"]}]}
        am["warningMuteIntervals"] = ["always"]
    if warnings_any_time:  # results that do not depend on the hour the test runs
        am["warningMuteIntervals"] = []
    return override


def start_stack(
    workdir: Path, mute_all_warnings: bool = False, warnings_any_time: bool = False, info_channel: bool = False
) -> Stack:
    pd, slack, hook = FakePagerDuty().start(), FakeSlack().start(), FakeWebhook().start()
    smtp = FakeSMTP(user=SMTP_USER, password=SECRETS["smtp-password"]).start()
    secrets = workdir / "secrets"
    secrets.mkdir(parents=True)
    for name, value in SECRETS.items():
        # As `echo KEY > file` writes them; Alertmanager 0.25 trims these...
        (secrets / name).write_text(value + "\n")
    # ...but not auth_password_file, whose content is the password verbatim (docs/alerting.md).
    (secrets / "smtp-password").write_text(SECRETS["smtp-password"])
    (secrets / "slack-webhook-url").write_text(slack.webhook_url + "\n")
    (secrets / "slack-monitoring-webhook-url").write_text(slack.url + INFO_WEBHOOK_PATH + "\n")
    config = render_mixin_config(
        workdir / "config", live_override(secrets, pd, hook, smtp, mute_all_warnings, warnings_any_time, info_channel)
    )
    am = Alertmanager(workdir / "am", config)
    try:
        am.start()
    except Exception:
        for s in (pd, slack, hook, smtp):
            s.stop()
        raise
    return Stack(am, pd, slack, hook, smtp, secrets)


def stop_stack(stack: Stack) -> None:
    stack.am.stop()
    for s in (stack.pagerduty, stack.slack, stack.webhook, stack.smtp):
        s.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("am-live"))
    yield s
    stop_stack(s)


def labels(alertname: str, severity: str, service: str, cluster: str) -> dict[str, str]:
    return {"alertname": alertname, "severity": severity, "service": service, "cluster": cluster}


def annotated(lbls: dict[str, str], summary: str, description: str) -> dict[str, Any]:
    return {
        "labels": lbls,
        "annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": f"https://runbooks.example/{lbls['alertname']}.md",
        },
    }


def slack_for(cluster: str, channel: str | None = None):
    def pred(m: HTTPRequest) -> bool:
        body = m.json or {}
        title = (body.get("attachments") or [{}])[0].get("title", "")
        return f"({cluster})" in title and (channel is None or body.get("channel") == channel)

    return pred


def test_p0_pages_chats_mails_and_resolves(stack: Stack) -> None:
    cluster = "live-p0"
    alert = annotated(
        labels("APIDown", "critical", "api", cluster), "The API is down.", "No api-server target has answered for 1m."
    )
    stack.am.post_alerts([alert])

    [trigger] = stack.pagerduty.wait_for(lambda r: (r.json or {}).get("payload", {}).get("group") == cluster)
    event = trigger.json
    assert event["routing_key"] == SECRETS["pagerduty-platform.key"], "platform key, read from its file"
    assert event["event_action"] == "trigger" and event["dedup_key"]
    payload = event["payload"]
    assert payload["severity"] == "critical"
    assert payload["summary"] == f"APIDown · api ({cluster}): The API is down."
    assert payload["component"] == "api" and payload["class"] == "APIDown"
    details = payload["custom_details"]
    assert details["runbook_url"] == "https://runbooks.example/APIDown.md"
    assert details["service"] == "api" and details["severity"] == "critical"
    assert details["silence_url"].startswith(stack.am.url + "/#/silences/new?filter=%7Balertname%3D%22APIDown")
    assert {"href": "https://runbooks.example/APIDown.md", "text": "Runbook"} in event["links"]
    assert event["client_url"].startswith(stack.am.url)

    [chat] = stack.slack.wait_for(slack_for(cluster))
    msg = chat.json
    assert msg["channel"] == "#alerts-critical"
    att = msg["attachments"][0]
    assert att["title"] == f"[FIRING:1] APIDown · api ({cluster})"
    assert att["color"] == "danger"
    assert "*Firing: The API is down.*" in att["text"] and "No api-server target" in att["text"]
    assert "<https://runbooks.example/APIDown.md|Runbook>" in att["text"]
    assert "<no value>" not in str(msg) and "template:" not in str(msg)
    assert [a["text"] for a in att["actions"]] == ["Runbook", "Dashboard", "Silence (acknowledge)"]

    mails = stack.smtp.wait_for(lambda m: cluster in m.subject, count=2)
    assert sorted(m.rcpt_tos[0] for m in mails) == [ESCALATION, "platform-oncall@example.com"], "team + escalation"
    [mail] = [m for m in mails if m.rcpt_tos == ["platform-oncall@example.com"]]
    assert mail.login == (SMTP_USER, SECRETS["smtp-password"]), "SMTP password read from auth_password_file"
    assert mail.subject == f"[FIRING:1] APIDown · api ({cluster})"
    assert "https://runbooks.example/APIDown.md" in mail.part("text/plain")
    assert '<a href="https://runbooks.example/APIDown.md">Runbook</a>' in mail.part("text/html")

    [hook] = stack.webhook.wait_for(
        lambda r: r.path == "/incident-log" and r.json["commonLabels"].get("cluster") == cluster
    )
    assert hook.headers["Authorization"] == "Bearer " + SECRETS["incident-log-token"]
    assert hook.json["status"] == "firing" and hook.json["receiver"] == "webhook-incident-log"

    stack.am.resolve_alerts([alert])
    [resolve] = stack.pagerduty.wait_for(
        lambda r: (r.json or {}).get("event_action") == "resolve" and r.json["dedup_key"] == event["dedup_key"]
    )
    assert resolve.json["routing_key"] == SECRETS["pagerduty-platform.key"]
    [resolved_chat] = stack.slack.wait_for(
        lambda r: slack_for(cluster)(r) and "RESOLVED" in r.json["attachments"][0]["title"]
    )
    assert resolved_chat.json["attachments"][0]["color"] == "good"


def test_p1_pages_and_mails_the_team_without_escalation(stack: Stack) -> None:
    cluster = "live-p1"
    alert = annotated(labels("IPListedOnMajorBlacklist", "critical", "smtp", cluster), "Listed on a major list.", "zen")
    stack.am.post_alerts([alert])
    [page] = stack.pagerduty.wait_for(lambda r: (r.json or {}).get("payload", {}).get("group") == cluster)
    assert page.json["routing_key"] == SECRETS["pagerduty-deliverability.key"]
    stack.slack.wait_for(slack_for(cluster, "#alerts-critical"))
    [mail] = stack.smtp.wait_for(lambda m: cluster in m.subject)
    assert mail.rcpt_tos == ["postmaster@example.com"]
    time.sleep(QUIET_PERIOD)
    assert [m.rcpt_tos for m in stack.smtp.matching(lambda m: cluster in m.subject)] == [["postmaster@example.com"]]


def test_info_is_mailed_to_the_team_as_a_digest_only(stack: Stack) -> None:
    cluster = "live-info"
    alerts = [
        annotated(labels("DeploymentDetected", "info", "api", cluster), "A deployment.", "api v2"),
        annotated(labels("DatabaseConnectionPoolHigh", "info", "oltp-db", cluster), "Pool high.", "81%"),
        {"labels": {**labels("InfoInhibitor", "none", "api", cluster)}, "annotations": {"summary": "x"}},
    ]
    stack.am.post_alerts(alerts)
    mails = stack.smtp.wait_for(lambda m: cluster in m.subject, count=2)
    got = sorted((m.rcpt_tos[0], m.subject.split(" ")[1]) for m in mails)
    assert got == [
        ("oncall@example.com", "DatabaseConnectionPoolHigh"),
        ("platform-oncall@example.com", "DeploymentDetected"),
    ]
    time.sleep(QUIET_PERIOD)
    assert len(stack.smtp.matching(lambda m: cluster in m.subject)) == 2, "severity none was mailed"
    assert not stack.slack.matching(slack_for(cluster)), "info went to chat"
    assert not [e for e in stack.pagerduty.events if e.get("payload", {}).get("group") == cluster]


def test_info_goes_to_the_chat_channel_instead_of_mail_when_one_is_set(tmp_path: Path) -> None:
    """A separate Alertmanager with alertmanager.info.slackChannel (seed 004's "#monitoring")."""
    s = start_stack(tmp_path, warnings_any_time=True, info_channel=True)
    try:
        cluster = "live-info-chat"
        s.am.post_alerts(
            [
                annotated(labels("DeploymentDetected", "info", "api", cluster), "A deployment.", "api v2"),
                annotated(labels("DatabaseConnectionPoolHigh", "info", "oltp-db", cluster), "Pool high.", "81%"),
                {"labels": {**labels("InfoInhibitor", "none", "api", cluster)}, "annotations": {"summary": "x"}},
                annotated(labels("HighCPUUsage", "warning", "infrastructure", cluster), "CPU.", "x"),
            ]
        )
        posts = s.slack.wait_for(slack_for(cluster, INFO_CHANNEL), count=2)
        # Through the info channel's own webhook (its URL file), one message per group, one alert each.
        assert {p.path for p in posts} == {INFO_WEBHOOK_PATH}
        titles = sorted(p.json["attachments"][0]["title"] for p in posts)
        assert "DatabaseConnectionPoolHigh" in titles[0] and "DeploymentDetected" in titles[1], titles
        # The warning still goes to its team channel through the global webhook.
        [warning] = s.slack.wait_for(slack_for(cluster, "#platform-alerts"))
        assert warning.path != INFO_WEBHOOK_PATH
        time.sleep(QUIET_PERIOD)
        assert len(s.slack.matching(slack_for(cluster, INFO_CHANNEL))) == 2, "severity none was posted"
        assert not s.smtp.matching(lambda m: cluster in m.subject), "info was mailed as well"
        assert not [e for e in s.pagerduty.events if e.get("payload", {}).get("group") == cluster]
        failed = s.am.metric_values("alertmanager_notifications_failed_total")
        assert all(v == 0 for v in failed.values()), failed
    finally:
        stop_stack(s)


def test_warning_goes_to_the_team_channel_not_the_pager(stack: Stack) -> None:
    cluster = "live-warning"
    stack.am.post_alerts(
        [
            annotated(
                labels("HighCPUUsage", "warning", "infrastructure", cluster),
                "CPU usage is high.",
                "node-1 CPU above 85% for 15m.",
            )
        ]
    )
    [chat] = stack.slack.wait_for(slack_for(cluster))
    assert chat.json["channel"] == "#platform-alerts"
    assert chat.json["attachments"][0]["color"] == "warning"
    time.sleep(QUIET_PERIOD)
    assert not [e for e in stack.pagerduty.events if e.get("payload", {}).get("group") == cluster]
    assert not stack.webhook.matching(
        lambda r: r.path == "/incident-log" and r.json["commonLabels"].get("cluster") == cluster
    )


def test_inhibition_suppresses_targets_without_notifying(stack: Stack) -> None:
    cluster = "live-inhibit"
    source = annotated(labels("ServiceProbeFailing", "critical", "redis", cluster), "A probe fails.", "redis down")
    symptom = annotated(labels("ServiceDegraded", "warning", "redis", cluster), "Degraded.", "redis slow")
    cert_critical = annotated(
        labels("TLSCertificateExpiringSoon", "critical", "elasticsearch", cluster),
        "Certificate expires soon.",
        "2 days left",
    )
    cert_warning = annotated(
        labels("TLSCertificateExpiringSoon", "warning", "elasticsearch", cluster),
        "Certificate expires soon.",
        "10 days left",
    )
    # Control: same alert name as the symptom but another service -> not inhibited, delivered.
    control = annotated(labels("ServiceDegraded", "warning", "api", cluster), "Degraded.", "api slow")
    stack.am.post_alerts([source, symptom, cert_critical, cert_warning, control])

    for target, src in ((symptom, source), (cert_warning, cert_critical)):
        got = stack.am.wait_alert(lambda a: a["status"]["state"] == "suppressed", **target["labels"])
        [src_state] = stack.am.alerts(**src["labels"])
        assert got["status"]["inhibitedBy"] == [src_state["fingerprint"]]
        assert src_state["status"]["state"] == "active"
    control_state = stack.am.alerts(**control["labels"])[0]["status"]
    assert control_state["state"] == "active" and not control_state["inhibitedBy"]

    stack.pagerduty.wait_for(lambda r: (r.json or {}).get("payload", {}).get("group") == cluster, count=2)
    stack.slack.wait_for(
        lambda r: (
            slack_for(cluster, "#platform-alerts")(r) and "ServiceDegraded · api" in r.json["attachments"][0]["title"]
        )
    )
    time.sleep(QUIET_PERIOD)
    team_titles = [
        r.json["attachments"][0]["title"] for r in stack.slack.matching(slack_for(cluster, "#platform-alerts"))
    ]
    assert team_titles == [f"[FIRING:1] ServiceDegraded · api ({cluster})"], "inhibited alerts were notified"


def test_acknowledge_with_an_amtool_silence(stack: Stack) -> None:
    """The documented acknowledgement: `amtool silence add` with the alert's labels and a comment."""
    amtool = require_binary("amtool")
    cluster = "live-silence"
    r = subprocess.run(
        [
            amtool,
            "silence",
            "add",
            f"--alertmanager.url={stack.am.url}",
            "--author=oncall",
            "--comment=ack: looking into it",
            "--duration=1h",
            "alertname=RedisDown",
            f"cluster={cluster}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    silence_id = r.stdout.strip()
    silenced = annotated(labels("RedisDown", "critical", "redis", cluster), "Redis is down.", "redis_up 0")
    control = annotated(labels("DatabaseDown", "critical", "oltp-db", cluster), "The database is down.", "pg_up 0")
    stack.am.post_alerts([silenced, control])

    got = stack.am.wait_alert(lambda a: a["status"]["state"] == "suppressed", **silenced["labels"])
    assert got["status"]["silencedBy"] == [silence_id]
    q = subprocess.run(
        [amtool, "silence", "query", f"--alertmanager.url={stack.am.url}", "-q", f"cluster={cluster}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert q.stdout.split() == [silence_id]

    [page] = stack.pagerduty.wait_for(lambda r: (r.json or {}).get("payload", {}).get("group") == cluster)
    assert page.json["routing_key"] == SECRETS["pagerduty-database.key"]
    time.sleep(QUIET_PERIOD)
    pages = [e["payload"]["class"] for e in stack.pagerduty.events if e.get("payload", {}).get("group") == cluster]
    assert pages == ["DatabaseDown"], "a silenced (acknowledged) alert paged"


def test_watchdog_feeds_the_heartbeat_without_resolved_messages(stack: Stack) -> None:
    cluster = "live-heartbeat"
    watchdog = {
        "labels": {"alertname": "Watchdog", "severity": "none", "cluster": cluster},
        "annotations": {"summary": "The alerting pipeline works."},
    }
    stack.am.post_alerts([watchdog])
    [beat] = stack.webhook.wait_for(
        lambda r: r.path == "/heartbeat" and r.json["commonLabels"].get("cluster") == cluster
    )
    assert beat.headers["Authorization"] == "Bearer " + SECRETS["heartbeat-token"]
    assert beat.json["receiver"] == "heartbeat" and beat.json["status"] == "firing"
    stack.am.resolve_alerts([watchdog])
    time.sleep(QUIET_PERIOD)
    beats = stack.webhook.matching(
        lambda r: r.path == "/heartbeat" and r.json["commonLabels"].get("cluster") == cluster
    )
    assert [b.json["status"] for b in beats] == ["firing"], "heartbeat got a resolved message"
    assert not [e for e in stack.pagerduty.events if e.get("payload", {}).get("group") == cluster]


def test_no_notification_failed(stack: Stack) -> None:
    """Deliver to every integration, then Alertmanager's own counters: all sent, none failed."""
    cluster = "live-metrics"
    stack.am.post_alerts(
        [
            annotated(labels("SMTPServiceDown", "critical", "smtp", cluster), "SMTP is down.", "x"),
            annotated(labels("IPListedOnBlacklist", "warning", "smtp", cluster), "Listed.", "y"),
        ]
    )
    stack.pagerduty.wait_for(lambda r: (r.json or {}).get("payload", {}).get("group") == cluster)
    stack.slack.wait_for(slack_for(cluster, "#alerts-critical"))
    mails = stack.smtp.wait_for(lambda m: cluster in m.subject, count=3)
    # P0 team mail + P0 escalation + P2 by mail
    assert sorted(m.rcpt_tos[0] for m in mails) == [ESCALATION] + ["postmaster@example.com"] * 2
    stack.webhook.wait_for(lambda r: r.path == "/incident-log" and r.json["commonLabels"].get("cluster") == cluster)

    sent = stack.am.metric_values("alertmanager_notifications_total")
    failed = stack.am.metric_values("alertmanager_notifications_failed_total")
    for integration in ("pagerduty", "slack", "email", "webhook"):
        key = f'{{integration="{integration}"}}'
        assert sent.get(key, 0) >= 1, f"no {integration} notification counted: {sent}"
    assert failed and all(v == 0 for v in failed.values()), f"failed notifications: {failed}\n{stack.am.log()[-3000:]}"
    assert not [r for r in stack.pagerduty.received if r.json and FakePagerDuty.problems(r.json)]


def test_warnings_are_muted_in_their_time_interval_but_the_pager_is_not(tmp_path: Path) -> None:
    """A separate Alertmanager whose warning mute interval covers every day of the week."""
    s = start_stack(tmp_path, mute_all_warnings=True)
    try:
        cluster = "live-mute"
        s.am.post_alerts(
            [
                annotated(labels("HighCPUUsage", "warning", "infrastructure", cluster), "CPU.", "x"),
                annotated(labels("APIDown", "critical", "api", cluster), "The API is down.", "y"),
            ]
        )
        [page] = s.pagerduty.wait_for(lambda r: (r.json or {}).get("payload", {}).get("group") == cluster)
        assert page.json["payload"]["class"] == "APIDown"
        s.slack.wait_for(slack_for(cluster, "#alerts-critical"))
        time.sleep(QUIET_PERIOD)
        assert not s.slack.matching(slack_for(cluster, "#platform-alerts")), "a muted warning was sent"
        assert s.am.alerts(alertname="HighCPUUsage")[0]["status"]["state"] == "active", "muted, not silenced"
    finally:
        stop_stack(s)
