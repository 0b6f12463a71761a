"""One burst of 5xx pages once: HighErrorRate (the share, P0) and HighErrorsPerSecond (the count, P1)
on the whole real path.

A ``DevStack`` (the stack ``make demo`` runs: the application simulator scraped as job api-server,
Prometheus with the generated rules, Alertmanager with the generated routing tree and inhibitions,
loopback PagerDuty/Slack fakes) with short timings: 1 s scrapes, every ``for:`` 5 s and a 10 s
``rateInterval``, so HighErrorsPerSecond waits 5 s + 10 s.  When half of the requests fail at once,
both alerts fire in Prometheus, but PagerDuty gets one page (HighErrorRate) and Alertmanager shows
HighErrorsPerSecond suppressed by it; when the share drops under 5 % while errors stay above 1/s,
HighErrorRate resolves and HighErrorsPerSecond pages on its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from e2e.test_alert_path import pd_event
from infrawatch_dev.devstack.stack import DevStack, Timings

pytestmark = pytest.mark.slow

TIMEOUT = 90.0
# group_wait 1 s, group_interval 2 s: a notification that was going to be sent has been by then.
QUIET_SECONDS = 8.0


@dataclass(frozen=True)
class BurstTimings(Timings):
    """The e2e timings, with the rate window as the mixin's knob (HighErrorsPerSecond's `for` adds it)."""

    rate_window: str = "10s"

    def rule_overrides(self) -> str:
        return f"({super().rule_overrides()}) + {{ _config+:: {{ rateInterval: '{self.rate_window}' }} }}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    s = DevStack(tmp_path_factory.mktemp("error-burst"), BurstTimings()).start()
    try:
        s.wait_ready()
        yield s
    finally:
        s.stop()


def pd(action: str, alertname: str, since: float):
    """A PagerDuty event of the api service (the end-to-end test's predicate)."""
    return pd_event(action, alertname, since, "api")


def test_the_rules_wait_as_documented(stack: DevStack) -> None:
    rules = {
        r["name"]: r
        for g in stack.prometheus.api("rules")["groups"]
        for r in g["rules"]
        if r.get("name") in ("HighErrorRate", "HighErrorsPerSecond")
    }
    assert rules["HighErrorRate"]["duration"] == 5 and rules["HighErrorsPerSecond"]["duration"] == 15
    assert "[10s]" in rules["HighErrorsPerSecond"]["query"]


def test_a_burst_of_errors_pages_once_then_the_count_takes_over(stack: DevStack) -> None:
    try:
        since = time.time()
        stack.app.set(requests_per_second=40, error_ratio=0.5)  # 20 errors/s, 50 %
        page = stack.pagerduty.wait_for(pd("trigger", "HighErrorRate", since), TIMEOUT)[0]
        assert page.json["payload"]["severity"] == "critical"
        # Both conditions hold in Prometheus: the count fires too, 10 s later...
        stack.prometheus.wait_for(
            'ALERTS{alertname="HighErrorsPerSecond", alertstate="firing", service="api"}', timeout=TIMEOUT
        )
        # ...and reaches Alertmanager, which mutes it with the ratio alert of the same service.
        muted = stack.alertmanager.wait_alert(
            lambda a: a["status"]["state"] == "suppressed", timeout=30, alertname="HighErrorsPerSecond", service="api"
        )
        [source] = stack.alertmanager.alerts(alertname="HighErrorRate", service="api")
        assert muted["status"]["inhibitedBy"] == [source["fingerprint"]]
        time.sleep(QUIET_SECONDS)
        assert not stack.pagerduty.matching(pd("trigger", "HighErrorsPerSecond", since)), "paged twice"
        assert len(stack.pagerduty.matching(pd("trigger", "HighErrorRate", since))) == 1

        # The share falls to 2 % of 200 requests per second: 4 errors/s are still a P1.
        since = time.time()
        stack.app.set(requests_per_second=200, error_ratio=0.02)
        stack.pagerduty.wait_for(pd("resolve", "HighErrorRate", since), TIMEOUT)
        p1 = stack.pagerduty.wait_for(pd("trigger", "HighErrorsPerSecond", since), TIMEOUT)[0]
        assert "requests per second answered 5xx" in p1.json["payload"]["custom_details"]["description"]
    finally:
        stack.app.set(requests_per_second=20, error_ratio=0.0)
