"""A real Prometheus 2.42 loads every generated rule file and evaluates it without errors."""

from __future__ import annotations

import time

from support.rulefiles import generated_rule_files, iter_rules, load_yaml_files


def test_prometheus_evaluates_every_rule_and_fires_watchdog(prometheus_factory) -> None:
    files = generated_rule_files()
    prom = prometheus_factory({"scrape_configs": []}, rule_files=[str(p) for p in files])
    expected = {g["name"] for content in load_yaml_files(files).values() for g in content["groups"]}
    deadline = time.monotonic() + 60
    while True:
        groups = prom.api("rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if {g["name"] for g in groups} == expected and all(r["health"] != "unknown" for r in rules):
            break
        assert time.monotonic() < deadline, "rules were not all evaluated within 60s"
        time.sleep(0.5)
    errors = [f"{r['name']}: {r.get('lastError')}" for r in rules if r["health"] != "ok"]
    assert not errors, errors
    assert len(rules) == len(list(iter_rules(load_yaml_files(files))))
    watchdog = prom.wait_for('ALERTS{alertname="Watchdog", alertstate="firing"}')
    assert watchdog[0]["metric"]["severity"] == "info" and watchdog[0]["metric"]["service"] == "infrawatch"
