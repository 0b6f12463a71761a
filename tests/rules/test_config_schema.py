"""`_config` is checked against jsonnet/lib/config_schema.libsonnet: typos fail the build, located.

Two ways in: overrides evaluated through the mixin as an importer would (every problem is listed,
named by its key path, with "did you mean"), and `infrawatch build --root <copy>` on a copy of the
repository whose config.libsonnet was edited (exit 2, and the problem names file:line of the edit).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infrawatch_dev.build import evaluate_snippet

ROOT = Path(__file__).resolve().parents[2]


def problems(override: str) -> list[str]:
    """The schema's problems with ``override`` (config.libsonnet alone: the mixin would raise them)."""
    snippet = (
        "local schema = import 'lib/config_schema.libsonnet';\n"
        f"local m = (import 'config.libsonnet') + {{ _config+:: {override} }};\n"
        "local p = schema.problems(m._config);\n"
        "if p != [] then p else schema.sloProblems(m._config)"
    )
    return evaluate_snippet(ROOT, snippet)


def test_the_default_config_is_valid() -> None:
    assert problems("{}") == []


# override -> the problem line expected (exactly, as printed).
CASES = {
    "top-level typo": (
        "{ probeFailingFr: '2m' }",
        "_config.probeFailingFr: unknown field; did you mean 'probeFailingFor'?",
    ),
    "nested typo": (
        "{ alertmanager+: { groupWiat: '1s' } }",
        "_config.alertmanager.groupWiat: unknown field; did you mean 'groupWait'?",
    ),
    "info tier typo": (
        "{ alertmanager+: { info+: { groupWiat: '5m' } } }",
        "_config.alertmanager.info.groupWiat: unknown field; did you mean 'groupWait'?",
    ),
    "info tier duration": (
        "{ alertmanager+: { info+: { repeatInterval: '1 day' } } }",
        "_config.alertmanager.info.repeatInterval: '1 day' is not a Prometheus duration (e.g. 30s, 5m, 1h30m)",
    ),
    "info tier switch": (
        "{ alertmanager+: { info+: { enabled: 'no' } } }",
        "_config.alertmanager.info.enabled: must be true or false, not 'no'",
    ),
    "escalation address": (
        "{ alertmanager+: { p0EscalationEmail: ['cto@example.com'] } }",
        '_config.alertmanager.p0EscalationEmail: must be a string, not array ["cto@example.com"]',
    ),
    "escalation typo": (
        "{ alertmanager+: { p0EscalationMail: 'cto@example.com' } }",
        "_config.alertmanager.p0EscalationMail: unknown field; did you mean 'p0EscalationEmail'?",
    ),
    "cluster label": (
        "{ clusterLabel: 'cluster-id' }",
        "_config.clusterLabel: 'cluster-id' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)",
    ),
    "tenant label": (
        "{ dashboards+: { tenantLabel: '0tenant' } }",
        "_config.dashboards.tenantLabel: '0tenant' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*) or ''",
    ),
    "alertFor names an alert": (
        "{ alertFor+: { RedisHighMemroy: '1m' } }",
        "_config.alertFor.RedisHighMemroy: unknown field; did you mean 'RedisHighMemory'?",
    ),
    "unknown kind": (
        "{ services: [{ name: 'web', title: 'Web', kind: 'htpp', appSelector: 'job=\"web\"' }] }",
        "_config.services[0] (web).kind: unknown kind 'htpp'; did you mean 'http'?",
    ),
    "a field of another kind": (
        "{ services: [{ name: 'cache', title: 'Cache', kind: 'redis', appSelector: 'job=\"x\"' }] }",
        "_config.services[0] (cache).appSelector: unknown field",
    ),
    "service field typo": (
        "{ services: [{ name: 'mail', title: 'Mail', kind: 'smtp', exporterSelectr: 'job=\"postfix\"' }] }",
        "_config.services[0] (mail).exporterSelectr: unknown field; did you mean 'exporterSelector'?",
    ),
    "missing kind": (
        "{ services: [{ name: 'mail', title: 'Mail' }] }",
        "_config.services[0] (mail): missing field kind"
        " (one of custom, elasticsearch, http, postgres, redis, smtp, websocket)",
    ),
    "bad duration": (
        "{ downFor: '5mins' }",
        "_config.downFor: '5mins' is not a Prometheus duration (e.g. 30s, 5m, 1h30m)",
    ),
    "duration in alertFor": (
        "{ alertFor+: { RedisHighMemory: 10 } }",
        "_config.alertFor.RedisHighMemory: 10 is not a Prometheus duration (e.g. 30s, 5m, 1h30m)",
    ),
    "ratio as percent": (
        "{ cpuUsageThreshold: 85 }",
        "_config.cpuUsageThreshold: must be a ratio between 0 and 1 (85; 5% is 0.05)",
    ),
    "number as string": (
        "{ smtpQueueThreshold: '10000' }",
        "_config.smtpQueueThreshold: must be a number, not string '10000'",
    ),
    "enum": (
        "{ alertmanager+: { teams: [{ name: 'x', slackChannel: '#x', pagerdutyRoutingKeyFile: 'k',"
        " warningsTo: 'mail' }] } }",
        "_config.alertmanager.teams[0].warningsTo: 'mail' is not one of slack, email; did you mean 'email'?",
    ),
    "long-term storage typo": (
        "{ kubernetes+: { longTermStorage+: { enabled: true, retentoin: '2y' } } }",
        "_config.kubernetes.longTermStorage.retentoin: unknown field; did you mean 'retention'?",
    ),
    "long-term storage type": (
        "{ kubernetes+: { longTermStorage+: { enabled: 'yes' } } }",
        "_config.kubernetes.longTermStorage.enabled: must be true or false, not 'yes'",
    ),
    "probe interval typo": (
        "{ services: [{ name: 'web', title: 'Web', kind: 'custom', probeSelector: 'service=\"web\"',"
        " probeIntervall: '1m' }] }",
        "_config.services[0] (web).probeIntervall: unknown field; did you mean 'probeInterval'?",
    ),
    "probe interval duration": (
        "{ services: [{ name: 'web', title: 'Web', kind: 'custom', probeInterval: '1 min' }] }",
        "_config.services[0] (web).probeInterval: '1 min' is not a Prometheus duration (e.g. 30s, 5m, 1h30m)",
    ),
    "failures as string": (
        "{ probeFailingAfterFailures: '2' }",
        "_config.probeFailingAfterFailures: must be a number, not string '2'",
    ),
    "errors per second typo": (
        "{ highErrorsPerSecondTreshold: 5 }",
        "_config.highErrorsPerSecondTreshold: unknown field; did you mean 'highErrorsPerSecondThreshold'?",
    ),
    "e-mail failure ratio as percent": (
        "{ emailFailureRatioThreshold: 5 }",
        "_config.emailFailureRatioThreshold: must be a ratio between 0 and 1 (5; 5% is 0.05)",
    ),
    "inhibition map typo": (
        "{ alertmanager+: { highErrorRateMute: {} } }",
        "_config.alertmanager.highErrorRateMute: unknown field; did you mean 'highErrorRateMutes'?",
    ),
    "slo field typo": (
        "{ slos: [super.slos[0] { objectve: 99 }] }",
        "_config.slos[0].objectve: unknown field; did you mean 'objective'?",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_mistake_is_one_located_problem(case: str) -> None:
    override, expected = CASES[case]
    assert problems(override) == [expected]


def test_every_problem_is_listed_at_once() -> None:
    got = problems("{ downFor: '5mins', probeFailingFr: '2m', cpuUsageThreshold: 85 }")
    assert len(got) == 3, got


def test_lenient_mode_accepts_unknown_top_level_fields_only() -> None:
    # A _config shared with other mixins (node-mixin's knobs next to ours).
    assert problems("{ unknownConfigFields: 'ignore', fsSpaceFillingUpWarningThreshold: 15 }") == []
    got = problems("{ unknownConfigFields: 'ignore', services: [{ name: 'w', title: 'W', kind: 'htpp' }] }")
    assert got == ["_config.services[0] (w).kind: unknown kind 'htpp'; did you mean 'http'?"]


def test_an_http_service_without_up_selector_builds() -> None:
    override = "{ services: [{ name: 'web', title: 'Web', kind: 'http', appSelector: 'job=\"web\"' }], slos: [] }"
    snippet = f"((import 'mixin.libsonnet') + {{ _config+:: {override} }}).prometheusAlerts"
    alerts = {r["alert"] for g in evaluate_snippet(ROOT, snippet)["groups"] for r in g["rules"]}
    assert "HighErrorRate" in alerts and "APIDown" not in alerts


def test_services_without_one_named_api_build_without_default_slos() -> None:
    """The bundled SLOs are the seed's, on the service named 'api': without it there are none (no
    `Index 0 out of bounds`), and everything else still builds."""
    override = "{ services: [{ name: 'web', title: 'Web', kind: 'http', appSelector: 'job=\"web\"' }] }"
    snippet = (
        f"local m = (import 'mixin.libsonnet') + {{ _config+:: {override} }};"
        " { slos: m._config.slos, alerts: [r.alert for g in m.prometheusAlerts.groups for r in g.rules"
        " if std.objectHas(r, 'alert')], dashboards: std.objectFields(m.grafanaDashboards) }"
    )
    out = evaluate_snippet(ROOT, snippet)
    assert out["slos"] == [] and "HighErrorRate" in out["alerts"]
    assert not any(a.startswith("SLO") and a != "SLOMetricAbsent" for a in out["alerts"]), out["alerts"]
    assert "infrawatch-api.json" in out["dashboards"]


def _copy_repo(tmp: Path) -> Path:
    for d in ("jsonnet", "slos", "examples"):
        shutil.copytree(ROOT / d, tmp / d)
    return tmp


# (original line, edited line) in config.libsonnet -> the problem it must produce
EDITS = [
    (
        "        kind: 'http',",
        "        kind: 'htpp',",
        "_config.services[0] (api).kind: unknown kind 'htpp'; did you mean 'http'?",
    ),
    (
        "    probeFailingFor: '2m',",
        "    probeFailingFor: '2mins',",
        "_config.probeFailingFor: '2mins' is not a Prometheus duration",
    ),
    (
        "        exporterSelector: 'job=\"redis\"',",
        "        exporterSelecter: 'job=\"redis\"',",
        "_config.services[4] (redis).exporterSelecter: unknown field; did you mean 'exporterSelector'?",
    ),
]


def test_make_build_fails_naming_the_file_and_line(tmp_path: Path) -> None:
    root = _copy_repo(tmp_path)
    config = root / "jsonnet" / "config.libsonnet"
    text = config.read_text()
    lines = {}
    for original, edited, _ in EDITS:
        assert text.count(original) >= 1, original
        text = text.replace(original, edited, 1)
        lines[edited] = text.splitlines().index(edited) + 1
    config.write_text(text)
    r = subprocess.run(
        [str(Path(sys.executable).parent / "infrawatch"), "build", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"invalid _config ({len(EDITS)} problems)" in r.stderr
    for _, edited, problem in EDITS:
        [line] = [x for x in r.stderr.splitlines() if problem in x]
        assert line.endswith(f"(jsonnet/config.libsonnet:{lines[edited]})"), line
    assert "\tjsonnet" not in r.stderr and "thunk" not in r.stderr, "the stack trace is left out"
    assert not (root / "rules").exists(), "nothing is written"


def test_a_long_term_storage_typo_in_an_override_fails_the_build_located(tmp_path: Path) -> None:
    """An override of `_config.kubernetes.longTermStorage` (as an importer writes it, here spliced into
    the copy's mixin.libsonnet) with a misspelt field fails `infrawatch build`, naming file:line.
    (The defaults in config.libsonnet are the schema itself: a key renamed there is not caught.)"""
    root = _copy_repo(tmp_path)
    mixin = root / "jsonnet" / "mixin.libsonnet"
    original = "(import 'config.libsonnet') +\n"
    assert original in mixin.read_text()
    override = "{ _config+:: { kubernetes+: { longTermStorage+: {\n  enabled: true,\n  retentoin: '2y',\n} } } } +\n"
    mixin.write_text(mixin.read_text().replace(original, original + override, 1))
    line = mixin.read_text().splitlines().index("  retentoin: '2y',") + 1
    r = subprocess.run(
        [str(Path(sys.executable).parent / "infrawatch"), "build", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert (
        "_config.kubernetes.longTermStorage.retentoin: unknown field; did you mean 'retention'?"
        f"  (jsonnet/mixin.libsonnet:{line})"
    ) in r.stderr, r.stderr
    assert not (root / "deploy").exists(), "nothing is written"


def test_make_build_runs_promtool_and_blames_the_config_key(tmp_path: Path) -> None:
    """A selector the schema cannot judge (broken PromQL) is refused by promtool inside the build."""
    root = _copy_repo(tmp_path)
    config = root / "jsonnet" / "config.libsonnet"
    original = "        appSelector: 'job=\"api-server\"',"
    assert original in config.read_text()
    config.write_text(config.read_text().replace(original, "        appSelector: 'job=\"api-server',", 1))
    r = subprocess.run(
        [str(Path(sys.executable).parent / "infrawatch"), "build", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "promtool refuses generated rules:" in r.stderr
    assert "likely cause: _config.services[0].appSelector = 'job=\"api-server'" in r.stderr
    assert 'rules/api.yaml: group "infrawatch-api", HighErrorRate: could not parse expression' in r.stderr
    assert not (root / "rules").exists(), "nothing is written"


def test_every_slo_field_the_slo_generator_reads_is_accepted() -> None:
    """The SLO fields jsonnet/slo/spec.libsonnet documents (raw SLIs, the absent alert, spec alert
    names, page/ticket annotations) pass the schema, and a typo among them is still refused."""
    slo = (
        "{ service: 'api', name: 'raw-errors', objective: 0.999, period: '30d',"
        "  sli: { raw: { errorRatioQuery: 'sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))' } },"
        "  alerting: { name: 'ApiRawErrors', absent: false, absentName: 'ApiRawErrorsAbsent',"
        "              pageAnnotations: { summary: 'p' }, ticketAnnotations: { summary: 't' } } }"
    )
    assert problems(f"{{ slos+: [{slo}] }}") == []
    typo = problems("{{ slos+: [{}] }}".format(slo.replace("absentName", "absentNmae")))
    assert len(typo) == 1 and "absentNmae" in typo[0] and "absentName" in typo[0], typo
