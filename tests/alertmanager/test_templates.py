"""Every notification template rendered by amtool 0.25 with sample data (plus Debian's default.tmpl).

The templates are rendered exactly as Alertmanager loads them: our alertmanager/templates/*.tmpl
together with Debian's /usr/share/prometheus/alertmanager/default.tmpl, so a name clash or a
reference to a template that does not exist fails here rather than in a 3 a.m. page.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.procs import require_binary

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "alertmanager" / "templates"
CONFIG = ROOT / "alertmanager" / "alertmanager.yml"
DEBIAN_DEFAULT = Path("/usr/share/prometheus/alertmanager/default.tmpl")
EXTERNAL_URL = "http://alertmanager.example:9093"

DEFINE_RE = re.compile(r'{{-?\s*define\s+"([^"]+)"')
USE_RE = re.compile(r'{{-?\s*template\s+"([^"]+)"')


def alert(status: str, labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": "2026-11-23T10:00:00Z",
        "endsAt": "2026-11-23T10:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": "0123456789abcdef",
    }


def data(receiver: str, alerts: list[dict[str, Any]], group: list[str]) -> dict[str, Any]:
    common_labels = {k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)}
    common_ann = {
        k: v for k, v in alerts[0]["annotations"].items() if all(a["annotations"].get(k) == v for a in alerts)
    }
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "receiver": receiver,
        "status": status,
        "alerts": alerts,
        "groupLabels": {k: common_labels[k] for k in group if k in common_labels},
        "commonLabels": common_labels,
        "commonAnnotations": common_ann,
        "externalURL": EXTERNAL_URL,
    }


RUNBOOK = "https://github.com/infrawatch/infrawatch/blob/main/runbooks/APIDown.md"
SAMPLES: dict[str, dict[str, Any]] = {
    "critical": data(
        "pagerduty-platform",
        [
            alert(
                "firing",
                {
                    "alertname": "APIDown",
                    "severity": "critical",
                    "service": "api",
                    "cluster": "eu-1",
                    "job": "api-server",
                },
                {
                    "summary": "The API is down.",
                    "description": "No api-server target has answered for 1m.",
                    "runbook_url": RUNBOOK,
                },
            )
        ],
        ["alertname", "service", "cluster"],
    ),
    "warnings": data(
        "slack-platform",
        [
            alert(
                "firing",
                {
                    "alertname": "TLSCertificateExpiringSoon",
                    "severity": "warning",
                    "service": "api",
                    "target": "https://a.example",
                },
                {
                    "summary": "A TLS certificate expires soon.",
                    "description": "https://a.example expires in 9 days.",
                    "runbook_url": "https://runbooks.example/TLSCertificateExpiringSoon.md",
                    "dashboard_url": "https://grafana.example/d/infrawatch-probes",
                },
            ),
            alert(
                "firing",
                {
                    "alertname": "TLSCertificateExpiringSoon",
                    "severity": "warning",
                    "service": "api",
                    "target": "https://b.example",
                },
                {
                    "summary": "A TLS certificate expires soon.",
                    "description": "https://b.example expires in 12 days.",
                    "runbook_url": "https://runbooks.example/TLSCertificateExpiringSoon.md",
                    "dashboard_url": "https://grafana.example/d/infrawatch-probes",
                },
            ),
        ],
        ["alertname", "service", "cluster"],
    ),
    "resolved": data(
        "slack-critical",
        [
            alert(
                "resolved",
                {"alertname": "RedisDown", "severity": "critical", "service": "redis"},
                {"summary": "Redis is down.", "description": "redis_up is 0."},
            )
        ],
        ["alertname", "service", "cluster"],
    ),
    "info": data(
        "null",
        [
            alert(
                "firing",
                {"alertname": "DeploymentDetected", "severity": "info", "service": "api"},
                {"summary": "A deployment happened."},
            )
        ],
        ["alertname", "service", "cluster"],
    ),
    "bare": data(
        "slack-default", [alert("firing", {"alertname": "SomethingOdd"}, {})], ["alertname", "service", "cluster"]
    ),
}


def defined(path: Path) -> list[str]:
    return DEFINE_RE.findall(path.read_text())


OUR_TEMPLATES = sorted({name for p in TEMPLATES.glob("*.tmpl") for name in defined(p)})
# Templates called with a list of alerts (e.g. .Alerts.Firing) instead of the whole notification data.
LIST_TEMPLATES = {"infrawatch.alert_lines", "pagerduty.default.instances"}
# Templates that render nothing for a group without the cluster label (_config.clusterLabel).
CLUSTER_TEMPLATES = {"infrawatch.cluster", "infrawatch.cluster_suffix"}


def call(name: str) -> str:
    arg = ".Alerts" if name in LIST_TEMPLATES else "."
    return '{{ template "' + name + '" ' + arg + " }}"


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("template-data")
    files = {}
    for name, sample in SAMPLES.items():
        files[name] = d / f"{name}.json"
        files[name].write_text(json.dumps(sample))
    return files


def render(text: str, data_file: Path, html: bool = False) -> str:
    amtool = require_binary("amtool")
    r = subprocess.run(
        [
            amtool,
            "template",
            "render",
            f"--template.glob={TEMPLATES}/*.tmpl",
            f"--template.glob={DEBIAN_DEFAULT}",
            f"--template.text={text}",
            f"--template.data={data_file}",
            f"--template.type={'html' if html else 'text'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, f"{text}: {r.stderr.strip()}"
    return r.stdout


def test_templates_exist_and_do_not_clash_with_debian_defaults() -> None:
    assert DEBIAN_DEFAULT.exists(), "prometheus-alertmanager (Debian) is not installed"
    ours = [n for p in TEMPLATES.glob("*.tmpl") for n in defined(p)]
    assert len(ours) == len(set(ours)), "a template is defined twice"
    assert not set(ours) & set(defined(DEBIAN_DEFAULT)), "our templates redefine Debian's defaults"
    assert {
        "slack.infrawatch.text",
        "pagerduty.infrawatch.description",
        "email.infrawatch.html",
        "infrawatch.silence_url",
    } <= set(ours)


def test_config_references_only_defined_templates() -> None:
    used = set(USE_RE.findall(CONFIG.read_text()))
    for p in TEMPLATES.glob("*.tmpl"):
        used |= set(USE_RE.findall(p.read_text()))
    available = set(OUR_TEMPLATES) | set(defined(DEBIAN_DEFAULT))
    assert used and used <= available, f"undefined templates: {used - available}"


@pytest.mark.parametrize("name", OUR_TEMPLATES)
def test_render_every_template_with_every_sample(name: str, sample_files: dict[str, Path]) -> None:
    for sample, path in sample_files.items():
        out = render(call(name), path, html=name.endswith(".html"))
        assert "<no value>" not in out, f"{name} with {sample}: {out}"
        has_cluster = "cluster" in json.loads(path.read_text())["commonLabels"]
        if name not in CLUSTER_TEMPLATES or has_cluster:
            assert out.strip(), f"{name} rendered nothing for {sample}"


def test_cluster_templates_read_the_cluster_label(sample_files: dict[str, Path]) -> None:
    assert render(call("infrawatch.cluster"), sample_files["critical"]) == "eu-1"
    assert render(call("infrawatch.cluster_suffix"), sample_files["critical"]) == " (eu-1)"
    assert render(call("infrawatch.title"), sample_files["critical"]).endswith("APIDown · api (eu-1)")


def test_debian_default_templates_render_alongside_ours(sample_files: dict[str, Path]) -> None:
    names = [n for n in defined(DEBIAN_DEFAULT) if not n.startswith("__")]
    text = "\n@@\n".join(f"{n}={call(n)}" for n in names)
    out = render(text, sample_files["critical"])
    assert out.count("@@") == len(names) - 1
    assert f"slack.default.titlelink={EXTERNAL_URL}/#/alerts?receiver=pagerduty-platform" in out


def test_config_field_templates_render(sample_files: dict[str, Path]) -> None:
    """Every templated string in alertmanager.yml renders (e.g. PagerDuty details, Slack actions)."""
    strings: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)
        elif isinstance(node, str) and "{{" in node:
            strings.add(node)

    visit(yaml.safe_load(CONFIG.read_text()))
    assert len(strings) >= 15
    for s in sorted(strings):
        for sample in ("critical", "bare"):
            out = render(s, sample_files[sample], html="email.infrawatch.html" in s)
            assert "<no value>" not in out, s


def test_slack_text_carries_everything_an_oncall_needs(sample_files: dict[str, Path]) -> None:
    out = render('{{ template "slack.infrawatch.text" . }}', sample_files["critical"])
    assert "*Firing: The API is down.*" in out
    assert "No api-server target has answered for 1m." in out
    assert "*Severity:* `critical`" in out and "*Service:* `api`" in out
    assert f"<{RUNBOOK}|Runbook>" in out
    assert "<http://localhost:3000/dashboards?tag=infrawatch|Dashboard>" in out
    silence = (
        f"{EXTERNAL_URL}/#/silences/new?filter=%7Balertname%3D%22APIDown%22%2Ccluster%3D%22eu-1%22"
        "%2Cservice%3D%22api%22%7D"
    )
    assert f"<{silence}|Silence (acknowledge)>" in out
    title = render('{{ template "slack.infrawatch.title" . }}', sample_files["critical"])
    assert title == "[FIRING:1] APIDown · api (eu-1)"


def test_slack_lists_each_alert_of_a_group(sample_files: dict[str, Path]) -> None:
    out = render('{{ template "slack.infrawatch.text" . }}', sample_files["warnings"])
    assert "https://a.example expires in 9 days." in out and "https://b.example expires in 12 days." in out
    assert "<https://grafana.example/d/infrawatch-probes|Dashboard>" in out, "dashboard_url annotation wins"
    assert render('{{ template "slack.infrawatch.color" . }}', sample_files["warnings"]) == "warning"
    assert render('{{ template "slack.infrawatch.color" . }}', sample_files["critical"]) == "danger"
    assert render('{{ template "slack.infrawatch.color" . }}', sample_files["resolved"]) == "good"
    resolved_title = render('{{ template "slack.infrawatch.title" . }}', sample_files["resolved"])
    assert resolved_title == "[RESOLVED] RedisDown · redis"


@pytest.mark.parametrize(
    "sample,expected", [("critical", "critical"), ("warnings", "warning"), ("info", "info"), ("bare", "error")]
)
def test_pagerduty_severity_mapping(sample: str, expected: str, sample_files: dict[str, Path]) -> None:
    assert render('{{ template "pagerduty.infrawatch.severity" . }}', sample_files[sample]) == expected


def test_pagerduty_description_and_fallbacks(sample_files: dict[str, Path]) -> None:
    assert (
        render('{{ template "pagerduty.infrawatch.description" . }}', sample_files["critical"])
        == "APIDown · api (eu-1): The API is down."
    )
    assert (
        render('{{ template "pagerduty.infrawatch.description" . }}', sample_files["bare"])
        == "SomethingOdd: 1 alert(s) firing"
    )
    assert (
        render('{{ template "infrawatch.runbook_url" . }}', sample_files["bare"])
        == "https://github.com/infrawatch/infrawatch/blob/main/runbooks/SomethingOdd.md"
    )


def test_email_html_escapes_and_links(sample_files: dict[str, Path], tmp_path: Path) -> None:
    evil = json.loads(sample_files["critical"].read_text())
    evil["alerts"][0]["annotations"]["description"] = "<script>alert(1)</script>"
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(evil))
    out = render('{{ template "email.infrawatch.html" . }}', path, html=True)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert f'<a href="{RUNBOOK}">Runbook</a>' in out
    assert (
        render('{{ template "email.infrawatch.subject" . }}', sample_files["critical"])
        == "[FIRING:1] APIDown · api (eu-1)"
    )
