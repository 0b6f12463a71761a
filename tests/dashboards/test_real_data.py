"""Every dashboard query against real data.

Starts the probe and reputation exporters, Debian's node, redis and postgres exporters (with
redis-server, and a PostgreSQL of its own with pg_stat_statements preloaded, a steady workload and
postgres_exporter running the shipped deploy/postgres/queries.yaml), rbldnsd serving DNSBL zones, an
SMTP server, an HTTPS server, the application simulator (tests/support/appsim.py: the seeds' API
with http_requests_total and http_request_duration_seconds; it also stands in for Elasticsearch's
/_cluster/health, since Elasticsearch cannot run here) and a real Prometheus loaded with the
generated rules. After a few scrapes every panel target of every dashboard (variables substituted as
with "All" selected) runs through Prometheus' query API; a target that errors or returns no data
fails the test, unless it is listed in NO_DATA with the reason it cannot have data in this setup.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from infrawatch_dev.build import evaluate_snippet
from support.appsim import AppSim
from support.dnsbl_zones import CLEAN_IP, SBL_IP, standard_zones
from support.postgres import PG_STAT_STATEMENTS, PostgresServer, Workload, start_postgres
from support.procs import Proc, free_port, require_binary, wait_http
from support.prometheus import Prometheus
from support.rbldnsd import Rbldnsd
from support.smtpserver import smtp_server
from support.tls import Certs, ServerThread

pytestmark = pytest.mark.slow

# The exporters' console scripts live next to the Python running the tests (.venv/bin).
VENV_BIN = Path(sys.executable).parent

# (dashboard file, panel title) -> why it has no data here.  Everything else must return data.
NO_DATA = {
    (
        "infrawatch-overview.json",
        "SMTP Service: Queue backlog",
    ): "needs postfix_exporter reading a Postfix queue; no Postfix MTA runs in the test",
    (
        "infrawatch-overview.json",
        "Elasticsearch: Indexing lag",
    ): "needs elasticsearch_exporter and a real Elasticsearch, which cannot run here",
}

# postgres_exporter's custom queries, as the compose stack mounts them (tests/deploy/test_compose.py).
PG_QUERIES = "deploy/postgres/queries.yaml"

# Share of the simulator's e-mails that fail (the e-mail delivery panels must show it).
EMAIL_FAILURE_RATIO = 0.25

# Built-in Grafana variables for a Prometheus scraping every second.
BUILTINS = {"__rate_interval": "15s", "__interval": "5s", "__range": "5m", "__range_s": "300"}


# ---- the stack ------------------------------------------------------------------------------------


def _start_listening(
    argv: list[str], log: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[Proc, str]:
    """Start an infrawatch exporter on port 0; return it and the URL from its JSON "listening" line."""
    proc = Proc(argv, log, env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in proc.log().splitlines():
            if line.startswith("{") and '"listening"' in line:
                return proc, json.loads(line)["addresses"][0].rstrip("/")
        if not proc.alive():
            break
        time.sleep(0.1)
    proc.stop()
    raise RuntimeError(f"{argv[0]} did not start:\n{proc.log()}")


def _start_go_exporter(argv: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> Proc:
    proc = Proc(argv, log, env=env)
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics", timeout=30, proc=proc.proc)
    except Exception as exc:
        proc.stop()
        raise RuntimeError(f"{argv[0]} did not start: {exc}\n{proc.log()}") from exc
    return proc


def _probe_config(d: dict[str, Any], secrets: Path, ca_file: Path) -> str:
    pw = secrets
    return f"""
