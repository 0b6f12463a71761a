"""The reputation alerts name the exporter's own `reason` values (reputation_lookup_error{reason}).

The mixin cannot import the exporter's table, so this test holds them together: every reason the
alerts select or describe is one `infrawatch.reputation.classify.REASONS` defines, and a rename there
fails here instead of silently muting DNSBLQueriesRefused.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from infrawatch.reputation.classify import REASONS
from infrawatch_dev.build import evaluate_snippet, render
from support.rulefiles import ROOT, iter_rules, own_rule_files, promtool


def _rule(name: str) -> dict:
    (rule,) = [r.body for r in iter_rules(own_rule_files()) if r.body.get("alert") == name]
    return rule


def _unknown(reasons: list[str]) -> list[str]:
    return sorted(set(reasons) - set(REASONS))


def test_refusal_reasons_are_exporter_reasons() -> None:
    reasons = evaluate_snippet(ROOT, "(import 'config.libsonnet')._config.dnsblRefusalReasons")
    assert reasons == ["blocked_resolver", "rate_limited", "bad_key"]
    assert not _unknown(reasons)
    rule = _rule("DNSBLQueriesRefused")
    assert 'reason=~"blocked_resolver|rate_limited|bad_key"' in rule["expr"]
    described = re.findall(r'eq \$labels\.reason "([a-z_]+)"', rule["annotations"]["description"])
    assert set(described) == set(reasons) and not _unknown(described)


def test_check_sees_an_unknown_reason() -> None:
    """The check can fail: a misspelt reason is reported."""
    assert _unknown(["blocked", "bad_key"]) == ["blocked"]


def test_lookup_error_alert_lists_the_reasons_of_its_list() -> None:
    desc = _rule("DNSBLLookupsFailing")["annotations"]["description"]
    assert "count by (reason) (reputation_lookup_error{list=%q} == 1)" in desc
    assert "$r.Labels.reason" in desc


def test_reasons_render_with_a_reputation_selector(tmp_path: Path) -> None:
    """With `reputationSelector: 'env="prod"'` the query inside the description stays a valid template
    (its quotes escaped) and counts only the selected series."""
    files = own_rule_files("{ _config+:: { reputationSelector: 'env=\"prod\"' } }")
    (tmp_path / "reputation.yaml").write_text(render("reputation.yaml", files["reputation"]))
    err = 'reputation_lookup_error{env="%s", target="%s", list="spamcop", reason="%s"}'
    test = {
        "rule_files": ["reputation.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": err % ("prod", "192.0.2.1", "timeout"), "values": "1x40"},
                    {"series": err % ("prod", "192.0.2.2", "refused"), "values": "1x40"},
                    {"series": err % ("dev", "192.0.2.3", "servfail"), "values": "1x40"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "40m",
                        "alertname": "DNSBLLookupsFailing",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "service": "smtp", "list": "spamcop"},
                                "exp_annotations": {
                                    "summary": "Blacklist lookups are failing.",
                                    "description": "Lookups against spamcop fail for 100% of targets; their listing "
                                    "status is unknown. Reasons: refused (1), timeout (1).",
                                    "runbook_url": "https://github.com/infrawatch/infrawatch/blob/main/runbooks/"
                                    "DNSBLLookupsFailing.md",
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    res = promtool("test", "rules", "t.yaml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
