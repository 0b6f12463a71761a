"""The console's configuration (house loader: located errors, unknown keys), the service adapter on
the real generated dashboard, the range splitting of the CSV export, and a console whose upstreams
are all unreachable (a real console process; nothing listens on the upstream ports)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from infrawatch.console.history import MAX_POINTS, split_range
from infrawatch.console.services import DashboardLayoutError, cards_from_dashboard, load_cards
from infrawatch_dev.devstack.console import ConsoleProc
from infrawatch_dev.devstack.procs import free_port

ROOT = Path(__file__).resolve().parents[2]


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infrawatch.cli", "console", f"--config.file={path}", "--config.check"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_valid_config_passes_check(tmp_path: Path) -> None:
    cfg = tmp_path / "console.yml"
    cfg.write_text("prometheus_url: http://127.0.0.1:9090\nalertmanager_url: http://127.0.0.1:9093\n")
    r = check(cfg)
    assert r.returncode == 0, r.stderr
    assert "configuration is valid" in r.stdout


def test_unknown_key_and_bad_url_are_located(tmp_path: Path) -> None:
    cfg = tmp_path / "console.yml"
    cfg.write_text(
        "prometheus_url: http://127.0.0.1:9090\n"
        "alertmanager_url: http://127.0.0.1:9093\n"
        "hooks:\n"
        "  ticket:\n"
        "    urll: https://tickets.example.com/\n"
        "  rotation: {url: https://x.example/, command: [/bin/true]}\n"
    )
    r = check(cfg)
    assert r.returncode == 2
    assert f"{cfg}:5: hooks.ticket.urll: unknown key 'urll'" in r.stderr and "did you mean 'url'?" in r.stderr
    assert f"{cfg}:6: hooks.rotation: give either url or command, not both" in r.stderr


def test_bad_url_is_located(tmp_path: Path) -> None:
    cfg = tmp_path / "console.yml"
    cfg.write_text("prometheus_url: http://127.0.0.1:9090\nalertmanager_url: 127.0.0.1:9093\n")
    r = check(cfg)
    assert r.returncode == 2
    assert f"{cfg}:2: alertmanager_url: expected an http:// or https:// URL, got '127.0.0.1:9093'" in r.stderr


def test_missing_required_and_token_file(tmp_path: Path) -> None:
    cfg = tmp_path / "console.yml"
    cfg.write_text(
        "prometheus_url: http://127.0.0.1:9090\n"
        "hooks:\n  ticket: {url: 'https://t.example/', bearer_token_file: nope.token}\n"
    )
    r = check(cfg)
    assert r.returncode == 2
    assert "alertmanager_url: missing required key 'alertmanager_url'" in r.stderr
    assert "hooks.ticket.bearer_token_file: cannot read secret file 'nope.token'" in r.stderr


def test_cards_follow_the_generated_dashboard() -> None:
    cards = load_cards(ROOT / "dashboards" / "infrawatch-overview.json")
    assert [c.name for c in cards] == ["api", "smtp", "oltp-db", "olap-db", "redis", "elasticsearch"]
    api = cards[0]
    assert api.title == "API Server"
    assert [d.title for d in api.details] == ["Average", "p95", "p99", "Request rate", "Error rate"]
    assert api.details[4].colour(0.02) == "yellow" and api.details[4].colour(0.1) == "red"
    redis = next(c for c in cards if c.name == "redis")
    assert "$__rate_interval" not in redis.details[0].expr and "[5m]" in redis.details[0].expr


def test_a_service_added_to_the_mixin_gets_a_card() -> None:
    doc = json.loads((ROOT / "dashboards" / "infrawatch-overview.json").read_text())
    panels = doc["panels"]
    extra = json.loads(json.dumps(panels[1]))  # the first card, copied as a new service
    extra["title"] = "Kafka"
    extra["targets"][0]["expr"] = 'min(infrawatch:service_status{service="kafka"})'
    extra["gridPos"]["x"] = 24
    doc["panels"] = [*panels[:2], extra, *panels[2:]]
    assert [c.name for c in cards_from_dashboard(doc)][:2] == ["api", "kafka"]
    with pytest.raises(DashboardLayoutError):
        cards_from_dashboard({"panels": [p for p in panels if "service_status{" not in json.dumps(p)]})


@pytest.mark.parametrize(
    ("span", "step"), [(90 * 86400, 300), (86400, 1), (10, 1), (0, 60), (11000 * 60 - 60, 60), (11000 * 60, 60)]
)
def test_split_range_covers_every_point_under_the_limit(span: int, step: int) -> None:
    start = 1_700_000_000.0
    windows = split_range(start, start + span, step)
    points = [round((e - s) / step) + 1 for s, e in windows]
    assert all(p <= MAX_POINTS for p in points)
    assert sum(points) == span // step + 1
    assert windows[0][0] == start
    for (_, e1), (s2, _) in itertools.pairwise(windows):
        assert s2 == e1 + step  # no gap, no overlap


def test_unreachable_upstreams_are_said_per_panel_and_no_secret_reaches_the_page(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cr3t-hook-token\n")
    dead = f"http://127.0.0.1:{free_port()}"
    cfg = tmp_path / "console.yml"
    cfg.write_text(
        f"prometheus_url: {dead}\nalertmanager_url: {dead}\nreputation_url: {dead}\n"
        f"upstream_timeout: 2s\n"
        f"hooks:\n  ticket: {{url: 'https://tickets.example.com/hook?key=k3y-in-url', bearer_token_file: {token}}}\n"
        f"  rotation: {{command: [/bin/true]}}\n"
    )
    c = ConsoleProc(cfg, tmp_path).start()
    try:
        with urllib.request.urlopen(c.page_url, timeout=30) as r:
            assert r.status == 200
            page = r.read().decode()
        assert "Service health unavailable: Prometheus: unreachable" in page
        assert "IP reputation unavailable: Prometheus: unreachable" in page
        assert "Alerts unavailable: Alertmanager: unreachable" in page
        with urllib.request.urlopen(c.url + "/config?format=json", timeout=30) as r:
            config = r.read().decode()
        for body in (page, config, (tmp_path / "console.log").read_text()):
            assert "s3cr3t-hook-token" not in body and "k3y-in-url" not in body
        assert json.loads(config)["hooks"]["ticket"]["url"] == "<secret>"
    finally:
        c.stop()


def test_the_example_config_is_valid(tmp_path: Path) -> None:
    token = tmp_path / "ticket-token"
    token.write_text("t0ken\n")
    text = (ROOT / "examples" / "console.yml").read_text().replace("/etc/infrawatch/secrets/ticket-token", str(token))
    cfg = tmp_path / "console.yml"
    cfg.write_text(text)
    r = check(cfg)
    assert r.returncode == 0, r.stderr


def test_dashboard_variables_are_resolved() -> None:
    from infrawatch.console.services import resolve_variables

    assert resolve_variables('sum(rate(x{job="a", cluster=~"$cluster"}[$__rate_interval]))', "5m") == (
        'sum(rate(x{job="a", cluster=~".*"}[5m]))'
    )
    assert resolve_variables('max(y{env="${env}"}[${__range}])', "1m") == 'max(y{env=~".*"}[1m])'
    doc = json.loads((ROOT / "dashboards" / "infrawatch-overview.json").read_text())
    card = doc["panels"][1]
    card["targets"][0]["expr"] = 'min(infrawatch:service_status{cluster=~"$cluster", service="api"})'
    cards = cards_from_dashboard(doc)
    assert (
        cards[0].name == "api"
        and cards[0].status_expr == 'min(infrawatch:service_status{cluster=~".*", service="api"})'
    )


def test_bad_reload_keeps_the_old_configuration(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    cfg = tmp_path / "console.yml"
    cfg.write_text(f"prometheus_url: {dead}\nalertmanager_url: {dead}\nupstream_timeout: 1s\nfeed_range: 24h\n")
    c = ConsoleProc(cfg, tmp_path).start()
    try:
        cfg.write_text(f"prometheus_url: {dead}\nalertmanager_url: {dead}\nfeed_rang: 6h\n")
        req = urllib.request.Request(c.url + "/-/reload", data=b"", method="POST")
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req, timeout=30)
        assert exc.value.code == 500 and "feed_rang" in exc.value.read().decode()
        with urllib.request.urlopen(c.page_url, timeout=30) as r:
            assert "(last 24 h)" in r.read().decode()  # the old configuration is still in force
        cfg.write_text(f"prometheus_url: {dead}\nalertmanager_url: {dead}\nupstream_timeout: 1s\nfeed_range: 6h\n")
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200
        with urllib.request.urlopen(c.page_url, timeout=30) as r:
            assert "(last 6 h)" in r.read().decode()
    finally:
        c.stop()
