"""Lints after grafana/dashboard-linter, plus the layout and uid rules of issue 7."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

EXPECTED_UIDS = {
    "infrawatch-overview.json": "infrawatch-overview",
    "infrawatch-reputation.json": "infrawatch-reputation",
    "infrawatch-slo.json": "infrawatch-slo",
    "infrawatch-probes.json": "infrawatch-probes",
    "infrawatch-exporters.json": "infrawatch-exporters",
    "infrawatch-hosts.json": "infrawatch-hosts",
    "infrawatch-api.json": "infrawatch-api",
    "infrawatch-database.json": "infrawatch-database",
    "infrawatch-websocket.json": "infrawatch-websocket",
}
COUNTER_FUNCTIONS = {"rate", "irate", "increase"}


# ---- PromQL helpers (enough of a lexer for the lints; parsing itself is promtool's job) ----------


def _strip_strings(expr: str) -> str:
    return re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', expr)


def _strip_label_lists(expr: str) -> str:
    """Drop `{...}` matchers and `by/without/on/ignoring/group_x (...)` label lists: names there are labels."""
    expr = re.sub(r"\{[^{}]*\}", "", _strip_strings(expr))
    return re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", r"\1", expr)


def _enclosing_function(expr: str, pos: int) -> str | None:
    depth = 0
    for i in range(pos - 1, -1, -1):
        c = expr[i]
        if c == ")":
            depth += 1
        elif c == "(":
            if depth == 0:
                m = re.search(r"([a-zA-Z_]\w*)\s*$", expr[:i])
                return m.group(1) if m else None
            depth -= 1
    return None


def counters_outside_rate(expr: str) -> list[str]:
    """`*_total` series used other than inside rate/irate/increase."""
    clean = _strip_label_lists(expr)
    bad = []
    for m in re.finditer(r"(?<![\w:])([a-zA-Z_:][\w:]*_total)\b", clean):
        if _enclosing_function(clean, m.start()) not in COUNTER_FUNCTIONS:
            bad.append(m.group(1))
    return bad


def rate_windows(expr: str) -> list[str]:
    """Range windows used inside rate()/irate()."""
    clean = _strip_strings(expr)
    windows = []
    for m in re.finditer(r"\b(rate|irate)\s*\(", clean):
        depth, i = 1, m.end()
        while depth and i < len(clean):
            depth += {"(": 1, ")": -1}.get(clean[i], 0)
            i += 1
        windows += re.findall(r"\[([^\]:]+)\]", clean[m.end() : i])
    return windows


# ---- lints ---------------------------------------------------------------------------------------


def test_lint_helpers_catch_violations():
    assert counters_outside_rate('sum(http_requests_total{code="500"})') == ["http_requests_total"]
    assert counters_outside_rate("sum by (le) (rate(x_total[$__rate_interval]))") == []
    assert counters_outside_rate("max(x) by (label_total)") == []
    assert rate_windows("rate(a_total[5m]) / irate(b_total[$__rate_interval])") == ["5m", "$__rate_interval"]


def test_dashboards_have_stable_uids_and_are_not_editable(dashboards):
    assert {n: d["uid"] for n, d in dashboards.items()} == EXPECTED_UIDS
    assert all(d["editable"] is False for d in dashboards.values())
    assert all("infrawatch" in d["tags"] for d in dashboards.values())


def test_datasource_variable_is_named_datasource(dashboards):
    for name, d in dashboards.items():
        ds_vars = [v for v in d["templating"]["list"] if v["type"] == "datasource"]
        assert [v["name"] for v in ds_vars] == ["datasource"], name
        assert ds_vars[0]["query"] == "prometheus"


def test_every_panel_and_target_uses_the_datasource_variable(panels):
    problems = []
    for name, p in panels:
        if p["type"] in ("row", "text"):
            continue
        if p.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}:
            problems.append(f"{name} #{p['id']} panel datasource {p.get('datasource')}")
        if not p.get("targets"):
            problems.append(f"{name} #{p['id']} has no targets")
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != "${datasource}":
                problems.append(f"{name} #{p['id']} {t.get('refId')} target datasource {t.get('datasource')}")
    assert not problems, "\n".join(problems)


def test_query_variables_refresh_on_time_range_change_and_use_the_datasource(dashboards):
    for name, d in dashboards.items():
        for v in d["templating"]["list"]:
            if v["type"] == "query":
                assert v["refresh"] == 2, (name, v["name"])
                assert v["datasource"]["uid"] == "${datasource}", (name, v["name"])


def test_rate_uses_rate_interval(dashboards, panels):
    exprs = [(n, p["id"], t["expr"]) for n, p in panels for t in p.get("targets", [])]
    exprs += [
        (n, v["name"], v["query"])
        for n, d in dashboards.items()
        for v in d["templating"]["list"]
        if v["type"] == "query"
    ]
    bad = [(n, i, w) for n, i, e in exprs for w in rate_windows(e) if w != "$__rate_interval"]
    assert not bad


def test_counters_only_inside_rate_irate_increase(panels):
    bad = [(n, p["id"], c) for n, p in panels for t in p.get("targets", []) for c in counters_outside_rate(t["expr"])]
    assert not bad


def test_every_panel_has_a_unit_or_value_mappings(panels, schema_dir: Path):
    units = json.loads((schema_dir / "units.jsonschema.json").read_text())["definitions"]
    known = {d["const"] for d in units.values() if "const" in d}
    problems = []
    for name, p in panels:
        if p["type"] in ("row", "text"):
            continue
        defaults = p["fieldConfig"]["defaults"]
        unit = defaults.get("unit")
        if unit is None and not defaults.get("mappings"):
            problems.append(f"{name} #{p['id']} {p['title']!r}: no unit and no value mappings")
        elif unit is not None and unit not in known:
            problems.append(f"{name} #{p['id']} {p['title']!r}: unknown unit {unit!r}")
    assert not problems, "\n".join(problems)


def test_panel_ids_are_unique_per_dashboard(dashboards):
    from collections import Counter

    for name, d in dashboards.items():
        ids = Counter(p["id"] for p in d["panels"]) + Counter(c["id"] for p in d["panels"] for c in p.get("panels", []))
        assert [i for i, n in ids.items() if n > 1] == [], name


def _overlaps(a: dict[str, int], b: dict[str, int]) -> bool:
    return (
        a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
    )


def test_grid_positions_fit_24_columns_and_do_not_overlap(dashboards):
    for name, d in dashboards.items():
        boxes = [(p["id"], p["gridPos"]) for p in d["panels"]]
        for pid, g in boxes:
            assert g["x"] >= 0 and g["w"] > 0 and g["h"] > 0 and g["x"] + g["w"] <= 24, (name, pid, g)
        overlapping = [(a, b) for i, (a, ga) in enumerate(boxes) for b, gb in boxes[i + 1 :] if _overlaps(ga, gb)]
        assert not overlapping, (name, overlapping)


def test_layout_check_catches_overlap():
    assert _overlaps({"x": 0, "y": 0, "w": 12, "h": 8}, {"x": 6, "y": 4, "w": 12, "h": 8})
    assert not _overlaps({"x": 0, "y": 0, "w": 12, "h": 8}, {"x": 12, "y": 0, "w": 12, "h": 8})


def test_every_variable_used_is_defined(queries):
    # conftest.substitute raises KeyError on an undefined variable; reaching here means all resolved.
    assert all("$" not in re.sub(r"\$\d|\$\$", "", q.expr) for q in queries)


def test_no_angular_or_deprecated_panel_types(panels):
    deprecated = ("graph", "singlestat", "table-old", "grafana-piechart-panel")
    assert not [p["type"] for _, p in panels if p["type"] in deprecated]


@pytest.mark.parametrize("dashboard", sorted(EXPECTED_UIDS))
def test_dashboard_has_rows_and_titles(dashboards, dashboard):
    d: dict[str, Any] = dashboards[dashboard]
    assert d["title"] and d["description"]
    assert all(p.get("title") for p in d["panels"])
