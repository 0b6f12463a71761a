"""The dashboards follow the mixin's configuration: service cards from `_config.services`, detail stats,
alert summaries and runbook links from the mixin's own alerts; the committed files are up to date."""

from __future__ import annotations

import json
import re

import pytest

from infrawatch_dev.build import evaluate_snippet, render

OVERRIDE = """
local m = (import 'mixin.libsonnet') + {
  _config+:: {
    services: [
      { name: 'web', title: 'Web Front', kind: 'http' },
      { name: 'queue', title: 'Queue', kind: 'custom',
        details: [{ title: 'Depth', expr: 'sum(queue_depth)', unit: 'short' }] },
    ],
    runbookURLPattern: 'https://runbooks.example/%(alert)s',
    dashboards+: { uidPrefix: 'acme-', reputationStatusPageURL: 'https://rep.example/' },
  },
};
{ dashboards: m.grafanaDashboards, alerts: m.prometheusAlerts, provisioning: m.grafanaProvisioning }
"""


@pytest.fixture(scope="module")
def overridden(repo_root):
    return evaluate_snippet(repo_root, OVERRIDE)


@pytest.fixture(scope="module")
def default_mixin(repo_root):
    return evaluate_snippet(
        repo_root,
        """
local m = import 'mixin.libsonnet';
{ dashboards: m.grafanaDashboards, services: m._config.services, provisioning: m.grafanaProvisioning }
""",
    )


def _cards(overview):
    return [
        p for p in overview["panels"] if p["type"] == "stat" and "infrawatch:service_status" in p["targets"][0]["expr"]
    ]


def test_one_traffic_light_card_per_configured_service(default_mixin):
    overview = default_mixin["dashboards"]["infrawatch-overview.json"]
    cards = _cards(overview)
    assert [c["title"] for c in cards] == [s["title"] for s in default_mixin["services"]]
    assert len(cards) == 6
    for card, service in zip(cards, default_mixin["services"], strict=True):
        assert card["targets"][0]["expr"] == f'min(infrawatch:service_status{{service="{service["name"]}"}})'
        texts = {k: v["text"] for m in card["fieldConfig"]["defaults"]["mappings"] for k, v in m["options"].items()}
        assert texts == {"2": "Healthy", "1": "Degraded", "0": "Down"}


def test_cards_and_details_follow_an_overridden_service_list(overridden):
    overview = overridden["dashboards"]["infrawatch-overview.json"]
    assert overview["uid"] == "acme-overview"
    cards = _cards(overview)
    assert [c["title"] for c in cards] == ["Web Front", "Queue"]
    # Details stack beneath their card, in the card's column.
    web, queue = cards
    web_details = [p for p in overview["panels"] if p["title"].startswith("Web Front: ")]
    assert [p["title"] for p in web_details] == [
        "Web Front: Average",
        "Web Front: p95",
        "Web Front: p99",
        "Web Front: Request rate",
        "Web Front: Error rate",
    ]
    assert all(
        p["gridPos"]["x"] == web["gridPos"]["x"] and p["gridPos"]["y"] > web["gridPos"]["y"] for p in web_details
    )
    assert 'service="web"' in web_details[1]["targets"][0]["expr"]
    depth = next(p for p in overview["panels"] if p["title"] == "Queue: Depth")
    assert depth["targets"][0]["expr"] == "sum(queue_depth)"
    assert depth["gridPos"]["x"] == queue["gridPos"]["x"] != web["gridPos"]["x"]


