"""Prometheus rule files from the mixin (``jsonnet/``) with an overridden ``_config``.

``make build`` writes the committed ``rules/*.yaml`` with the default knobs; the demo and the e2e
test need the same rules with seconds instead of minutes in their ``for:`` clauses, so they evaluate
the mixin again with a Jsonnet object merged on top.  ``render_mixin_config`` (alertmanager.py) does
the same for ``alertmanager.yml``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from infrawatch_dev.build import evaluate_snippet, render

from . import ROOT, require_repo

# The Sloth/OpenSLO specs of slos/, as `make build` passes them (build.jsonnet); evaluate_snippet
# provides the ext code.  Put this in an override to get exactly the committed rule set.
WITH_IMPORTED_SLOS = "{ _config+:: { sloImported: std.extVar('sloImported') } }"


def mixin_rule_files(overrides: str = "{}", root: Path = ROOT) -> dict[str, Any]:
    """ruleFiles of the whole mixin (every area), optionally with a Jsonnet object merged on top."""
    require_repo(root)
    return evaluate_snippet(
        root,
        f"""
local m = (import 'mixin.libsonnet') + ({overrides});
{{ [a]: m.ruleFiles[a] for a in std.objectFields(m.ruleFiles) }}
""",
    )


# A range selector in a PromQL expression: `[5m]`, not a subquery `[1h:5m]`.
RANGE_RE = re.compile(r"\[(\d+[smhdwy])\]")
# Rule areas of the SLO rules (Sloth's multiwindow burn rates): their windows are the SLO's meaning.
SLO_AREA_PREFIX = "slo-"


def is_slo_area(area: str) -> bool:
    return area.startswith(SLO_AREA_PREFIX)


def with_rate_window(area: str, content: dict[str, Any], window: str) -> dict[str, Any]:
    """Every range selector of a non-SLO rule file's expressions set to ``window``.

    The demo's cycle is minutes long; with the rules' 5 minute rate windows an error burst would
    keep HighErrorRate and the traffic light red for 5 minutes after the app recovered.  The SLO
    areas keep their windows (hours to days): their alerts are shown apart from the story.
    """
    if is_slo_area(area):
        return content
    groups = [
        dict(g, rules=[dict(r, expr=RANGE_RE.sub(f"[{window}]", r["expr"])) for r in g["rules"]])
        for g in content.get("groups", [])
    ]
    return dict(content, groups=groups)


def write_rule_files(directory: Path, overrides: str = "{}", root: Path = ROOT, rate_window: str = "") -> list[Path]:
    """Write ``<area>.yaml`` for every rule area into ``directory`` (as ``make build`` renders them);
    with ``rate_window``, the non-SLO rules' range selectors get that window (``with_rate_window``)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for area, content in sorted(mixin_rule_files(f"{WITH_IMPORTED_SLOS} + ({overrides})", root).items()):
        if rate_window:
            content = with_rate_window(area, content, rate_window)
        path = directory / f"{area}.yaml"
        path.write_text(render(path.name, content))
        paths.append(path)
    return paths
