"""Seed 004's uptime checks: landing page and app every minute, API /health every 30 s, alert after
2 failures.

The probe side is examples/probe-uptime-seed004.yml (it must pass the probe exporter's own
``--config.check``); the alert side is the mixin with each service's ``probeInterval`` taken from that
file, so ServiceProbeFailing counts failed probes (``probeFailingAfterFailures``, default 2) instead of
waiting ``probeFailingFor``.  The promtool series are what Prometheus scrapes every 15 s from the
exporter: each probe result (probe_success and its probe_result_timestamp_seconds) repeated until the
next one, so one failed probe is two or four failed samples, and only counting probes tells 1 failure
from 2.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infrawatch_dev.build import evaluate_snippet, render
from support.rulefiles import ROOT, config_knobs, own_rule_files, promtool

EXAMPLE = ROOT / "examples" / "probe-uptime-seed004.yml"
SCRAPE = 15  # seconds, _config.scrapeInterval
END = 600  # seconds of scraped series (the unit test checks up to 330 s)


def _example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def _intervals() -> dict[str, str]:
    """service -> interval of its scheduled targets in the example (they must agree per service)."""
    cfg = _example()
    default = cfg["scheduler"]["interval"]
    out: dict[str, set[str]] = {}
    for t in cfg["targets"]:
        out.setdefault(t["service"], set()).add(t.get("interval", default))
    assert all(len(v) == 1 for v in out.values()), out
    return {k: v.pop() for k, v in out.items()}


def _override(extra: str = "", down_for: str = "30s") -> str:
    """The default services with the example's intervals: api (30 s) and a `web` card (1 min)."""
    iv = _intervals()
    return f"""{{ _config+:: {{
  services: [
    if s.name == 'api' then s {{ probeInterval: '{iv["api"]}' }} else s
    for s in super.services
  ] + [
    {{ name: 'web', title: 'Landing page and app', kind: 'custom', probeSelector: 'service="web"',
      probeInterval: '{iv["web"]}' }},
  ],
  // APIDown mutes ServiceProbeFailing of the api: it must not wait longer than 2 failed probes.
  downFor: '{down_for}',
  {extra}
}} }}"""


def test_the_example_is_seed_shaped_and_passes_the_exporters_config_check() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "infrawatch.probe.main", f"--config.file={EXAMPLE}", "--config.check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "valid" in r.stdout, r.stdout + r.stderr
    targets = {t["target"]: t for t in _example()["targets"]}
    assert set(targets) == {"https://www.example.com/", "https://app.example.com/", "https://api.example.com/health"}
    assert _intervals() == {"web": "1m", "api": "30s"}
    assert _example()["modules"][targets["https://api.example.com/health"]["module"]]["http"]["health"]["enabled"]
    assert config_knobs()["probeFailingAfterFailures"] == 2  # the seed's "alert after 2 failures"


# ---- the series ---------------------------------------------------------------------------------