modules:
  http_health:
    prober: http
    timeout: 3s
    http: {{preferred_ip_protocol: ip4, valid_status_codes: [200], health: {{enabled: true}}}}
  http_2xx:
    prober: http
    timeout: 3s
    http: {{preferred_ip_protocol: ip4}}
  https_2xx:
    prober: http
    timeout: 3s
    http: {{preferred_ip_protocol: ip4, tls_config: {{ca_file: "{ca_file}"}}}}
  smtp_starttls:
    prober: smtp
    timeout: 5s
    smtp: {{preferred_ip_protocol: ip4, starttls: true, tls_config: {{ca_file: "{ca_file}"}}}}
  pg_oltp:
    prober: postgres
    timeout: 5s
    postgres: {{preferred_ip_protocol: ip4, user: probe, database: probe, sslmode: disable,
               password_file: "{pw / "pg.pw"}"}}
  pg_olap:
    prober: postgres
    timeout: 5s
    postgres: {{preferred_ip_protocol: ip4, user: probe, database: probe, sslmode: disable,
               password_file: "{pw / "pg.pw"}", query: "SELECT count(*) FROM pg_class"}}
  redis_auth:
    prober: redis
    timeout: 3s
    redis: {{preferred_ip_protocol: ip4, username: probe, password_file: "{pw / "redis.pw"}"}}
  es_health:
    prober: elasticsearch
    timeout: 3s
    elasticsearch: {{preferred_ip_protocol: ip4}}
  dnsbl_a:
    prober: dns
    timeout: 3s
    dns: {{preferred_ip_protocol: ip4, query_name: 2.0.0.127.zen.test, query_type: A}}
allowed_targets: ["127.0.0.1", "localhost"]
scheduler: {{interval: 2s, timeout: 5s, concurrency: 16}}
targets:
  - {{target: "http://127.0.0.1:{d["app"]}/health", module: http_health, service: api}}
  - {{target: "127.0.0.1:{d["smtp"]}", module: smtp_starttls, service: smtp}}
  - {{target: "127.0.0.1:{d["pg"]}", module: pg_oltp, service: oltp-db}}
  - {{target: "127.0.0.1:{d["pg"]}", module: pg_olap, service: olap-db}}
  - {{target: "127.0.0.1:{d["redis"]}", module: redis_auth, service: redis}}
  - {{target: "http://127.0.0.1:{d["app"]}", module: es_health, service: elasticsearch}}
  - {{target: "https://localhost:{d["https"]}/", module: https_2xx, service: web}}
  - {{target: "127.0.0.1:{d["dns"]}", module: dnsbl_a, service: dnsbl}}
  # Nothing listens here: a failing probe (probe_failure_info, failure panels).
  - {{target: "http://127.0.0.1:{d["closed"]}/", module: http_2xx, service: discard}}
"""


def _reputation_config(dns: str) -> str:
    return f"""
resolver: {{nameservers: ["{dns}"], timeout: 500ms, retries: 1}}
interval: 10s
lists:
  - {{name: zen, profile: spamhaus-zen, zone: zen.test, daily_query_budget: 300000}}
  - {{name: barracuda, profile: barracuda, zone: bar.test}}
  # rbldnsd answers REFUSED here: the lookup-error panels get data.
  - {{name: refused, profile: barracuda, zone: refused.test, tier: minor}}
targets:
  - {{ip: {CLEAN_IP}, provider: aws, pool: transactional}}
  - {{ip: {SBL_IP}, provider: sendgrid, pool: marketing}}
"""


@dataclass
class Stack:
    prometheus_url: str
    probe_url: str
    app: AppSim


class _Cleanup:
    def __init__(self) -> None:
        self.stops: list[Any] = []

    def add(self, stop: Any) -> None:
        self.stops.append(stop)

    def run(self) -> None:
        for stop in reversed(self.stops):
            try:
                stop()
            except Exception as exc:  # keep stopping the others
                print(f"cleanup: {exc}")


@pytest.fixture(scope="module")
def stats_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL of this module's own: pg_stat_statements preloaded and created in the database
    postgres_exporter reads, as docs/deployment.md asks (the session's shared cluster stays plain)."""
    # Not tmp_path_factory: that tree is mode 0700 for root, which the postgres user cannot enter.
    d = Path(tempfile.mkdtemp(prefix="infrawatch-pgstat-"))
    try:
        server = start_postgres(d, settings=PG_STAT_STATEMENTS)
        try:
            server.psql("CREATE EXTENSION pg_stat_statements")
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server, stats_postgres, repo_root) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("dashboards-real-data")
    cleanup = _Cleanup()
    try:
        yield _build_stack(work, cleanup, redis_server, stats_postgres, repo_root)
    finally:
        cleanup.run()


