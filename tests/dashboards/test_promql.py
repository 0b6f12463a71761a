"""Every panel expression and variable query parses: promtool (Prometheus' own parser) checks them as
recording rules in a throwaway rule file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from support.procs import require_binary


def _check(exprs: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    rules = [{"record": f"dashboard:expr_{i}:check", "expr": e} for i, e in enumerate(exprs)]
    path = tmp_path / "dashboard-exprs.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    return subprocess.run(
        [require_binary("promtool"), "check", "rules", str(path)], capture_output=True, text=True, timeout=120
    )


def _variable_selectors(dashboards) -> list[str]:
    out = []
    for d in dashboards.values():
        for v in d["templating"]["list"]:
            if v["type"] != "query":
                continue
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", v["query"])
            assert m, f"unexpected variable query {v['query']!r}"
            out.append(re.sub(r"\$(\w+)", ".*", m.group(1)))
    return out


def test_every_expression_parses(queries, dashboards, tmp_path):
    exprs = [q.expr for q in queries] + _variable_selectors(dashboards)
    assert len(exprs) > 50
    result = _check(exprs, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(exprs)} rules found" in result.stdout


def test_promtool_check_rejects_a_broken_expression(tmp_path):
    result = _check(["sum(rate(x_total[5m])", "up"], tmp_path)
    assert result.returncode != 0
