"""The routing table (jsonnet/alertmanager/routing_cases.libsonnet) run through amtool 0.25.

Each case is `amtool config routes test --verify.receivers=<receivers in order> <labels>` against the
committed alertmanager/alertmanager.yml; docs/alerting.md must show the same table.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from infrawatch_dev.build import evaluate_snippet
from support.alertmanager import render_mixin_config
from support.procs import require_binary

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "alertmanager" / "alertmanager.yml"
CASES: list[dict[str, Any]] = evaluate_snippet(ROOT, "(import 'mixin.libsonnet').alertmanagerRoutingCases")


def label_args(labels: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in labels.items()]


def markdown_table(cases: list[dict[str, Any]]) -> str:
    """The table as docs/alerting.md shows it."""
    lines = ["| # | alert labels | receivers (in order) | why |", "| --- | --- | --- | --- |"]
    for i, c in enumerate(cases, 1):
        labels = " ".join(f"`{a}`" for a in label_args(c["labels"]))
        receivers = ", ".join(c["receivers"])
        lines.append(f"| {i} | {labels} | {receivers} | {c['why']} |")
    return "\n".join(lines) + "\n"


def test_enough_cases_covering_every_receiver() -> None:
    import yaml

    assert len(CASES) >= 15
    receivers = {r["name"] for r in yaml.safe_load(CONFIG.read_text())["receivers"]}
    covered = {r for c in CASES for r in c["receivers"]}
    assert covered == receivers, f"receivers without a routing case: {receivers - covered}"
    keys = [tuple(sorted(c["labels"].items())) for c in CASES]
    assert len(keys) == len(set(keys)), "duplicate routing cases"


def routes_test(receivers: str, labels: dict[str, str], config: Path = CONFIG) -> subprocess.CompletedProcess[str]:
    """`amtool config routes test --verify.receivers=...` on the generated config (or ``config``)."""
    argv = [require_binary("amtool"), "config", "routes", "test", f"--config.file={config}"]
    argv += [f"--verify.receivers={receivers}", *label_args(labels)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("case", CASES, ids=[f"{i + 1}-{c['labels']['alertname']}" for i, c in enumerate(CASES)])
def test_route(case: dict[str, Any]) -> None:
    expected = ",".join(case["receivers"])
    r = routes_test(expected, case["labels"])
    assert r.returncode == 0, f"{case['why']}: amtool printed {r.stdout.strip()!r} {r.stderr.strip()}"
    assert r.stdout.strip() == expected


# Cases of other configurations: _config.alertmanager override -> [(labels, receivers)].
INFO_ALERT = {"alertname": "DeploymentDetected", "severity": "info", "service": "api"}
P0_ALERT = {"alertname": "APIDown", "severity": "critical", "service": "api"}
VARIANT_CASES = {
    "info tier off -> info is never sent": (
        {"info": {"enabled": False}},
        [(INFO_ALERT, ["null"]), ({**INFO_ALERT, "service": "billing"}, ["null"])],
    ),
    "info.slackChannel -> every team's info to the info channel, nothing else changes": (
        {
            "info": {
                "enabled": True,
                "groupWait": "5m",
                "groupInterval": "1h",
                "repeatInterval": "24h",
                "slackChannel": "#monitoring",
                "slackAPIURLFile": "",
            }
        },
        [
            (INFO_ALERT, ["slack-info"]),
            ({**INFO_ALERT, "team": "platform"}, ["slack-info"]),
            ({**INFO_ALERT, "service": "oltp-db"}, ["slack-info"]),
            ({**INFO_ALERT, "service": "smtp"}, ["slack-info"]),
            ({**INFO_ALERT, "service": "billing"}, ["slack-info"]),
            ({**INFO_ALERT, "severity": "none"}, ["null"]),
            ({"alertname": "HighCPUUsage", "severity": "warning", "service": "infrastructure"}, ["slack-platform"]),
            (P0_ALERT, ["webhook-incident-log", "pagerduty-platform", "email-platform", "email-p0", "slack-critical"]),
        ],
    ),
    "no escalation address -> P0 mails the team only": (
        {"p0EscalationEmail": ""},
        [(P0_ALERT, ["webhook-incident-log", "pagerduty-platform", "email-platform", "slack-critical"])],
    ),
    "mail off -> P0 is pager and chat, info not sent": (
        {
            "email": {"enabled": False},
            "teams": [
                {"name": "platform", "services": ["api"], "slackChannel": "#p", "pagerdutyRoutingKeyFile": "pd.key"}
            ],
        },
        [
            (P0_ALERT, ["webhook-incident-log", "pagerduty-platform", "slack-critical"]),
            (INFO_ALERT, ["null"]),
        ],
    ),
}


@pytest.mark.parametrize("name", VARIANT_CASES)
def test_route_of_other_configurations(name: str, tmp_path: Path) -> None:
    override, cases = VARIANT_CASES[name]
    if "email" in override:  # `alertmanager+:` replaces the email block: keep its other knobs
        email = evaluate_snippet(ROOT, "(import 'mixin.libsonnet')._config.alertmanager.email")
        override = {**override, "email": {**email, **override["email"]}}
    config = render_mixin_config(tmp_path, {"alertmanager": override})
    for labels, receivers in cases:
        r = routes_test(",".join(receivers), labels, config)
        assert r.returncode == 0, f"{name}: {labels}: amtool printed {r.stdout.strip()!r} {r.stderr.strip()}"


def test_amtool_verify_fails_on_a_wrong_expectation() -> None:
    """Guard: --verify.receivers really compares (order included)."""
    case = next(c for c in CASES if len(c["receivers"]) > 2)
    r = routes_test(",".join(reversed(case["receivers"])), case["labels"])
    assert r.returncode != 0


def test_docs_show_the_routing_table() -> None:
    doc = (ROOT / "docs" / "alerting.md").read_text()
    assert markdown_table(CASES) in doc, "docs/alerting.md routing table differs from routing_cases.libsonnet"


def test_docs_show_the_routing_tree() -> None:
    amtool = require_binary("amtool")
    r = subprocess.run(
        [amtool, "config", "routes", f"--config.file={CONFIG}"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Routing tree:")
    assert r.stdout in (ROOT / "docs" / "alerting.md").read_text(), "docs/alerting.md routing tree is stale"
