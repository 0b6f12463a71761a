"""Offline lints of every generated rule file: mixtool's alert rules and pint's offline checks.

mixtool (monitoring-mixins/mixtool `lint`): CamelCase alert names, severity values, summary /
description / runbook_url annotations, group size and name length.  pint (cloudflare/pint) offline
checks that matter here: every alert has a condition (alerts/comparison), no `$value` in labels
(alerts/template), `$labels.x` only where the expression keeps `x` (alerts/template), rate ranges at
least 4x the scrape interval (promql/rate), no `for: 0s` (alerts/for), group interval <= 5m, no
duplicate rules (rule/duplicate), no recording rule read from another group (evaluation order is only
guaranteed inside a group).  PromQL is parsed with support.promql; promtool is the validity authority.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from infrawatch_dev.build import evaluate_snippet
from support.promql import Call, Labels, has_condition, metric_names, output_labels, parse, parse_duration
from support.rulefiles import ROOT, Rule, generated_rule_files, iter_rules, load_yaml_files

FILES = load_yaml_files(generated_rule_files())
RULES = list(iter_rules(FILES))
ALERTS = [r for r in RULES if r.is_alert]

SEVERITIES = {"critical", "warning", "info"}
CAMEL_CASE = re.compile(r"^[A-Z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$|^[A-Z][A-Za-z0-9]*$")
MAX_ALERT_NAME = 40  # keeps notification subjects readable
MAX_GROUP_NAME = 63  # Kubernetes label-value length; mixtool flags long group names
MAX_GROUP_RULES = 60  # large groups evaluate slowly and serially
MAX_GROUP_INTERVAL = 300.0
SCRAPE_INTERVAL = parse_duration(evaluate_snippet(ROOT, "(import 'config.libsonnet')._config.scrapeInterval"))
RANGE_FUNCS = {"rate", "irate", "increase", "delta", "idelta", "deriv"}
# Alerts without a condition by design.
NO_CONDITION = {"Watchdog"}
# Sloth's layout (the SLO area's `sloth-slo-*` groups) reads SLI recordings from sibling groups on purpose.
CROSS_GROUP_EXEMPT_PREFIX = "sloth-"
TEMPLATE_LABEL = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|\$labels\s*\"?([a-zA-Z_]\w*)")


def ids(rules: list[Rule]) -> list[str]:
    return [f"{r.file}:{r.group}:{r.index}:{r.name}" for r in rules]


def test_there_is_something_to_lint() -> None:
    assert len(ALERTS) >= 30 and len(RULES) > len(ALERTS)


@pytest.mark.parametrize("rule", ALERTS, ids=ids(ALERTS))
def test_mixtool_alert_conventions(rule: Rule) -> None:
    b = rule.body
    assert CAMEL_CASE.match(b["alert"]) and len(b["alert"]) <= MAX_ALERT_NAME, "alert names are CamelCase"
    labels, ann = b.get("labels", {}), b.get("annotations", {})
    assert labels.get("severity") in SEVERITIES, f"severity must be one of {SEVERITIES}"
    summary = ann.get("summary", "")
    assert summary and "{{" not in summary, "summary is present and static"
    assert summary[0].isupper() and summary.endswith("."), "summary is capitalised and ends with a full stop"
    assert ann.get("description") and ann["description"] != summary, "description says more than summary"
    assert ann.get("runbook_url", "").endswith(f"/runbooks/{b['alert']}.md")
    assert set(ann) <= {"summary", "description", "runbook_url", "dashboard_url"}


@pytest.mark.parametrize("rule", ALERTS, ids=ids(ALERTS))
def test_alert_carries_a_service(rule: Rule) -> None:
    """`service` is a static label or kept (or set) by the expression."""
    out = output_labels(parse(rule.body["expr"]))
    assert "service" in rule.body.get("labels", {}) or out.surely_has("service")


@pytest.mark.parametrize("rule", ALERTS, ids=ids(ALERTS))
def test_pint_alert_has_a_condition(rule: Rule) -> None:
    if rule.name in NO_CONDITION:
        return
    assert has_condition(parse(rule.body["expr"])), "the query has no condition, it will always fire"


@pytest.mark.parametrize("rule", ALERTS, ids=ids(ALERTS))
def test_pint_templates(rule: Rule) -> None:
    """No $value in labels (a new series per value); $labels.x only when the query keeps x."""
    for k, v in rule.body.get("labels", {}).items():
        assert "$value" not in v and ".Value" not in v, f"label {k} uses $value"
    out: Labels = output_labels(parse(rule.body["expr"]))
    for k, v in rule.body.get("annotations", {}).items():
        for m in TEMPLATE_LABEL.finditer(v):
            label = m.group(1) or m.group(2)
            assert out.may_have(label), f"annotation {k} uses $labels.{label} which the query drops"


@pytest.mark.parametrize("rule", RULES, ids=ids(RULES))
def test_pint_rate_ranges_and_for(rule: Rule) -> None:
    node = parse(rule.body["expr"])
    for call in (n for n in node.walk() if isinstance(n, Call) and n.func in RANGE_FUNCS):
        rng = call.args[0].range
        assert rng is not None and rng >= 4 * SCRAPE_INTERVAL, (
            f"{call.func}() range {rng}s is under 4x the {SCRAPE_INTERVAL}s scrape interval"
        )
    if "for" in rule.body:
        assert parse_duration(str(rule.body["for"])) > 0, "`for: 0s` is redundant; leave it out"


@pytest.mark.parametrize("name", sorted(FILES), ids=str)
def test_groups(name: str) -> None:
    for g in FILES[name]["groups"]:
        assert len(g["name"]) <= MAX_GROUP_NAME
        assert 0 < len(g["rules"]) <= MAX_GROUP_RULES
        if "interval" in g:
            assert parse_duration(g["interval"]) <= MAX_GROUP_INTERVAL
        if not g["name"].startswith(CROSS_GROUP_EXEMPT_PREFIX):
            recording = [r for r in g["rules"] if "record" in r]
            if recording and not any("alert" in r for r in g["rules"]):
                assert g["name"].endswith(".rules"), "recording groups end in .rules"


def test_no_duplicate_rules() -> None:
    seen: dict[tuple, str] = {}
    dups = []
    for r in RULES:
        key = (r.name, " ".join(r.body["expr"].split()), tuple(sorted(r.body.get("labels", {}).items())))
        if key in seen:
            dups.append(f"{r.where()} duplicates {seen[key]}")
        seen[key] = r.where()
    assert not dups, dups


def test_alert_label_sets_are_unique() -> None:
    """Same name + same static labels must differ in the query's own labels (promtool's duplicate lint)."""
    by_key = defaultdict(list)
    for r in ALERTS:
        by_key[(r.file, r.name, tuple(sorted(r.body.get("labels", {}).items())))].append(r)
    dups = [rs[0].where() for rs in by_key.values() if len(rs) > 1]
    assert not dups, dups


def test_recording_rules_used_only_in_their_own_group_after_definition() -> None:
    defined_in: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in RULES:
        if not r.is_alert:
            defined_in[r.name].add((r.file, r.group))
    problems = []
    for name, content in FILES.items():
        for g in content["groups"]:
            if g["name"].startswith(CROSS_GROUP_EXEMPT_PREFIX):
                continue
            earlier: set[str] = set()
            for i, r in enumerate(g["rules"]):
                for used in metric_names(parse(r["expr"])) & set(defined_in):
                    if (name, g["name"]) not in defined_in[used]:
                        problems.append(f"{name} {g['name']} #{i} reads {used} from another group")
                    elif used not in earlier:
                        problems.append(f"{name} {g['name']} #{i} reads {used} before it is recorded")
                if "record" in r:
                    earlier.add(r["record"])
    assert not problems, problems


def test_lints_catch_bad_rules() -> None:
    """The lint helpers fail on the mistakes they exist for."""
    assert not has_condition(parse("sum(rate(http_requests_total[5m]))"))
    assert has_condition(parse("sum(rate(x[5m])) / sum(rate(y[5m])) > 0.05"))
    assert not output_labels(parse("sum by (job) (up) == 0")).may_have("instance")
    assert output_labels(parse("up == 0")).may_have("instance")
    joined = output_labels(parse("(a == 1) * on (list) group_left (zone) max by (list, zone) (b)"))
    assert joined.may_have("zone") and joined.may_have("target")
    assert not output_labels(parse("a / on (instance) b > 1")).may_have("job")
    assert output_labels(parse('label_replace(up == 0, "service", "x", "service", "")')).surely_has("service")
    assert parse("rate(x[30s])").args[0].range == 30
