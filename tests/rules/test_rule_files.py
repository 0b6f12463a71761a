"""The generated rule files: up to date, valid for promtool and the Prometheus Operator CRD, unit-tested.

Everything here runs offline against the real promtool 2.42 (Debian package ``prometheus``).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from infrawatch_dev.build import render
from support.promql import metric_names, parse
from support.rulefiles import (
    HAND_WRITTEN_TESTS,
    ROOT,
    RULES,
    config_knobs,
    generated_rule_files,
    iter_rules,
    load_yaml_files,
    own_rule_files,
    promtool,
    render_hand_test,
    rendered_hand_test,
)

CRD = Path(__file__).resolve().parents[1] / "schemas" / "prometheus-operator" / "prometheusrules.crd.yaml"
HAND_TESTS = sorted(HAND_WRITTEN_TESTS.glob("*.yaml"))
# Watchdog fires by design at every evaluation: it has no non-firing case.
ALWAYS_FIRING = {"Watchdog"}


@pytest.fixture(scope="module")
def own_files() -> dict[str, dict]:
    return {f"{area}.yaml": content for area, content in own_rule_files().items()}


def test_own_areas_are_generated_and_current(own_files: dict[str, dict]) -> None:
    """rules/<area>.yaml equals what `make build` renders for every alerts/ and rules/ area."""
    assert {"services.yaml", "tls.yaml", "reputation.yaml", "api.yaml", "recording.yaml"} <= set(own_files)
    stale = [
        name
        for name, content in own_files.items()
        if not (RULES / name).exists() or (RULES / name).read_text() != render(name, content)
    ]
    assert not stale, f"run `make build`: out of date {stale}"


@pytest.mark.parametrize("path", generated_rule_files(), ids=lambda p: p.name)
def test_promtool_check_rules(path: Path) -> None:
    res = promtool("check", "rules", path)
    # promtool 2.42 prints lint failures (duplicate rules) on stderr but still exits 0
    assert res.returncode == 0 and "SUCCESS" in res.stdout and "FAILED" not in res.stderr, res.stdout + res.stderr


def test_promtool_check_rules_rejects_a_broken_file(tmp_path: Path) -> None:
    """The check above can fail: a rule with a bad expression is refused."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups:\n- name: x\n  rules:\n  - alert: Broken\n    expr: sum(rate(foo[5m])\n")
    assert promtool("check", "rules", bad).returncode != 0


@pytest.fixture(scope="module")
def crd_schema() -> dict:
    crd = yaml.safe_load(CRD.read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@pytest.mark.parametrize("path", sorted((RULES / "kubernetes").glob("*.yaml")), ids=lambda p: p.name)
def test_prometheusrule_objects_match_the_crd(path: Path, crd_schema: dict) -> None:
    obj = yaml.safe_load(path.read_text())
    # Validator used directly: the CRD's `(?i)` pattern is Go regex syntax that the metaschema check
    # (Python re) refuses; that pattern is only reached for Thanos' partial_response_strategy.
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(crd_schema).iter_errors(obj)
    ]
    assert not errors, errors
    assert obj["apiVersion"] == "monitoring.coreos.com/v1" and obj["kind"] == "PrometheusRule"
    assert obj["metadata"]["labels"]["role"] == "alert-rules"
    # the same rules as the plain file, so Operator and plain-Prometheus users get identical alerts
    assert obj["spec"] == yaml.safe_load((RULES / path.name).read_text())


def test_every_area_has_a_prometheusrule_object() -> None:
    plain = {p.name for p in generated_rule_files()}
    kube = {p.name for p in (RULES / "kubernetes").glob("*.yaml")}
    assert plain == kube


def test_crd_validation_can_fail(crd_schema: dict) -> None:
    bad = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "x"},
        "spec": {"groups": [{"name": "g", "rules": [{"alert": "A"}]}]},
    }  # no expr
    errors = list(jsonschema.Draft7Validator(crd_schema).iter_errors(bad))
    assert [e.message for e in errors] == ["'expr' is a required property"]


@pytest.fixture(scope="module")
def default_knobs() -> dict:
    return config_knobs()