def test_alerts_feed_shows_each_alerts_summary_and_links_its_runbook(overridden):
    feed = next(
        p
        for p in overridden["dashboards"]["infrawatch-overview.json"]["panels"]
        if p["type"] == "table" and p["title"].startswith("Infrastructure alerts")
    )
    expr = feed["targets"][0]["expr"]
    alerts = {
        r["alert"]: r["annotations"]["summary"]
        for g in overridden["alerts"]["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    assert alerts, "the mixin defines no alerts"
    replaced = dict(re.findall(r'"summary", "((?:\\.|[^"\\])*)", "alertname", "(\w+)"', expr)[::1])
    assert {v: k for k, v in replaced.items()}.keys() == alerts.keys()
    assert "ALERTS_FOR_STATE[24h]" in expr
    links = feed["fieldConfig"]["defaults"]["links"]
    assert links[0]["url"] == "https://runbooks.example/${__data.fields.alertname}"


def test_reputation_table_links_to_status_page_and_delisting_pages(overridden):
    rep = overridden["dashboards"]["infrawatch-reputation.json"]
    monitor = next(p for p in rep["panels"] if p["type"] == "table" and p["title"] == "IP reputation monitor")
    assert monitor["fieldConfig"]["defaults"]["links"][0]["url"] == "https://rep.example/"
    listings = next(p for p in rep["panels"] if p["title"] == "Active listings")
    assert listings["fieldConfig"]["defaults"]["links"][0]["url"] == "${__data.fields.delist_url}"
    assert "delist_url" in listings["targets"][0]["expr"]


def test_reputation_table_has_a_listed_for_column(default_mixin):
    """Seed 000's "listed on Spamhaus, detected 2 hours ago": hours since the earliest current listing."""
    rep = default_mixin["dashboards"]["infrawatch-reputation.json"]
    monitor = next(p for p in rep["panels"] if p["type"] == "table" and p["title"] == "IP reputation monitor")
    since = next(t for t in monitor["targets"] if t["refId"] == "SINCE")
    assert since["expr"].startswith("round((time() - min by (target) (reputation_listed_since_timestamp_seconds{")
    assert since["expr"].endswith(") / 360) / 10")
    organize = next(t for t in monitor["transformations"] if t["id"] == "organize")["options"]
    assert organize["renameByName"]["Value #SINCE (lastNotNull)"] == "Listed for (h)"
    order = organize["indexByName"]
    assert order["list (uniqueValues)"] < order["Value #SINCE (lastNotNull)"] < order["Value #VOLUME (lastNotNull)"]


def test_provisioning_points_grafana_at_the_dashboards(default_mixin):
    prov = default_mixin["provisioning"]
    provider = prov["dashboards.yaml"]["providers"][0]
    assert provider["type"] == "file" and provider["allowUiUpdates"] is False
    ds = prov["datasources.yaml"]["datasources"][0]
    assert ds["type"] == "prometheus" and ds["uid"] == "prometheus"


def test_generated_files_are_up_to_date(default_mixin, repo_root):
    """dashboards/ holds exactly what `make build` writes from jsonnet/."""
    for name, dashboard in default_mixin["dashboards"].items():
        path = repo_root / "dashboards" / name
        assert path.read_text() == render(name, dashboard), f"{path} is stale: run make build"
    for name, content in default_mixin["provisioning"].items():
        path = repo_root / "dashboards" / "provisioning" / name
        assert path.read_text() == render(name, content), f"{path} is stale: run make build"
    on_disk = {p.name for p in (repo_root / "dashboards").glob("*.json")}
    assert on_disk == set(default_mixin["dashboards"])
    json.loads((repo_root / "dashboards" / "infrawatch-overview.json").read_text())


def test_many_services_wrap_into_more_card_lines_without_overlap(repo_root):
    services = ", ".join(
        f"{{ name: 's{i}', title: 'S{i}', kind: 'redis', exporterSelector: 'job=\"r{i}\"' }}" for i in range(9)
    )
    overview = evaluate_snippet(
        repo_root,
        f"""
local m = (import 'mixin.libsonnet') + {{ _config+:: {{ services: [{services}] }} }};
m.grafanaDashboards['infrawatch-overview.json']
""",
    )
    boxes = [p["gridPos"] for p in overview["panels"]]
    assert all(g["x"] + g["w"] <= 24 for g in boxes)
    overlaps = [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    ]
    assert not overlaps
    cards = _cards(overview)
    assert len(cards) == 9 and len({c["gridPos"]["y"] for c in cards}) == 2  # 8 per line at width 3


def test_title_prefix_goes_on_every_dashboard(repo_root):
    titles = evaluate_snippet(
        repo_root,
        """
local m = (import 'mixin.libsonnet') + { _config+:: { dashboards+: { titlePrefix: 'Acme / ' } } };
local plain = import 'mixin.libsonnet';
{ [k]: [m.grafanaDashboards[k].title, plain.grafanaDashboards[k].title] for k in std.objectFields(m.grafanaDashboards) }
""",
    )
    assert len(titles) >= 5
    for prefixed, plain in titles.values():
        assert prefixed == "Acme / " + plain and not plain.startswith("Acme")


def test_hosts_dashboard_follows_the_node_alert_knobs(repo_root):
    """The hosts dashboard draws the node alerts' thresholds from the same knobs (CPU, memory, disk
    free, fill horizon and window) and reads the alerts' node selector."""
    out = evaluate_snippet(
        repo_root,
        """
local m = (import 'mixin.libsonnet') + { _config+:: {
  nodeSelector: 'job="hosts"', cpuUsageThreshold: 0.7, memoryUsageThreshold: 0.9, diskFreeThreshold: 0.1,
  diskFillHours: 12, diskFillWindow: '3h' } };
{ hosts: m.grafanaDashboards['infrawatch-hosts.json'], node: m.ruleFiles.node }
""",
    )
    panels = {p["title"]: p for p in out["hosts"]["panels"]}

    def steps(title):
        return [s["value"] for s in panels[title]["fieldConfig"]["defaults"]["thresholds"]["steps"]]

    # the warning and critical tiers (critical at the defaults: 95% used, 5% free)
    assert steps("CPU usage") == [None, 0.7, 0.95] and steps("Highest CPU usage") == [None, 0.7, 0.95]
    assert steps("Memory usage") == [None, 0.9, 0.95] and steps("Free disk space") == [None, 0.05, 0.1]
    predicted = panels["Available space predicted in 12h"]["targets"][0]["expr"]
    assert (
        predicted.startswith('predict_linear(node_filesystem_avail_bytes{job="hosts"') and "[3h], 43200)" in predicted
    )
    exprs = [t["expr"] for p in out["hosts"]["panels"] for t in p.get("targets", [])]
    assert exprs and all('job="node"' not in e for e in exprs)
    # The alert and the panel extrapolate the same way.
    (fill,) = [r for g in out["node"]["groups"] for r in g["rules"] if r.get("alert") == "DiskFillingUp"]
    assert "[3h], 43200)" in fill["expr"]
    variable = next(v for v in out["hosts"]["templating"]["list"] if v["name"] == "instance")
    assert variable["query"] == 'label_values(node_uname_info{job="hosts"}, instance)'


def test_api_and_database_dashboards_follow_the_services_and_label_knobs(repo_root):
    """Sections come from _config.services (http with appSelector; postgres with exporterSelector);
    the API label names and the request-size metric are knobs; without such services no dashboard."""
    out = evaluate_snippet(
        repo_root,
        """
local base = (import 'mixin.libsonnet');
local m = base + { _config+:: {
  services: [
    { name: 'web', title: 'Web', kind: 'http', appSelector: 'job="web"', upSelector: 'job="web"' },
    { name: 'shop', title: 'Shop', kind: 'http', appSelector: 'job="shop"', upSelector: 'job="shop"' },
    { name: 'main-db', title: 'Main DB', kind: 'postgres', exporterSelector: 'job="pg", cluster="main"' },
  ],
  dashboards+: { api+: { endpointLabel: 'route', codeLabel: 'status', requestSizeMetric: '' },
                 database+: { topStatements: 3, topTables: 4 } },
  httpErrorSelector: 'status=~"5.."',
} };
local none = base + { _config+:: { services: [
  { name: 'mail', title: 'Mail', kind: 'smtp', exporterSelector: 'job="postfix"' },
] } };
{ api: m.grafanaDashboards['infrawatch-api.json'], db: m.grafanaDashboards['infrawatch-database.json'],
  noneFiles: std.objectFields(none.grafanaDashboards) }
""",
    )
    rows = [p["title"] for p in out["api"]["panels"] if p["type"] == "row"]
    assert rows == ["Web: traffic", "Web: endpoints", "Shop: traffic", "Shop: endpoints"]
    exprs = [t["expr"] for p in out["api"]["panels"] for t in p.get("targets", [])]
    assert all("path" not in e for e in exprs) and any('route=~"$endpoint"' in e for e in exprs)
    assert any("by (status)" in e for e in exprs) and any('status=~"4.."' in e for e in exprs)
    assert not any("request_size" in e for e in exprs)  # requestSizeMetric: '' drops those panels
    variable = next(v for v in out["api"]["templating"]["list"] if v["name"] == "endpoint")
    assert variable["query"] == "label_values(http_requests_total, route)"  # two services: every job
    db_rows = [p["title"] for p in out["db"]["panels"] if p["type"] == "row"]
    assert db_rows == ["Main DB"]
    db_exprs = [t["expr"] for p in out["db"]["panels"] for t in p.get("targets", [])]
    assert db_exprs and all('job="pg", cluster="main"' in e for e in db_exprs)
    db_by_title = {p["title"]: [t["expr"] for t in p.get("targets", [])] for p in out["db"]["panels"]}
    assert db_by_title["Slowest statements"][0].startswith("topk(3, ")
    assert db_by_title["Mean time per statement"][0].startswith("topk(3, ")
    assert db_by_title["Statement calls"][0].startswith("topk(3, ")
    assert db_by_title["Table size"][0].startswith("topk(4, ")
    assert db_by_title["Sequential scans"][0].startswith("topk(4, ")
    assert "infrawatch-api.json" not in out["noneFiles"] and "infrawatch-database.json" not in out["noneFiles"]
