"""DatabaseErrorRateHigh on a real PostgreSQL, scraped by the real postgres_exporter into a real Prometheus.

Prometheus loads the generated rules/database.yaml and scrapes postgres_exporter every second as the
`oltp-db` service (job="postgres", cluster="oltp").  A healthy workload in which half the
transactions are read-only ones ending with ROLLBACK must not make the alert pending (the previous
rollback-ratio signal did: the test checks that ratio is over the threshold, so it could fail);
a workload that deadlocks must.  `for` is minutes, so the test watches the alert go pending
(ALERTS{alertstate="pending"}), which is the rule's expression being true.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from infrawatch_dev.build import evaluate_snippet
from support.postgres import PostgresServer, _as_owner, _pg_bin, start_postgres
from support.procs import Proc, free_port, require_binary, wait_http
from support.prometheus import Prometheus

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "oltp-db"
ALERT = "DatabaseErrorRateHigh"
SEL = '{job="postgres", cluster="oltp"}'


@dataclass
class DBStack:
    pg: PostgresServer
    prom: Prometheus


def psql_script(pg: PostgresServer, script: str) -> subprocess.Popen[str]:
    """Run a SQL script as the superuser in database `probe`, errors reported but not fatal."""
    prefix, _, _ = _as_owner()
    cmd = [*prefix, _pg_bin("psql"), "-h", str(pg.socket_dir), "-p", str(pg.port), "-U", pg.superuser]
    proc = subprocess.Popen(
        [*cmd, "-d", pg.database, "-q", "-f", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(script)
    proc.stdin.close()
    return proc


def finish(proc: subprocess.Popen[str]) -> str:
    proc.wait(120)
    return proc.stderr.read() if proc.stderr else ""


@pytest.fixture(scope="module")
def db_stack() -> Iterator[DBStack]:
    # Not tmp_path_factory: that tree is mode 0700 for root, which the postgres user cannot enter.
    d = Path(tempfile.mkdtemp(prefix="infrawatch-pg-alerts-"))
    stops: list[Callable[[], None]] = []
    pg = start_postgres(d, settings={"deadlock_timeout": "'20ms'"})
    try:
        pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0), (2, 0)", database=pg.database)
        port = free_port()
        dsn = f"postgresql://{pg.superuser}:{pg.superuser_password}@127.0.0.1:{pg.port}/postgres?sslmode=disable"
        exporter = Proc(
            [require_binary("prometheus-postgres-exporter"), f"--web.listen-address=127.0.0.1:{port}"],
            d / "postgres-exporter.log",
            env={"DATA_SOURCE_NAME": dsn},
        )
        stops.append(exporter.stop)
        wait_http(f"http://127.0.0.1:{port}/metrics", timeout=30, proc=exporter.proc)
        config = {
            "scrape_configs": [
                {
                    "job_name": "postgres",
                    "static_configs": [{"targets": [f"127.0.0.1:{port}"], "labels": {"cluster": "oltp"}}],
                }
            ]
        }
        prom = Prometheus(d / "prometheus", config, [str(ROOT / "rules" / "database.yaml")])
        stops.append(prom.stop)
        prom.start()
        prom.wait_for(f"pg_stat_database_deadlocks{SEL}")
        prom.wait_for(f"pg_stat_database_conflicts{SEL}")
        yield DBStack(pg, prom)
    finally:
        for stop in reversed(stops):
            stop()
        pg.stop()
        shutil.rmtree(d, ignore_errors=True)


def _rule_expr() -> str:
    for g in yaml.safe_load((ROOT / "rules" / "database.yaml").read_text())["groups"]:
        for r in g["rules"]:
            if r.get("alert") == ALERT and r["labels"]["service"] == SERVICE:
                return r["expr"]
    raise AssertionError(f"{ALERT} for {SERVICE} not in rules/database.yaml")


def _alerts(prom: Prometheus) -> list[dict]:
    return prom.query(f'ALERTS{{alertname="{ALERT}", service="{SERVICE}"}}')


def test_rollbacks_do_not_page_deadlocks_do(db_stack: DBStack) -> None:
    pg, prom = db_stack.pg, db_stack.prom
    cfg = evaluate_snippet(ROOT, "(import 'mixin.libsonnet')._config")
    threshold, min_tps = cfg["databaseErrorRatioThreshold"], cfg["databaseMinTransactionsPerSecond"]
    transactions = (
        f"(sum(rate(pg_stat_database_xact_commit{SEL}[5m])) + sum(rate(pg_stat_database_xact_rollback{SEL}[5m])))"
    )

    # Healthy: 200 committed writes and 200 error-free read-only transactions ending with ROLLBACK.
    healthy = "".join(
        "BEGIN; UPDATE t SET v = v + 1 WHERE id = 1; COMMIT;\n"
        "BEGIN READ ONLY; SELECT v FROM t WHERE id = 2; ROLLBACK;\n"
        for _ in range(200)
    )
    assert finish(psql_script(pg, healthy)) == ""
    # Enough traffic for the guard, and a rollback ratio the old signal would have paged on.
    prom.wait_for(f"{transactions} >= {min_tps}")
    rollback_ratio = f"sum(rate(pg_stat_database_xact_rollback{SEL}[5m])) / {transactions}"
    prom.wait_for(f"{rollback_ratio} > {threshold}")
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        assert not _alerts(prom), "a healthy workload with read-only rollbacks made the alert pending"
        assert not prom.query(_rule_expr())
        time.sleep(1)

    # Failing: two sessions update the same two rows in opposite order; PostgreSQL aborts one per round.
    def rounds(first: int, second: int) -> str:
        step = (
            f"BEGIN; UPDATE t SET v = v + 1 WHERE id = {first}; SELECT pg_sleep(0.2); "
            f"UPDATE t SET v = v + 1 WHERE id = {second}; COMMIT;\n"
        )
        return step * 10

    a, b = psql_script(pg, rounds(1, 2)), psql_script(pg, rounds(2, 1))
    errors = finish(a) + finish(b)
    assert "deadlock detected" in errors
    deadlocks = int(pg.psql("SELECT sum(deadlocks) FROM pg_stat_database"))
    assert deadlocks >= 3, errors
    [pending] = prom.wait_for(f'ALERTS{{alertname="{ALERT}", service="{SERVICE}"}}', timeout=60)
    assert pending["metric"]["alertstate"] == "pending" and pending["metric"]["severity"] == "critical"
