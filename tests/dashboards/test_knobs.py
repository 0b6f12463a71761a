"""The dashboard knobs (node-mixin / kubernetes-mixin style): showMultiCluster + clusterLabel, the
tenant label, rateInterval, the title prefix and grafanaDashboardFolder.

The mixin is rendered with the knobs set; every panel query and variable query is parsed (the tests'
PromQL parser, then promtool) and each vector selector must carry the cluster matcher (and the tenant
matcher on the tenant dashboards); every rate()/increase() window must be the configured one; the
dashboards still validate against the Grafana schema.  tests/dashboards/test_real_data.py runs the
same rewritten queries against a real Prometheus.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infrawatch_dev.build import evaluate_snippet
from support.procs import require_binary
from support.promql import Call, Selector, parse, selectors

KNOBS = """{
  _config+:: {
    showMultiCluster: true,
    clusterLabel: 'k8s_cluster',
    dashboards+: { tenantLabel: 'customer', rateInterval: '2m', titlePrefix: 'Acme / ', grafanaFolder: 'Acme' },
  },
}"""
# What a rewritten query may look like once Grafana substitutes its own variables.
BUILTINS = {"__range": "5m", "__range_s": "300", "__interval": "15s", "__rate_interval": "1m"}
CLUSTER = ("k8s_cluster", "=~", "$cluster")
TENANT = ("customer", "=~", "$tenant")
TENANT_DASHBOARDS = {"infrawatch-overview.json", "infrawatch-probes.json"}


def render(repo_root: Path, knobs: str) -> dict[str, Any]:
    return evaluate_snippet(
        repo_root,
        f"local m = (import 'mixin.libsonnet') + ({knobs}); "
        "{ dashboards: m.grafanaDashboards, folder: m.grafanaDashboardFolder, provisioning: m.grafanaProvisioning }",
    )


@pytest.fixture(scope="module")
def knobbed(repo_root: Path) -> dict[str, Any]:
    return render(repo_root, KNOBS)


@pytest.fixture(scope="module")
def plain(repo_root: Path) -> dict[str, Any]:
    return render(repo_root, "{}")


def _panels(d: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in d["panels"]:
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def _exprs(d: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.get("title", ""), t["expr"]) for p in _panels(d) for t in p.get("targets", []) if "expr" in t]


def _substituted(expr: str) -> str:
    for name, value in sorted(BUILTINS.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace("$" + name, value)
    return expr


def _variable_selector(query: str) -> str:
    assert query.startswith("label_values(") and query.endswith(")"), query
    return query[len("label_values(") : query.rindex(",")]


def _missing(expr: str, wanted: list[tuple[str, str, str]]) -> list[str]:
    """Selectors of `expr` lacking one of the wanted matchers."""
    return [
        f"{s.name or '{...}'} lacks {w[0]}{w[1]}{w[2]!r}"
        for s in selectors(parse(_substituted(expr)))
        for w in wanted
        if w not in s.matchers
    ]


def test_every_dashboard_gets_the_cluster_variable_and_the_tenant_where_configured(knobbed, plain) -> None:
    assert set(knobbed["dashboards"]) == set(plain["dashboards"]) and len(plain["dashboards"]) >= 5
    for name, d in knobbed["dashboards"].items():
        names = [v["name"] for v in d["templating"]["list"]]
        assert names[0] == "datasource" and names[1] == "cluster", (name, names)
        (cluster,) = [v for v in d["templating"]["list"] if v["name"] == "cluster"]
        assert cluster["query"] == "label_values(up, k8s_cluster)"
        if name in TENANT_DASHBOARDS:
            assert names[2] == "tenant", (name, names)
            (tenant,) = [v for v in d["templating"]["list"] if v["name"] == "tenant"]
            assert tenant["query"] == 'label_values(probe_success{k8s_cluster=~"$cluster"}, customer)'
        else:
            assert "tenant" not in names, name
        assert d["title"] == "Acme / " + plain["dashboards"][name]["title"]
    for name, d in plain["dashboards"].items():
        assert not {"cluster", "tenant"} & {v["name"] for v in d["templating"]["list"]}, name
    assert knobbed["folder"] == "Acme" and plain["folder"] == "infrawatch"
    assert knobbed["provisioning"]["dashboards.yaml"]["providers"][0]["folder"] == "Acme"


def test_every_query_and_variable_matches_cluster_and_tenant(knobbed) -> None:
    problems, checked = [], 0
    for name, d in knobbed["dashboards"].items():
        wanted = [CLUSTER] + ([TENANT] if name in TENANT_DASHBOARDS else [])
        for title, expr in _exprs(d):
            checked += 1
            problems += [f"{name} {title!r}: {m}" for m in _missing(expr, wanted)]
        for v in d["templating"]["list"]:
            if v["type"] == "query" and v["name"] not in ("cluster", "tenant"):
                checked += 1
                problems += [f"{name} ${v['name']}: {m}" for m in _missing(_variable_selector(v["query"]), wanted)]
    assert checked > 60
    assert not problems, "\n".join(problems)


def test_the_matcher_check_can_fail(plain) -> None:
    """Without the knobs the same check reports the selectors (it is not vacuous)."""
    d = plain["dashboards"]["infrawatch-reputation.json"]
    missing = [m for _, e in _exprs(d) for m in _missing(e, [CLUSTER])]
    assert len(missing) > 10 and "reputation_score lacks k8s_cluster=~'$cluster'" in missing


def _windows(expr: str) -> list[tuple[str, float | None]]:
    node = parse(_substituted(expr))
    return [
        (n.func, n.args[0].range)
        for n in node.walk()
        if isinstance(n, Call) and n.func in ("rate", "increase", "irate") and isinstance(n.args[0], Selector)
    ]


def test_rate_interval_is_the_window_of_every_rate(knobbed, plain) -> None:
    daily = "email_sent_total"  # dashboards.dailyVolumeQuery: a day's volume by definition
    # Tables over the dashboard's time range (the database dashboard's slowest statements): Grafana's
    # $__range, substituted as 5m, is no rate window.
    time_range = 300
    seen, wrong = 0, []
    for name, d in knobbed["dashboards"].items():
        for title, expr in _exprs(d):
            assert "$__rate_interval" not in expr, (name, title)
            for func, window in _windows(expr):
                seen += 1
                over_range = "[$__range]" in expr and window == time_range
                if window != 120 and not (daily in expr and window == 86400) and not over_range:
                    wrong.append(f"{name} {title!r}: {func} over {window}s")
    assert seen >= 10 and not wrong, wrong
    # The default keeps Grafana's $__rate_interval (substituted as 1m above).
    default = [w for d in plain["dashboards"].values() for _, e in _exprs(d) for _, w in _windows(e)]
    assert default.count(60) >= 10


def test_rewritten_queries_pass_promtool(knobbed, tmp_path: Path) -> None:
    exprs = [
        _substituted(e).replace("$cluster", ".*").replace("$tenant", ".*")
        for d in knobbed["dashboards"].values()
        for _, e in _exprs(d)
    ]
    rules = [{"record": f"dashboard:expr_{i}:check", "expr": e} for i, e in enumerate(exprs)]
    path = tmp_path / "exprs.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "knobs", "rules": rules}]}))
    import subprocess

    res = subprocess.run(
        [require_binary("promtool"), "check", "rules", str(path)], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0 and f"{len(exprs)} rules found" in res.stdout, res.stdout + res.stderr


def test_knobbed_dashboards_validate_against_the_schema(knobbed, schema_dir: Path) -> None:
    schema = copy.deepcopy(json.loads((schema_dir / "dashboard.jsonschema.json").read_text()))
    schema["$ref"] = "#/definitions/Dashboard"
    validator = jsonschema.Draft7Validator(schema)
    problems = {
        name: [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(d)]
        for name, d in knobbed["dashboards"].items()
    }
    assert not {k: v for k, v in problems.items() if v}


def test_a_bad_rate_interval_is_refused(repo_root: Path) -> None:
    with pytest.raises(RuntimeError) as exc:
        render(repo_root, "{ _config+:: { dashboards+: { rateInterval: '$__rate_intervl' } } }")
    msg = str(exc.value)
    assert "_config.dashboards.rateInterval: '$__rate_intervl' is not a Prometheus duration" in msg
    assert "did you mean '$__rate_interval'?" in msg