def _scraped(interval: int, offset: int, results: dict[int, int], start: int = 0) -> tuple[str, str]:
    """(probe_success values, probe_result_timestamp_seconds values) scraped every SCRAPE seconds from
    an exporter probing every `interval` s at `offset` + k * interval; results[k] = 0 fails probe k
    (others succeed); probes before `start` do not exist (a new target)."""
    success, stamps = [], []
    for t in range(0, END + 1, SCRAPE):
        done = [k for k in range(0, END // interval + 1) if start <= offset + k * interval <= t]
        if not done:
            success.append("_")
            stamps.append("_")
            continue
        k = done[-1]
        success.append(str(results.get(k, 1)))
        stamps.append(str(offset + k * interval))
    return " ".join(success), " ".join(stamps)


def _series(labels: str, interval: int, offset: int, results: dict[int, int], start: int = 0) -> list[dict]:
    success, stamps = _scraped(interval, offset, results, start)
    return [
        {"series": f"probe_success{{{labels}}}", "values": success},
        {"series": f"probe_result_timestamp_seconds{{{labels}}}", "values": stamps},
    ]


def _labels(target: str, module: str, service: str) -> str:
    return f'job="infrawatch-probe", instance="probe:9516", target="{target}", module="{module}", service="{service}"'


API_ONE = _labels("https://api-1.example.com/health", "http_health", "api")
API_TWO = _labels("https://api-2.example.com/health", "http_health", "api")
API_NEW = _labels("https://api-3.example.com/health", "http_health", "api")
WEB = _labels("https://www.example.com/", "http_2xx", "web")
# Probed by Prometheus through /probe (blackbox style): no result timestamps, so probeFailingFor.
BLACKBOX = (
    'job="blackbox", instance="api.example.com", target="https://api.example.com/health", module="http_health", '
    'service="api"'
)


def _parse(labels: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in (kv.split("=", 1) for kv in labels.split(", "))}


def _alert(labels: str, service: str, reason: str) -> dict:
    """The expected alert of one probe series; `reason` ends the description."""
    lbls = _parse(labels)
    return {
        "exp_labels": {**lbls, "severity": "critical", "service": service},
        "exp_annotations": {
            "summary": "A service probe is failing.",
            "description": f"Probe of {lbls['target']} (module {lbls['module']}) for service {service} {reason}.",
            "runbook_url": "https://github.com/infrawatch/infrawatch/blob/main/runbooks/ServiceProbeFailing.md",
        },
    }


def _counted(labels: str, service: str, every: str) -> dict:
    return _alert(labels, service, f"has failed 2 times in a row (one probe every {every})")


def _generic(labels: str, service: str) -> dict:
    return _alert(labels, service, "has failed for more than 2m")


def _at(seconds: int, *alerts: dict) -> dict:
    return {"eval_time": f"{seconds}s", "alertname": "ServiceProbeFailing", "exp_alerts": list(alerts)}


def unit_test() -> dict:
    """API probes every 30 s at :05 (results seen at the next 15 s scrape), the web page every 60 s at :10."""
    return {
        "rule_files": ["services.yaml"],
        "evaluation_interval": f"{SCRAPE}s",
        "tests": [
            {
                "interval": f"{SCRAPE}s",
                "input_series": [
                    # One failed API probe (k=4 at 125 s, seen 135-150 s): never pages.
                    *_series(API_ONE, 30, 5, {4: 0}),
                    # Two in a row (k=4, 5 at 125 s and 155 s): pages when the second is seen (165 s).
                    *_series(API_TWO, 30, 5, {4: 0, 5: 0}),
                    # A new target failing from its first probe (215 s): its second failure (245 s) pages.
                    *_series(API_NEW, 30, 5, {k: 0 for k in range(20)}, start=215),
                    # The 1-minute web page fails from k=3 (190 s) on: the second failure (250 s) pages.
                    *_series(WEB, 60, 10, {k: 0 for k in range(3, 10)}),
                    # A blackbox-style scrape failing from 150 s: ServiceProbeFailing after probeFailingFor.
                    {"series": f"probe_success{{{BLACKBOX}}}", "values": " ".join(["1"] * 10 + ["0"] * 13)},
                ],
                "alert_rule_test": [
                    _at(150),  # API_TWO has failed once, API_ONE once
                    _at(165, _counted(API_TWO, "api", "30s")),
                    _at(180, _counted(API_TWO, "api", "30s")),  # k=5 still the latest result
                    _at(195),  # API_TWO's probe k=6 succeeded
                    _at(240),  # API_NEW and WEB have failed once each
                    _at(255, _counted(API_NEW, "api", "30s"), _counted(WEB, "web", "1m")),
                    # The counted probes are not also in the generic rule (which would fire for WEB and
                    # API_NEW by now): the blackbox scrape is, after 2m.
                    _at(330, _counted(API_NEW, "api", "30s"), _counted(WEB, "web", "1m"), _generic(BLACKBOX, "api")),
                ],
            }
        ],
    }


@pytest.fixture(scope="module")
def counted_rules() -> dict:
    return own_rule_files(_override())


def test_one_failed_probe_does_not_page_two_consecutive_do(counted_rules: dict, tmp_path: Path) -> None:
    (tmp_path / "services.yaml").write_text(render("services.yaml", counted_rules["services"]))
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(unit_test(), sort_keys=False))
    res = promtool("test", "rules", "test.yaml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_same_series_page_on_the_first_failed_scrape_without_counting(tmp_path: Path) -> None:
    """The test can fail: with probeFailingFor: 0s instead of counting, one failed probe pages."""
    files = own_rule_files(_override("probeFailingAfterFailures: 0, probeFailingFor: '0s',"))
    (tmp_path / "services.yaml").write_text(render("services.yaml", files["services"]))
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(unit_test(), sort_keys=False))
    res = promtool("test", "rules", "test.yaml", cwd=tmp_path)
    assert res.returncode != 0 and "api-1.example.com" in res.stdout + res.stderr


def test_counted_rules_only_for_services_with_a_probe_interval(counted_rules: dict) -> None:
    spf = [
        r for g in counted_rules["services"]["groups"] for r in g["rules"] if r.get("alert") == "ServiceProbeFailing"
    ]
    assert [r["labels"].get("service") for r in spf] == [None, "api", "web"]
    assert "for" not in spf[1] and spf[0]["for"] == "2m"
    # The default configuration declares no interval: one generic rule, as before.
    default = own_rule_files()["services"]["groups"][0]["rules"]
    assert [r["expr"] for r in default if r.get("alert") == "ServiceProbeFailing"] == [
        'label_replace(probe_success == 0, "service", "unknown", "service", "")'
    ]


def test_a_down_alert_slower_than_two_failed_probes_is_refused() -> None:
    """APIDown (downFor 1m) mutes the api's ServiceProbeFailing, which now fires after 30 s: the
    generic page would go out first, so the build names the alert and the service."""
    with pytest.raises(RuntimeError) as exc:
        evaluate_snippet(ROOT, f"((import 'mixin.libsonnet') + {_override(down_for='1m')}).alertmanagerConfig")
    expected = "probeFailingSupersededBy: APIDown of api waits 60s before firing, longer than ServiceProbeFailing (30s)"
    assert expected in str(exc.value)
    evaluate_snippet(ROOT, f"((import 'mixin.libsonnet') + {_override()}).alertmanagerConfig")  # 30s: accepted


def _first_scrape_after(t: int) -> int:
    return -(-t // SCRAPE) * SCRAPE


@pytest.mark.parametrize(
    "interval,offset", [(30, o) for o in range(0, 30, 5)] + [(60, o) for o in range(0, 60, 10)], ids=str
)
def test_every_probe_phase(counted_rules: dict, tmp_path: Path, interval: int, offset: int) -> None:
    """Whenever the probes run between two scrapes: 1 failed probe never pages; 2 in a row page from
    the first scrape that shows the second until the scrape that shows the next success."""
    labels, service, every = (API_ONE, "api", "30s") if interval == 30 else (WEB, "web", "1m")
    (tmp_path / "services.yaml").write_text(render("services.yaml", counted_rules["services"]))

    def seen(k: int) -> int:
        return _first_scrape_after(offset + k * interval)

    cases = []
    for results, fires in (({4: 0}, None), ({4: 0, 5: 0}, seen(5))):
        checks = [
            _at(t, *([_counted(labels, service, every)] if fires is not None and fires <= t < seen(6) else []))
            for t in range(seen(4) - SCRAPE, seen(6) + 2 * SCRAPE, SCRAPE)
        ]
        cases.append(
            {
                "interval": f"{SCRAPE}s",
                "input_series": _series(labels, interval, offset, results),
                "alert_rule_test": checks,
            }
        )
    doc = {"rule_files": ["services.yaml"], "evaluation_interval": f"{SCRAPE}s", "tests": cases}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    res = promtool("test", "rules", "test.yaml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
