"""Fixtures for the dashboard tests: the generated dashboards and their queries with variables substituted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "dashboards"
SCHEMA_DIR = ROOT / "tests" / "schemas" / "grafana"

# What Grafana substitutes for its built-in variables; the test values keep windows valid for a
# Prometheus scraping every second (rate windows need at least two samples).
BUILTINS = {"__rate_interval": "15s", "__interval": "5s", "__range": "5m", "__range_s": "300"}


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel_id: int
    panel_title: str
    panel_type: str
    ref_id: str
    expr: str
    instant: bool
    time_from: str | None

    @property
    def name(self) -> str:
        return f"{self.dashboard}#{self.panel_id} {self.panel_title!r} {self.ref_id}"


def load_dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARD_DIR.glob("*.json"))}


def all_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def variable_values(dashboard: dict[str, Any]) -> dict[str, str]:
    """Each template variable's value when "All" is selected (the allValue regex), as Grafana does."""
    values = {}
    for v in dashboard["templating"]["list"]:
        if v["type"] == "datasource":
            continue
        values[v["name"]] = v.get("allValue", ".*") if v.get("includeAll") else ".*"
    return values


_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def substitute(expr: str, values: dict[str, str], builtins: dict[str, str] | None = None) -> str:
    """Replace $var / ${var} / ${var:fmt}; unknown variables raise KeyError (a lint)."""
    table = {**BUILTINS, **(builtins or {}), **values}

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name.isdigit():  # "$1" in label_replace replacement strings
            return m.group(0)
        return table[name]

    return _VAR.sub(repl, expr)


def dashboard_queries(name: str, dashboard: dict[str, Any], builtins: dict[str, str] | None = None) -> list[Query]:
    values = variable_values(dashboard)
    out = []
    for p in all_panels(dashboard):
        for t in p.get("targets", []):
            out.append(
                Query(
                    name,
                    p["id"],
                    p.get("title", ""),
                    p["type"],
                    t.get("refId", ""),
                    substitute(t["expr"], values, builtins),
                    bool(t.get("instant")),
                    p.get("timeFrom"),
                )
            )
    return out


# Services the default _config lacks, so their dashboards are not committed: rendered here so that the
# schema, lint and PromQL tests cover them too (test_real_data.py runs their queries).
OPTIONAL_SERVICES = """[{ name: 'ws', title: 'WebSocket server', kind: 'websocket',
  appSelector: 'job="ws-server"', upSelector: 'job="ws-server"' }]"""


def optional_dashboards(repo_root: Path) -> dict[str, dict[str, Any]]:
    from infrawatch_dev.build import evaluate_snippet

    rendered = evaluate_snippet(
        repo_root,
        f"((import 'mixin.libsonnet') + {{ _config+:: {{ services+: {OPTIONAL_SERVICES} }} }}).grafanaDashboards",
    )
    committed = {p.name for p in DASHBOARD_DIR.glob("*.json")}
    return {name: d for name, d in rendered.items() if name not in committed}


@pytest.fixture(scope="session")
def dashboards(repo_root: Path) -> dict[str, dict[str, Any]]:
    found = load_dashboards()
    assert found, f"no dashboards in {DASHBOARD_DIR}; run make build"
    optional = optional_dashboards(repo_root)
    assert "infrawatch-websocket.json" in optional
    return {**found, **optional}


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    return SCHEMA_DIR


@pytest.fixture(scope="session")
def queries(dashboards: dict[str, dict[str, Any]]) -> list[Query]:
    """Every panel target of every dashboard, variables substituted (All selected)."""
    return [q for name, d in dashboards.items() for q in dashboard_queries(name, d)]


@pytest.fixture(scope="session")
def panels(dashboards: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, p) for name, d in dashboards.items() for p in all_panels(d)]


@pytest.fixture(scope="session")
def queries_of():
    """``queries_of(dashboards, builtins)`` -> every query of rendered dashboards (e.g. with other knobs)."""

    def make(dashboards: dict[str, dict[str, Any]], builtins: dict[str, str] | None = None) -> list[Query]:
        return [q for name, d in dashboards.items() for q in dashboard_queries(name, d, builtins)]

    return make


@pytest.fixture(scope="session")
def make_queries():
    """``make_queries(builtins)`` -> every query with the given built-in variable values."""

    def make(builtins: dict[str, str] | None = None) -> list[Query]:
        return [q for name, d in load_dashboards().items() for q in dashboard_queries(name, d, builtins)]

    return make
