"""``promtool check rules`` on the generated rule files, inside ``make build``.

A bad selector or threshold in ``_config`` makes PromQL that only promtool (or Prometheus, at load
time) refuses.  The build runs promtool on the rendered ``rules/*.yaml`` before writing anything, in
the background while the rest is evaluated, and reports each refused rule with the ``_config`` keys
whose values appear in its expression (the likely culprits).  Without promtool the check is skipped
with a notice (``make setup`` installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

# promtool: "rules/api.yaml: 5:11: group "infrawatch-api", rule 1, "HighErrorRate": could not parse ..."
MAX_SHOWN = 5
_FAILED_RE = re.compile(
    r'^(?P<file>[^:]+\.yaml): (?:\d+:\d+: )?group "(?P<group>[^"]+)", rule (?P<n>\d+), "(?P<rule>[^"]+)": (?P<msg>.*)$'
)


def rule_files(rendered: dict[str, str]) -> dict[str, str]:
    """The plain Prometheus rule files among the rendered outputs (not the PrometheusRule objects)."""
    return {rel: text for rel, text in rendered.items() if re.fullmatch(r"rules/[^/]+\.yaml", rel)}


class PromtoolCheck:
    """``promtool check rules`` of some rendered files, running while the caller does other work."""

    def __init__(self, files: dict[str, str]):
        self.files = files
        self.binary = shutil.which("promtool")
        self._dir = tempfile.TemporaryDirectory(prefix="infrawatch-promcheck-")
        self.proc: subprocess.Popen[str] | None = None
        if self.binary and files:
            for rel, text in files.items():
                (Path(self._dir.name) / rel).parent.mkdir(parents=True, exist_ok=True)
                (Path(self._dir.name) / rel).write_text(text)
            self.proc = subprocess.Popen(
                [self.binary, "check", "rules", *sorted(files)],
                cwd=self._dir.name,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def problems(self, config: Callable[[], dict[str, Any]]) -> list[str]:
        """Wait for promtool; one line per refused rule (``config()`` is called only on failure)."""
        if self.proc is None:
            self._dir.cleanup()
            return []
        out, _ = self.proc.communicate(timeout=120)
        self._dir.cleanup()
        if self.proc.returncode == 0:
            return []
        lines = [m for m in (_FAILED_RE.match(x.strip()) for x in out.splitlines()) if m]
        if not lines:
            return [f"promtool check rules failed:\n{out.strip()}"]
        # PromQL fragments of _config (selectors, queries), not names or durations.
        # A value written twice (an SLO selector copied from a service) is blamed on its first key.
        fragments, seen = [], set()
        for k, v in config_strings(config()):
            if any(c in v for c in '={}()"~') and v not in seen:
                fragments.append((k, v))
                seen.add(v)
        problems: list[str] = []
        blamed: Counter[str] = Counter()
        for m in lines:
            expr = self._expr(m.group("file"), m.group("group"), int(m.group("n")))
            used = [(k, v) for k, v in fragments if v in expr]
            # Keep the innermost: a value built from another used value (an SLO selector made of a
            # service's appSelector) is not the cause.
            keys = [k for k, v in used if not any(o != v and o in v for _, o in used)]
            blamed.update(keys)
            blame = f" (its expression uses {', '.join(keys)})" if keys else ""
            problems.append(
                f'{m.group("file")}: group "{m.group("group")}", {m.group("rule")}: {m.group("msg")}{blame}'
            )
        shown = problems[:MAX_SHOWN]
        if len(problems) > MAX_SHOWN:
            shown.append(f"... and {len(problems) - MAX_SHOWN} more")
        if blamed:
            values = dict(fragments)
            most = blamed.most_common(1)[0][1]
            top = [k for k, n in blamed.most_common() if n == most]
            shown.insert(0, "likely cause: " + ", ".join(f"{k} = {values[k]!r}" for k in top))
        return shown

    def _expr(self, rel: str, group: str, n: int) -> str:
        try:
            doc = yaml.safe_load(self.files[rel])
            [g] = [g for g in doc["groups"] if g["name"] == group]
            return str(g["rules"][n - 1]["expr"])
        except (KeyError, IndexError, ValueError, TypeError, yaml.YAMLError):
            return ""


def config_strings(value: Any, path: str = "_config") -> Iterator[tuple[str, str]]:
    """(key path, value) of every string in ``_config``."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from config_strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from config_strings(v, f"{path}[{i}]")
