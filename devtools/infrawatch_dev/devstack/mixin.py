"""Prometheus rule files from the mixin (``jsonnet/``) with an overridden ``_config``.

``make build`` writes the committed ``rules/*.yaml`` with the default knobs; the demo and the e2e
test need the same rules with seconds instead of minutes in their ``for:`` clauses, so they evaluate
the mixin again with a Jsonnet object merged on top.  ``render_mixin_config`` (alertmanager.py) does
the same for ``alertmanager.yml``.
"""

from __future__ import annotations

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


def write_rule_files(directory: Path, overrides: str = "{}", root: Path = ROOT) -> list[Path]:
    """Write ``<area>.yaml`` for every rule area into ``directory`` (as ``make build`` renders them)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for area, content in sorted(mixin_rule_files(f"{WITH_IMPORTED_SLOS} + ({overrides})", root).items()):
        path = directory / f"{area}.yaml"
        path.write_text(render(path.name, content))
        paths.append(path)
    return paths
