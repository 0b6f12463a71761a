"""The generated SLO rules in a real Prometheus 2.42 scraping the API simulator (client_python).

client_python writes bucket bounds as ``le="1.0"``: the 1 s latency SLO must find that bucket (a miss
would count every request as slow and show an error ratio of 1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from support.appsim import AppSim
from support.prometheus import Prometheus
from support.rulefiles import ROOT


@pytest.fixture
def sim() -> Iterator[AppSim]:
    app = AppSim(seed=1, error_ratio=0.2, latency_seconds=0.05, requests_per_second=200).start()
    yield app
    app.stop()


def value(result: list[dict[str, Any]]) -> float:
    return float(result[0]["value"][1])


def test_slo_rules_on_real_scrapes(sim: AppSim, prometheus_factory: Callable[..., Prometheus]) -> None:
    slos = ("api-requests-availability", "api-requests-latency-1s-28d")
    rules = [str(ROOT / "rules" / f"slo-{i}.yaml") for i in slos]
    prom = prometheus_factory(
        {
            "scrape_configs": [
                {
                    "job_name": "api-server",
                    "scrape_interval": "1s",
                    "static_configs": [{"targets": [f"127.0.0.1:{sim.port}"]}],
                }
            ]
        },
        rule_files=rules,
    )

    avail = prom.wait_for('slo:sli_error:ratio_rate5m{sloth_id="api-requests-availability"} > 0', timeout=60)
    assert 0.1 < value(avail) < 0.3  # the simulator's 20% of 5xx

    latency = prom.wait_for('slo:sli_total_events:rate5m{sloth_id="api-requests-latency-1s-28d"} > 0', timeout=60)
    assert value(latency) > 0
    ratio = prom.query('slo:sli_error:ratio_rate5m{sloth_id="api-requests-latency-1s-28d"}')
    assert ratio and value(ratio) < 0.2, ratio  # ~50 ms requests: almost none above 1 s

    # Budget series are numbers, not NaN.  The data is seconds old: a 200x burn over seconds spends a
    # tiny share of the 30 days' budget (the period ratio alone would read as far more than all of it).
    remaining = prom.wait_for(
        'slo:period_error_budget_remaining:ratio{sloth_id="api-requests-availability"} < 1', timeout=60
    )
    assert value(remaining) == value(remaining) and 0.99 < value(remaining) < 1
    coverage = prom.query('slo:period_data_coverage:ratio{sloth_id="api-requests-availability"}')
    assert coverage and 0 <= value(coverage) < 0.001, coverage

    # A 200x burn: the page-1h tier fires (there is no `for:`).
    firing = prom.wait_for(
        'ALERTS{alertname="SLOErrorBudgetBurn", alertstate="firing", '
        'sloth_id="api-requests-availability", slo_burn_tier="page-1h"}',
        timeout=60,
    )
    assert firing[0]["metric"]["severity"] == "critical" and firing[0]["metric"]["service"] == "api"
