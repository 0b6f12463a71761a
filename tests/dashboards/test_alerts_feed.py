"""The overview's alerts feed query, evaluated by promtool on ALERTS / ALERTS_FOR_STATE series.

Prometheus writes ALERTS{alertstate="pending"|"firing"} and ALERTS_FOR_STATE (the time an alert
became active) for every active alert.  The feed must list alerts that fired in its range, one row
each with its state (firing now / resolved), and leave out alerts that were only ever pending.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from support.procs import require_binary

ROOT = Path(__file__).resolve().parents[2]


def _feed_expr() -> str:
    d = json.loads((ROOT / "dashboards" / "infrawatch-overview.json").read_text())
    [feed] = [p for p in d["panels"] if p["type"] == "table" and p["title"].startswith("Infrastructure alerts")]
    return feed["targets"][0]["expr"]


def _series(name: str, alert: str, service: str, severity: str, values: str, state: str | None = None) -> dict:
    labels = f'alertname="{alert}", service="{service}", severity="{severity}"'
    if state:
        labels += f', alertstate="{state}"'
    return {"series": f"{name}{{{labels}}}", "values": values}


def test_feed_lists_fired_alerts_with_their_state_and_not_pending_ones(tmp_path: Path) -> None:
    series = [
        # APIDown: firing for the whole 30 minutes, active since t=1000 s.
        _series("ALERTS", "APIDown", "api", "critical", "1x30", "firing"),
        _series("ALERTS_FOR_STATE", "APIDown", "api", "critical", "1000x30"),
        # HighErrorRate: fired for 10 minutes, then resolved.
        _series("ALERTS", "HighErrorRate", "api", "critical", "1x10 _x20", "firing"),
        _series("ALERTS_FOR_STATE", "HighErrorRate", "api", "critical", "500x10 _x20"),
        # DatabaseDown: pending the whole time, never fired.
        _series("ALERTS", "DatabaseDown", "oltp-db", "critical", "1x30", "pending"),
        _series("ALERTS_FOR_STATE", "DatabaseDown", "oltp-db", "critical", "700x30"),
    ]
    base = 'alertname="%s", service="api", severity="critical", state="%s", summary="%s"'
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": _feed_expr(),
                        "eval_time": "30m",
                        "exp_samples": [
                            {
                                "labels": "{" + base % ("APIDown", "firing", "An API server is down.") + "}",
                                "value": 1e6,
                            },
                            {
                                "labels": "{"
                                + base % ("HighErrorRate", "resolved", "Many requests fail with server errors.")
                                + "}",
                                "value": 5e5,
                            },
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "feed.yaml").write_text(yaml.safe_dump(test, sort_keys=False, width=100000))
    r = subprocess.run(
        [require_binary("promtool"), "test", "rules", "feed.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