def _build_stack(work: Path, cleanup: _Cleanup, redis_server, postgres_server, repo_root: Path) -> Stack:
    secrets = work / "secrets"
    secrets.mkdir()
    (secrets / "pg.pw").write_text(postgres_server.password + "\n")
    (secrets / "redis.pw").write_text(redis_server.acl_password + "\n")
    for f in secrets.iterdir():
        f.chmod(0o600)

    # Redis traffic so the hit-rate panel has hits and misses.
    redis_server.command("SET", "dashboards:key", "1")
    for key in ("dashboards:key", "dashboards:key", "dashboards:missing"):
        redis_server.command("GET", key)

    app = AppSim(
        error_ratio=0.001,
        latency_seconds=0.03,
        requests_per_second=40,
        emails_per_second=10,
        email_failure_ratio=EMAIL_FAILURE_RATIO,
        sending_ips=[CLEAN_IP, SBL_IP],
        seed=7,
    ).start()
    cleanup.add(app.stop)

    dnsbl = Rbldnsd(work / "rbldnsd", standard_zones()).start()
    cleanup.add(dnsbl.cleanup)
    cleanup.add(dnsbl.stop)

    certs = Certs(work / "certs")
    servers = ServerThread()
    cleanup.add(servers.stop)
    https_app = web.Application()

    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    https_app.router.add_get("/", ok)
    https_port = servers.serve(https_app, ssl_context=certs.server_context("valid"))

    smtp_cm = smtp_server(tls_context=certs.server_context("valid"))
    smtp = smtp_cm.__enter__()
    cleanup.add(lambda: smtp_cm.__exit__(None, None, None))

    ports = {
        "app": app.port,
        "smtp": smtp.port,
        "pg": postgres_server.port,
        "redis": redis_server.port,
        "https": https_port,
        "dns": dnsbl.port,
        "closed": free_port(),
    }
    probe_cfg = work / "probe.yml"
    probe_cfg.write_text(_probe_config(ports, secrets, certs.ca_file))
    probe, probe_url = _start_listening(
        [str(VENV_BIN / "infrawatch-probe-exporter"), f"--config.file={probe_cfg}", "--web.listen-address=127.0.0.1:0"],
        work / "probe.log",
    )
    cleanup.add(probe.stop)

    rep_cfg = work / "reputation.yml"
    rep_cfg.write_text(_reputation_config(f"{dnsbl.host}:{dnsbl.port}"))
    reputation, reputation_url = _start_listening(
        [
            str(VENV_BIN / "infrawatch-reputation-exporter"),
            f"--config.file={rep_cfg}",
            "--web.listen-address=127.0.0.1:0",
        ],
        work / "reputation.log",
    )
    cleanup.add(reputation.stop)

    node_port, redis_exp_port, pg_exp_port = free_port(), free_port(), free_port()
    node = _start_go_exporter(
        [
            require_binary("prometheus-node-exporter"),
            f"--web.listen-address=127.0.0.1:{node_port}",
            "--collector.disable-defaults",
            "--collector.cpu",
            "--collector.meminfo",
            "--collector.filesystem",
            "--collector.loadavg",
            # the hosts dashboard's disk I/O, network and host variable
            "--collector.diskstats",
            "--collector.netdev",
            "--collector.uname",
        ],
        node_port,
        work / "node.log",
    )
    cleanup.add(node.stop)
    redis_exp = _start_go_exporter(
        [
            require_binary("prometheus-redis-exporter"),
            f"-web.listen-address=127.0.0.1:{redis_exp_port}",
            f"-redis.addr=redis://127.0.0.1:{redis_server.port}",
        ],
        redis_exp_port,
        work / "redis-exporter.log",
        env={"REDIS_PASSWORD": redis_server.password},
    )
    cleanup.add(redis_exp.stop)
    dsn = (
        f"postgresql://{postgres_server.superuser}:{postgres_server.superuser_password}"
        f"@127.0.0.1:{postgres_server.port}/postgres?sslmode=disable"
    )
    # The statement and table panels: a steady workload, read through the shipped custom queries.
    workload = Workload(postgres_server).start()
    cleanup.add(workload.stop)
    pg_exp = _start_go_exporter(
        [
            require_binary("prometheus-postgres-exporter"),
            f"--web.listen-address=127.0.0.1:{pg_exp_port}",
            f"--extend.query-path={repo_root / PG_QUERIES}",
        ],
        pg_exp_port,
        work / "postgres-exporter.log",
        env={"DATA_SOURCE_NAME": dsn},
    )
    cleanup.add(pg_exp.stop)

    def static(target: str, **labels: str) -> dict[str, Any]:
        return {"targets": [target], **({"labels": labels} if labels else {})}

    host = lambda url: urllib.parse.urlsplit(url).netloc  # noqa: E731
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "api-server", "static_configs": [static(f"127.0.0.1:{app.port}")]},
            {"job_name": "infrawatch-probe", "static_configs": [static(host(probe_url))]},
            {"job_name": "infrawatch-reputation", "static_configs": [static(host(reputation_url))]},
            {"job_name": "node", "static_configs": [static(f"127.0.0.1:{node_port}")]},
            {"job_name": "redis", "static_configs": [static(f"127.0.0.1:{redis_exp_port}")]},
            # One postgres_exporter scraped as both databases of the overview (cluster label).
            {
                "job_name": "postgres",
                "static_configs": [
                    static(f"127.0.0.1:{pg_exp_port}", cluster="oltp"),
                    static(f"127.0.0.1:{pg_exp_port}", cluster="olap"),
                ],
            },
        ],
    }
    # A test alert that fires at once, so the alerts feed has a row even if no generated alert fires.
    test_rules = work / "test-alerts.yaml"
    test_rules.write_text(
        json.dumps(
            {
                "groups": [
                    {
                        "name": "dashboards-test",
                        "rules": [
                            {
                                "alert": "DashboardsTestAlert",
                                "expr": "vector(1)",
                                "labels": {"severity": "info", "service": "api"},
                                "annotations": {"summary": "Dashboards test alert."},
                            }
                        ],
                    }
                ]
            }
        )
    )
    rule_files = [*sorted(str(p) for p in (repo_root / "rules").glob("*.yaml")), str(test_rules)]

    prom = Prometheus(work / "prometheus", config, rule_files)
    prom.start()
    cleanup.add(prom.stop)

    # A refused /probe request (target outside allowed_targets) for the refused-requests panel.
    try:
        urllib.request.urlopen(f"{probe_url}/probe?target=http://forbidden.example/&module=http_2xx", timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 403

    # Wait for data that takes longest: reputation cycles, rate windows, SLO rules, alerts.
    for expr in (
        'up{job="postgres"} == 1',
        'pg_top_tables_idx_scan_total{relname="iw_orders"} > 0',
        "reputation_score",
        'probe_success{service="redis"}',
        "infrawatch:service_status",
        "slo:current_burn_rate:ratio",
        "ALERTS_FOR_STATE",
        "reputation_lookup_error == 1",
        "probe_failure_info == 1",
    ):
        prom.wait_for(expr, timeout=90)
    # At least four scrapes inside the 15 s $__rate_interval after the last target came up.
    time.sleep(8)
    return Stack(prom.url, probe_url, app)


# ---- queries -------------------------------------------------------------------------------------


def _api(base: str, path: str, params: dict[str, str]) -> dict[str, Any]:
    url = f"{base}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read() or b"{}") or {"status": "error", "error": str(exc)}


def run_query(base: str, expr: str, instant: bool) -> tuple[str | None, int]:
    """(error, number of series) as Grafana would get them."""
    if instant:
        body = _api(base, "query", {"query": expr})
    else:
        end = time.time()
        body = _api(base, "query_range", {"query": expr, "start": str(end - 60), "end": str(end), "step": "5"})
    if body.get("status") != "success":
        return f"{body.get('errorType')}: {body.get('error')}", 0
    return None, len(body["data"]["result"])


def test_query_runner_reports_errors_and_empty_results(stack):
    assert run_query(stack.prometheus_url, "sum(rate(http_requests_total[15s]", True)[0]
    assert run_query(stack.prometheus_url, 'up{job="no-such-job"}', False) == (None, 0)
    assert run_query(stack.prometheus_url, 'up{job="api-server"}', False) == (None, 1)


def test_every_panel_query_returns_data(stack, make_queries):
    queries = make_queries(BUILTINS)
    assert len(queries) > 50
    failures, unexpected_data = [], []
    for q in queries:
        error, series = run_query(stack.prometheus_url, q.expr, q.instant)
        reason = NO_DATA.get((q.dashboard, q.panel_title))
        if error:
            failures.append(f"{q.name}: error {error}\n    {q.expr}")
        elif series == 0 and reason is None:
            failures.append(f"{q.name}: no data\n    {q.expr}")
        elif series and reason is not None:
            unexpected_data.append(f"{q.name} has data now: drop it from NO_DATA ({reason})")
    assert not failures, f"{len(failures)} of {len(queries)} queries failed:\n" + "\n".join(failures)
    assert not unexpected_data, "\n".join(unexpected_data)


def test_queries_rewritten_by_the_knobs_return_the_same_data(stack, queries_of, make_queries, repo_root):
    """With showMultiCluster, a tenant label and a fixed rateInterval (tests/dashboards/test_knobs.py)
    every query, "All" selected, still returns data here, where no series has a cluster label."""
    knobbed = evaluate_snippet(
        repo_root,
        "((import 'mixin.libsonnet') + { _config+:: { showMultiCluster: true, "
        "dashboards+: { tenantLabel: 'tenant', rateInterval: '1m' } } }).grafanaDashboards",
    )
    queries = queries_of(knobbed, BUILTINS)
    assert len(queries) == len(make_queries(BUILTINS))
    assert all('cluster=~".*"' in q.expr for q in queries)
    failures = []
    for q in queries:
        error, series = run_query(stack.prometheus_url, q.expr, q.instant)
        if error or (series == 0 and (q.dashboard, q.panel_title) not in NO_DATA):
            failures.append(f"{q.name}: {error or 'no data'}\n    {q.expr}")
    assert not failures, "\n".join(failures)


def test_every_variable_has_values(stack, dashboards):
    for name, d in dashboards.items():
        for v in d["templating"]["list"]:
            if v["type"] != "query":
                continue
            selector, label = v["query"][len("label_values(") : -1].rsplit(",", 1)
            selector = re.sub(r"\$\w+", ".*", selector)
            body = _api(stack.prometheus_url, f"label/{label.strip()}/values", {"match[]": selector})
            assert body["status"] == "success" and body["data"], (name, v["name"], body)


def test_panels_show_the_simulated_state(stack):
    """Spot checks that the numbers mean what the panels say."""
    base = stack.prometheus_url
    api = _api(base, "query", {"query": 'min(infrawatch:service_status{service="api"})'})["data"]["result"]
    assert api and float(api[0]["value"][1]) == 2, api  # healthy simulator -> green card
    status = _api(base, "query", {"query": "max by (target, status) (reputation_status) == 1"})["data"]["result"]
    by_target = {r["metric"]["target"]: r["metric"]["status"] for r in status}
    assert by_target.get(SBL_IP) == "critical", by_target  # listed on the major list zen
    volume = _api(
        base,
        "query",
        {
            "query": "sum by (target) (label_replace(increase(email_sent_total"
            '{status="success"}[1d]), "target", "$1", "source_ip", "(.+)"))'
        },
    )
    assert {r["metric"]["target"] for r in volume["data"]["result"]} == {CLEAN_IP, SBL_IP}


def test_unknown_answers_table_names_list_and_reason(stack, make_queries):
    """The reputation dashboard's "Unknown answers" table shows why: rbldnsd REFUSES the `refused`
    zone, so its row is (refused, refused); the answered lists have no row."""
    (query,) = [q for q in make_queries(BUILTINS) if q.panel_title == "Unknown answers by list and reason"]
    assert query.dashboard == "infrawatch-reputation.json" and query.instant
    rows = _api(stack.prometheus_url, "query", {"query": query.expr})["data"]["result"]
    by_list = {r["metric"]["list"]: (r["metric"]["reason"], float(r["value"][1])) for r in rows}
    assert by_list == {"refused": ("refused", 2.0)}, by_list


def _query(stack, make_queries, dashboard: str, title: str, ref_id: str = "A") -> list[dict[str, Any]]:
    # The first panel of that title (the first service's section).
    q = next(q for q in make_queries(BUILTINS) if (q.dashboard, q.panel_title, q.ref_id) == (dashboard, title, ref_id))
    if q.instant:
        return _api(stack.prometheus_url, "query", {"query": q.expr})["data"]["result"]
    end = time.time()
    params = {"query": q.expr, "start": str(end - 30), "end": str(end), "step": "5"}
    return _api(stack.prometheus_url, "query_range", params)["data"]["result"]


def test_api_dashboard_shows_the_simulated_endpoints(stack, make_queries):
    """The application simulator serves four routes, 2% of them 404, POSTs with ~2 KB bodies."""
    from support.appsim import ROUTES

    api = "infrawatch-api.json"
    top = _query(stack, make_queries, api, "Busiest endpoints", "RATE")
    assert {(r["metric"]["method"], r["metric"]["path"]) for r in top} == set(ROUTES)
    errors = _query(stack, make_queries, api, "Busiest endpoints", "ERRORS")
    assert len(errors) == len(ROUTES) and all(0 <= float(r["value"][1]) < 0.05 for r in errors), errors
    (client,) = _query(stack, make_queries, api, "Client errors (4xx)")
    assert 0.002 < float(client["value"][1]) < 0.08, client  # 2% of requests are 404 (15 s window)
    codes = {r["metric"]["code"] for r in _query(stack, make_queries, api, "Responses by status code")}
    assert {"200", "201", "404"} <= codes, codes
    p95 = _query(stack, make_queries, api, "Request size p95 by endpoint")
    sizes = {r["metric"]["path"]: r["values"][-1][1] for r in p95}
    assert float(sizes["/v1/tracks"]) > 1000, sizes  # GET and POST /v1/tracks: the POST bodies
    assert float(sizes["/v1/users"]) == 0, sizes  # GET only: no body


def test_database_dashboard_reads_the_real_postgres_exporter(stack, make_queries):
    db = "infrawatch-database.json"
    (used,) = _query(stack, make_queries, db, "Connections used")  # the first section: oltp-db
    assert 0 < float(used["value"][1]) < 1, used
    states = {r["metric"]["state"] for r in _query(stack, make_queries, db, "Connections by state")}
    assert "active" in states, states  # postgres_exporter's own query is running
    sizes = {r["metric"]["datname"] for r in _query(stack, make_queries, db, "Database size")}
    assert "postgres" in sizes, sizes


def test_database_statement_and_table_panels_reflect_the_workload(stack, make_queries):
    """The workload (support.postgres.Workload) runs pg_sleep(0.2) every round, scans iw_events
    sequentially (no index) and looks up iw_orders by primary key (index scans; the larger table)."""
    db = "infrawatch-database.json"
    sleep = "SELECT pg_sleep($1)"

    def by_query(rows: list[dict[str, Any]]) -> dict[str, float]:
        return {r["metric"]["query"]: float(r["value"][1] if "value" in r else r["values"][-1][1]) for r in rows}

    slowest = by_query(_query(stack, make_queries, db, "Slowest statements", "MEAN"))
    assert max(slowest, key=slowest.__getitem__) == sleep, slowest  # the slowest statement
    assert 0.9 * Workload.SLEEP_SECONDS < slowest[sleep] < 3 * Workload.SLEEP_SECONDS, slowest
    calls = by_query(_query(stack, make_queries, db, "Slowest statements", "CALLS"))
    total = by_query(_query(stack, make_queries, db, "Slowest statements", "TOTAL"))
    assert set(calls) == set(total) == set(slowest), (calls, total)
    assert calls[sleep] >= 2 and total[sleep] == pytest.approx(calls[sleep] * slowest[sleep], rel=0.15)
    mean = by_query(_query(stack, make_queries, db, "Mean time per statement"))
    assert 0.9 * Workload.SLEEP_SECONDS < mean[sleep] < 3 * Workload.SLEEP_SECONDS, mean
    per_second = by_query(_query(stack, make_queries, db, "Statement calls"))
    assert 0 < per_second[sleep] < 1 / Workload.SLEEP_SECONDS, per_second  # a round takes > 0.2 s

    def by_table(title: str) -> dict[str, float]:
        rows = _query(stack, make_queries, db, title)
        return {r["metric"]["relname"]: float(r["values"][-1][1]) for r in rows}

    sizes = by_table("Table size")
    assert sizes["iw_orders"] > sizes["iw_events"] > 0, sizes
    index_usage = by_table("Index usage")
    assert index_usage["iw_orders"] > 0.9 and index_usage["iw_events"] == 0, index_usage
    seq_scans = by_table("Sequential scans")
    assert seq_scans["iw_events"] > 0, seq_scans


def test_the_queries_file_hides_statement_texts_that_name_a_password(stats_postgres, repo_root):
    """pg_stat_statements keeps `ALTER ROLE ... PASSWORD '...'` verbatim; the shipped query replaces it."""
    import yaml

    query = yaml.safe_load((repo_root / PG_QUERIES).read_text())["pg_top_statements"]["query"]
    # Every statement, not only the 20 costliest: the ALTER ROLE need not be among them.
    assert "LIMIT 20" in query
    every = query.replace("LIMIT 20", "")
    stats_postgres.psql("ALTER ROLE probe PASSWORD 'pg-probe-pw'")
    texts = stats_postgres.psql(f"SELECT query FROM ({every}) q")
    assert "pg-probe-pw" not in texts and "(hidden: the text names a password)" in texts.splitlines(), texts


def test_websocket_dashboard_on_the_simulated_ws_server(stack, queries_of, repo_root):
    """The default services have no websocket server: add one (the simulator also plays seed 004's
    ws-server) and run every query of the WebSocket dashboard it gets."""
    rendered = evaluate_snippet(
        repo_root,
        "local m = (import 'mixin.libsonnet') + { _config+:: { services+: [{ name: 'ws', title: 'WebSocket server', "
        "kind: 'websocket', appSelector: 'job=\"api-server\"', upSelector: 'job=\"api-server\"' }] } };\n"
        "{ 'infrawatch-websocket.json': m.grafanaDashboards['infrawatch-websocket.json'] }",
    )
    queries = queries_of(rendered, BUILTINS)
    assert len(queries) >= 12
    failures = []
    for q in queries:
        error, series = run_query(stack.prometheus_url, q.expr, q.instant)
        if error or series == 0:
            failures.append(f"{q.name}: {error or 'no data'}\n    {q.expr}")
    assert not failures, "\n".join(failures)
    by_title = {q.panel_title: q for q in queries}
    roles = _api(stack.prometheus_url, "query", {"query": by_title["Active connections by role"].expr})
    assert {r["metric"]["role"] for r in roles["data"]["result"]} == {"viewer", "host"}
    sessions = _api(stack.prometheus_url, "query", {"query": by_title["Connections per session"].expr})
    assert {r["metric"]["session_id"] for r in sessions["data"]["result"]} == {"studio-1", "studio-2"}
    reasons = _api(stack.prometheus_url, "query", {"query": by_title["Disconnection reasons"].expr})
    assert {r["metric"]["type"] for r in reasons["data"]["result"]} == {"auth_failed", "rate_limited", "timeout"}


def test_email_delivery_panels_show_the_simulated_failures(stack, make_queries):
    """The simulator fails a quarter of each sending IP's e-mails: the failure-ratio panel shows about
    25 % per IP (5 e-mails per second and IP in a 15 s window: +-5 %) and the status panel both statuses."""
    rep = "infrawatch-reputation.json"
    statuses = {r["metric"]["status"] for r in _query(stack, make_queries, rep, "E-mails sent by status")}
    assert statuses == {"success", "failed"}, statuses
    series = _query(stack, make_queries, rep, "Delivery failure ratio by sending IP")
    assert {r["metric"]["source_ip"] for r in series} == {CLEAN_IP, SBL_IP}
    # The latest point (the first seconds of a series are skewed by rate()'s extrapolation of young
    # counters): 0.25 for the simulator's knob, 0 or 1 if the panel divided the wrong series.
    for r in series:
        latest = float(r["values"][-1][1])
        assert 0.1 < latest < 0.45, (r["metric"]["source_ip"], r["values"])
