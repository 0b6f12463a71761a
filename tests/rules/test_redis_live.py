"""RedisErrorRateHigh on a real Redis 7, scraped by the real redis_exporter into a real Prometheus.

Prometheus loads the generated rules/redis.yaml and scrapes redis_exporter every second as the
`redis` service (job="redis").  A healthy workload (writes, reads, cache misses, MULTI ... DISCARD)
must not make the alert pending; a client writing to keys of the wrong type (WRONGTYPE replies)
must.  `for` is minutes, so the test watches ALERTS{alertstate="pending"}.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.procs import Proc, free_port, require_binary, wait_http
from support.prometheus import Prometheus
from support.redis import RedisServer, start_redis

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ALERT = "RedisErrorRateHigh"
SEL = '{job="redis"}'


@dataclass
class RedisStack:
    redis: RedisServer
    prom: Prometheus


def redis_cli(server: RedisServer, commands: str) -> str:
    """Run commands (one per line) through redis-cli on one connection; returns the replies."""
    out = subprocess.run(
        [require_binary("redis-cli"), "-h", server.host, "-p", str(server.port), "--no-auth-warning"],
        input=f"AUTH default {server.password}\n" + commands,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout


@pytest.fixture(scope="module")
def redis_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisStack]:
    work = tmp_path_factory.mktemp("redis-alerts")
    stops: list[Callable[[], None]] = []
    redis = start_redis(work / "redis")
    stops.append(redis.stop)
    try:
        port = free_port()
        exporter = Proc(
            [
                require_binary("prometheus-redis-exporter"),
                f"-web.listen-address=127.0.0.1:{port}",
                f"-redis.addr=redis://127.0.0.1:{redis.port}",
            ],
            work / "redis-exporter.log",
            env={"REDIS_PASSWORD": redis.password},
        )
        stops.append(exporter.stop)
        wait_http(f"http://127.0.0.1:{port}/metrics", timeout=30, proc=exporter.proc)
        config = {"scrape_configs": [{"job_name": "redis", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}]}
        prom = Prometheus(work / "prometheus", config, [str(ROOT / "rules" / "redis.yaml")])
        stops.append(prom.stop)
        prom.start()
        prom.wait_for(f"redis_commands_processed_total{SEL}")
        yield RedisStack(redis, prom)
    finally:
        for stop in reversed(stops):
            stop()


def test_healthy_commands_do_not_page_error_replies_do(redis_stack: RedisStack) -> None:
    redis, prom = redis_stack.redis, redis_stack.prom
    healthy = "".join(
        f"SET user:{i} v{i}\nGET user:{i}\nGET missing:{i}\nMULTI\nINCR counter\nDISCARD\n" for i in range(100)
    )
    replies = redis_cli(redis, healthy)
    assert "ERR" not in replies and "WRONGTYPE" not in replies, replies[:500]
    prom.wait_for('redis_commands_total{job="redis", cmd="discard"} >= 100')
    prom.wait_for(f"sum(rate(redis_commands_processed_total{SEL}[5m])) >= 1")
    for _ in range(8):
        assert not prom.query(f'ALERTS{{alertname="{ALERT}"}}'), "a healthy workload made the alert pending"
        time.sleep(1)

    # A client that pushes to string keys: every LPUSH answers WRONGTYPE.  redis_errors_total{err}
    # appears with the first error, and rate() needs a sample before the burst (as a client that keeps
    # failing gives it).
    assert "WRONGTYPE" in redis_cli(redis, "LPUSH user:0 x\n")
    prom.wait_for('redis_errors_total{job="redis", err="WRONGTYPE"}')
    replies = redis_cli(redis, "".join(f"LPUSH user:{i % 100} x\n" for i in range(300)))
    assert replies.count("WRONGTYPE") == 300
    [pending] = prom.wait_for(f'ALERTS{{alertname="{ALERT}", service="redis"}}', timeout=60)
    assert pending["metric"]["alertstate"] == "pending" and pending["metric"]["severity"] == "critical"