@pytest.mark.parametrize("path", HAND_TESTS, ids=lambda p: p.name)
def test_promtool_unit_tests(path: Path, tmp_path: Path, default_knobs: dict) -> None:
    """Each hand-written test, its {{ }} values filled in from the default _config."""
    res = promtool("test", "rules", rendered_hand_test(path, tmp_path, default_knobs).name, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr


# Other thresholds, as an SRE would set them in config.libsonnet (the `for` durations stay).
MOVED_THRESHOLDS = """{ _config+:: {
  cpuUsageThreshold: 0.6, cpuUsageCriticalThreshold: 0.8,
  memoryUsageThreshold: 0.7, memoryUsageCriticalThreshold: 0.9,
  diskFreeThreshold: 0.3, diskFreeCriticalThreshold: 0.1,
  smtpQueueThreshold: 2000, emailFailureRatioThreshold: 0.2, emailMinSentPerSecond: 0.5,
  highErrorRateThreshold: 0.02, highErrorsPerSecondThreshold: 5,
} }"""
FOLLOWING_THRESHOLDS = ["node.yaml", "smtp.yaml", "api.yaml", "email.yaml"]


@pytest.mark.parametrize("name", FOLLOWING_THRESHOLDS)
def test_hand_tests_still_pass_with_other_thresholds(name: str, tmp_path: Path, default_knobs: dict) -> None:
    """The rules rendered with moved thresholds pass the same hand-written tests rendered with them;
    the tests' data did move (a test with the default values would now be on the wrong side)."""
    rules = tmp_path / "rules"
    rules.mkdir()
    for area, content in own_rule_files(MOVED_THRESHOLDS).items():
        (rules / f"{area}.yaml").write_text(yaml.safe_dump(content, sort_keys=False))
    moved = config_knobs(MOVED_THRESHOLDS)
    path = HAND_WRITTEN_TESTS / name
    res = promtool("test", "rules", rendered_hand_test(path, tmp_path, moved, rules).name, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    text = path.read_text()
    assert render_hand_test(text, moved) != render_hand_test(text, default_knobs)
    # ...and the defaults' data against the moved rules fails: the placeholders matter.
    stale = tmp_path / "stale"
    stale.mkdir()
    res = promtool("test", "rules", rendered_hand_test(path, stale, default_knobs, rules).name, cwd=stale)
    assert res.returncode != 0


def test_placeholders_refuse_unknown_knobs_and_code() -> None:
    with pytest.raises(KeyError, match="unknown knob 'cpuUsageTreshold'"):
        render_hand_test("x: '{{ cpuUsageTreshold }}'", {"cpuUsageThreshold": 0.85})
    with pytest.raises(ValueError, match="not allowed"):
        render_hand_test("x: '{{ __import__(\"os\") }}'", {})
    assert render_hand_test("'{{ 60 * (1 - between(a, b)) }}' {{ pct(a) }}", {"a": 0.85, "b": 0.95}) == "'6' 85%"


def test_promtool_unit_test_detects_a_wrong_expectation(tmp_path: Path) -> None:
    """A hand-written test with a wrong rendered annotation fails (the tests assert something)."""
    src = (HAND_WRITTEN_TESTS / "pipeline.yaml").read_text()
    broken = src.replace("keeps running the previous one.", "keeps running the new one.")
    broken = broken.replace("../../rules/pipeline.yaml", str(RULES / "pipeline.yaml"))
    assert "keeps running the new one." in broken
    (tmp_path / "pipeline.yaml").write_text(broken)
    res = promtool("test", "rules", "pipeline.yaml", cwd=tmp_path)
    assert res.returncode != 0 and "keeps running the new one." in res.stdout + res.stderr


def _cases(paths: list[Path] = HAND_TESTS) -> tuple[dict[str, set[str]], set[str], list[str]]:
    """alert name -> {'firing', 'quiet'}; recorded names tested; problems in firing cases."""
    cases: dict[str, set[str]] = {}
    tested_series: set[str] = set()
    problems: list[str] = []
    knobs = config_knobs()
    for path in paths:
        doc = yaml.safe_load(render_hand_test(path.read_text(), knobs, path.name))
        for t in doc["tests"]:
            for case in t.get("alert_rule_test", []):
                kind = "firing" if case.get("exp_alerts") else "quiet"
                cases.setdefault(case["alertname"], set()).add(kind)
                for exp in case.get("exp_alerts") or []:
                    missing = {"severity", "service"} - set(exp.get("exp_labels", {}))
                    missing |= {"summary", "description", "runbook_url"} - set(exp.get("exp_annotations", {}))
                    if missing:
                        problems.append(f"{path.name}: {case['alertname']} case lacks {sorted(missing)}")
            for case in t.get("promql_expr_test", []):
                tested_series |= metric_names(parse(case["expr"]))
    return cases, tested_series, problems


def _missing_cases(alerts: set[str], cases: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{a}: no {kind} case"
        for a in alerts
        for kind in ("firing", "quiet")
        if kind not in cases.get(a, set()) and not (kind == "quiet" and a in ALWAYS_FIRING)
    )


def test_every_alert_has_a_firing_and_a_non_firing_case(own_files: dict[str, dict]) -> None:
    cases, _, problems = _cases()
    alerts = {r.name for r in iter_rules(own_files) if r.is_alert}
    assert len(alerts) >= 30
    missing = _missing_cases(alerts, cases)
    assert not missing, missing
    assert not problems, problems


def test_case_check_reports_missing_cases(tmp_path: Path) -> None:
    """The check is not vacuous: a test file with only a firing case, lacking labels, is reported."""
    (tmp_path / "t.yaml").write_text(
        yaml.safe_dump(
            {
                "rule_files": [],
                "tests": [
                    {
                        "alert_rule_test": [
                            {
                                "eval_time": "1m",
                                "alertname": "APIDown",
                                "exp_alerts": [{"exp_labels": {"severity": "critical"}}],
                            },
                        ]
                    }
                ],
            }
        )
    )
    cases, _, problems = _cases([tmp_path / "t.yaml"])
    assert _missing_cases({"APIDown", "RedisDown"}, cases) == [
        "APIDown: no quiet case",
        "RedisDown: no firing case",
        "RedisDown: no quiet case",
    ]
    assert problems == ["t.yaml: APIDown case lacks ['description', 'runbook_url', 'service', 'summary']"]


def test_every_recording_rule_has_a_test(own_files: dict[str, dict]) -> None:
    _, tested, _ = _cases()
    records = {r.name for r in iter_rules(own_files) if not r.is_alert}
    assert records >= {
        "infrawatch:service_status",
        "service:http_requests:rate5m",
        "service:http_requests_errors:ratio_rate5m",
        "service:http_request_duration_seconds:histogram_quantile",
        "service:http_request_duration_seconds:mean5m",
        "target:reputation_listed:count",
    }
    assert not records - tested, f"recording rules without a promql_expr_test: {sorted(records - tested)}"


def test_every_alert_has_a_runbook() -> None:
    """Every alert of every generated file (SLO alerts included) links an existing runbook page."""
    readme = (ROOT / "runbooks" / "README.md").read_text()
    missing, sections = [], []
    for rule in iter_rules(load_yaml_files(generated_rule_files())):
        if not rule.is_alert:
            continue
        page = ROOT / "runbooks" / f"{rule.name}.md"
        url = rule.body["annotations"]["runbook_url"]
        if not url.endswith(f"/runbooks/{rule.name}.md") or not page.exists():
            missing.append(rule.where())
            continue
        text = page.read_text()
        for heading in ("## Meaning", "## Impact", "## First checks", "## Remediation", "## Escalation"):
            if heading not in text:
                sections.append(f"{page.name}: no {heading!r}")
        if "```promql" not in text:
            sections.append(f"{page.name}: no PromQL to paste")
        if f"({rule.name}.md)" not in readme:
            sections.append(f"README.md does not link {rule.name}.md")
    assert not missing, missing
    assert not sections, sorted(set(sections))


def test_jsonnet_is_formatted() -> None:
    """`jsonnetfmt --test` with DESIGN's flags on every Jsonnet file of the mixin."""
    flags = ["-n", "2", "--max-blank-lines", "2", "--string-style", "s", "--comment-style", "s"]
    files = sorted(p for p in (ROOT / "jsonnet").rglob("*") if p.suffix in (".jsonnet", ".libsonnet"))
    assert files
    unformatted = [
        str(f.relative_to(ROOT))
        for f in files
        if subprocess.run(["jsonnetfmt", "--test", *flags, str(f)], capture_output=True, timeout=60).returncode != 0
    ]
    assert not unformatted, f"not formatted (run `make fmt`): {unformatted}"


def test_runbook_queries_parse() -> None:
    """The PromQL people paste from runbooks is valid (placeholders sit inside label values)."""
    bad = []
    for page in sorted((ROOT / "runbooks").glob("*.md")):
        for block in re.findall(r"```promql\n(.*?)```", page.read_text(), re.S):
            for query in filter(None, block.splitlines()):
                try:
                    parse(query)
                except SyntaxError as exc:
                    bad.append(f"{page.name}: {exc}")
    assert not bad, bad
