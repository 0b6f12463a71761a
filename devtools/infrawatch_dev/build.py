"""``make build`` / ``infrawatch build``: evaluate the Jsonnet mixin and write the generated files.

``jsonnet/build.jsonnet`` evaluates to ``{"<relative path>": content}``.  Files ending in
``.yaml``/``.yml`` are written as YAML (multi-line strings as ``|`` blocks so PromQL stays readable),
``.json`` as indented JSON, anything else must be a string and is written as is.  Files in the
generated folders that the build no longer produces are removed, so a deleted alert area does not
linger.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# go-jsonnet only (the product's `build` extra): an order of magnitude faster than the C++ binding.
import _gojsonnet as _jsonnet
import yaml

from .promcheck import PromtoolCheck, rule_files
from .slo_import import check_rules as check_slo_rules
from .slo_import import load as load_slo_import
from .slo_import import load_folder as load_slo_specs

GENERATED_DIRS = ("rules", "dashboards", "alertmanager", "tests/rules/generated", "deploy/kubernetes")
KEEP = {".gitkeep", "README.md"}


# libyaml's emitter (CSafeDumper) writes the same text as the pure-Python one, about 5x faster; the
# pure-Python dumper is the fallback where PyYAML was built without libyaml.
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        # PyYAML refuses block style for strings with trailing spaces; strip them per line.
        data = "\n".join(line.rstrip() for line in data.split("\n"))
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)

# Jsonnet sorts object fields; rules read best in the conventional order (mixtool/kubernetes-mixin).
RULE_KEY_ORDER = ("alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations")


def _dict_presenter(dumper: yaml.SafeDumper, data: dict) -> yaml.MappingNode:
    if "alert" in data or "record" in data:
        rank = {k: i for i, k in enumerate(RULE_KEY_ORDER)}
        data = {k: data[k] for k in sorted(data, key=lambda k: rank.get(k, len(rank)))}
    return dumper.represent_dict(data.items())


_Dumper.add_representer(dict, _dict_presenter)


def to_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=True)


def render(path: str, content: Any) -> str:
    if path.endswith((".yaml", ".yml")):
        if isinstance(content, list):  # several YAML documents (Kubernetes manifests)
            return "---\n".join(to_yaml(doc) for doc in content)
        return to_yaml(content)
    if path.endswith(".json"):
        return json.dumps(content, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    if not isinstance(content, str):
        raise TypeError(f"{path}: expected a string for a non-YAML/JSON file")
    return content


def _ext_codes(root: Path) -> dict[str, str]:
    # slos/*.yaml (Sloth/OpenSLO specs) reach build.jsonnet as the ext code `sloImported`.
    return {"sloImported": json.dumps(load_slo_specs(root))}


# The generated SLO promtool tests take ~1.6 s of the ~2.3 s evaluation: a second process evaluates
# them while this one evaluates the rest (splitting the files any other way measured slower).
SECOND_PROCESS_PREFIX = "tests/"


def _part_snippet(entry: Path, prefix: str, inside: bool) -> str:
    """Jsonnet code for the files of ``entry``'s output whose path starts (or does not) with ``prefix``."""
    test = f"std.startsWith(k, {json.dumps(prefix)})"
    return (
        f"local files = import {json.dumps(str(entry))};\n"
        f"{{ [k]: files[k] for k in std.objectFields(files) if {'' if inside else '!'}{test} }}"
    )


def _evaluate_part(root: Path, entry: Path, prefix: str, inside: bool) -> str:
    return _jsonnet.evaluate_snippet(
        "build", _part_snippet(entry, prefix, inside), jpathdir=[str(root / "jsonnet")], ext_codes=_ext_codes(root)
    )


def _child_main() -> None:
    """``python -c`` entry of the second build process: prints its part of the files as JSON."""
    root, entry, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    try:
        sys.stdout.write(_evaluate_part(Path(root), Path(entry), prefix, inside=True))
    except RuntimeError as exc:
        sys.stderr.write(str(exc))
        sys.exit(1)


def build_jobs() -> int:
    """2 where there are 2 cores or more, else 1; ``INFRAWATCH_BUILD_JOBS=1`` evaluates in one process."""
    env = os.environ.get("INFRAWATCH_BUILD_JOBS")
    if env:
        return max(1, int(env))
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def evaluate(
    root: Path,
    entry: str = "jsonnet/build.jsonnet",
    ext_vars: dict[str, str] | None = None,
    tla_code: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Evaluate a Jsonnet file relative to ``root``; errors keep jsonnet's file:line text."""
    files: dict[str, Any] = {}
    for part in evaluate_parts(root, entry, ext_vars, tla_code):
        files.update(part)
    return files


def evaluate_parts(
    root: Path,
    entry: str = "jsonnet/build.jsonnet",
    ext_vars: dict[str, str] | None = None,
    tla_code: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """``evaluate`` in parts, each yielded as soon as it is ready (the caller renders one while the
    other is still being evaluated).

    With two cores the generated tests are evaluated in a second process while this one evaluates
    the rest.  go-jsonnet holds the GIL, so threads would not help; the second interpreter costs
    ~0.1 s and the mixin's shared part is evaluated twice, for ~0.5 s less wall time.
    """
    if build_jobs() == 1 or ext_vars or tla_code:
        yield json.loads(
            _jsonnet.evaluate_file(
                str(root / entry),
                jpathdir=[str(root / "jsonnet")],
                ext_vars=ext_vars or {},
                ext_codes=_ext_codes(root),
                tla_codes=tla_code or {},
            )
        )
        return
    entry_path = (root / entry).resolve()
    code = "from infrawatch_dev.build import _child_main; _child_main()"
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(root), str(entry_path), SECOND_PROCESS_PREFIX],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield json.loads(_evaluate_part(root, entry_path, SECOND_PROCESS_PREFIX, inside=False))
    finally:
        out, err = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(err.strip() or f"build process exited with {child.returncode}")
    yield json.loads(out)


def evaluate_snippet(root: Path, snippet: str) -> Any:
    """Evaluate Jsonnet code with ``jsonnet/`` on the import path (tests use this to override _config)."""
    return json.loads(
        _jsonnet.evaluate_snippet(
            "snippet",
            snippet,
            jpathdir=[str(root / "jsonnet")],
            ext_codes={"sloImported": json.dumps(load_slo_specs(root))},
        )
    )


def build(root: Path, check: bool = False) -> list[str]:
    """Write every generated file; returns the paths that changed (or would, with ``check``).

    The rule files are checked by promtool (in the background, while the generated tests are still
    being evaluated) before anything is written: a refused rule fails the build, naming it and the
    ``_config`` keys its expression uses.
    """
    changed: list[str] = []
    produced = set()
    rendered: dict[str, str] = {}
    promcheck: PromtoolCheck | None = None
    # Imported SLOs' rule files are checked one SLO at a time after writing (slo_import.check_rules):
    # a bad spec refuses that SLO alone, the others and the mixin's rules are still written.
    imported = {f"rules/slo-{s['service']}-{s['name']}.yaml" for s in load_slo_specs(root)}
    for part in evaluate_parts(root):
        for rel, content in sorted(part.items()):
            if not rel.startswith(tuple(d + "/" for d in GENERATED_DIRS)):
                raise ValueError(f"build.jsonnet: {rel!r} is outside the generated folders {GENERATED_DIRS}")
            rendered[rel] = render(rel, content)
        own = {rel: text for rel, text in rule_files(rendered).items() if rel not in imported}
        if promcheck is None and own:
            promcheck = PromtoolCheck(own)
    if promcheck is not None:
        if promcheck.binary is None:
            print("build: promtool not found, generated rules not checked (make setup installs it)", file=sys.stderr)
        problems = promcheck.problems(lambda: evaluate_snippet(root, "(import 'mixin.libsonnet')._config"))
        if problems:
            raise RuntimeError("promtool refuses generated rules:\n  " + "\n  ".join(problems))
    for rel, text in rendered.items():
        target = root / rel
        produced.add(target)
        if not target.exists() or target.read_text() != text:
            changed.append(rel)
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
    for d in GENERATED_DIRS:
        for f in (root / d).rglob("*") if (root / d).exists() else []:
            if f.is_file() and f not in produced and f.name not in KEEP:
                changed.append(str(f.relative_to(root)))
                if not check:
                    f.unlink()
    return changed


# A problem line of jsonnet/lib/config_schema.libsonnet: "  _config.services[1] (smtp).kidn: unknown field...".
_PROBLEM_RE = re.compile(r"^(\s+)(_config[^:]*?)(?:\.([A-Za-z_][\w-]*))?: (.*)$")


def locate_config_problems(root: Path, message: str) -> str:
    """Add ``(file:line)`` to each ``_config`` problem of a schema error whose key (and, for a bad
    value, the value) is written on exactly one line of the Jsonnet sources."""
    sources = [(p, p.read_text().splitlines()) for p in sorted((root / "jsonnet").rglob("*.*sonnet"))]
    out = []
    for line in message.splitlines():
        m = _PROBLEM_RE.match(line)
        if not m or not m.group(3):
            out.append(line)
            continue
        key, problem = m.group(3), m.group(4)
        value = re.match(r"^\S*?:? ?(?:unknown kind )?('[^']*')", problem)
        key_re = re.compile(rf"(?<![\w.]){re.escape(key)}\s*\+?:")
        hits = [
            (p, i + 1)
            for p, lines in sources
            for i, text in enumerate(lines)
            if key_re.search(text) and not text.lstrip().startswith("//")
        ]
        if value and len(hits) > 1:
            hits = [(p, n) for p, n in hits if value.group(1) in sources_line(sources, p, n)]
        if len(hits) == 1:
            p, n = hits[0]
            line = f"{line}  ({p.relative_to(root)}:{n})"
        out.append(line)
    text = "\n".join(out)
    if "invalid _config (" in text:  # the problems say it all; jsonnet's stack trace is noise here
        text = "\n".join(line for line in text.splitlines() if not line.startswith("\t"))
    return text


def sources_line(sources: list[tuple[Path, list[str]]], path: Path, number: int) -> str:
    return next(lines[number - 1] for p, lines in sources if p == path)


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="infrawatch build", description="generate rules, dashboards, alertmanager")
    p.add_argument("--root", default=".", help="repository root (holds jsonnet/)")
    p.add_argument("--check", action="store_true", help="exit 1 if a generated file is out of date")
    args = p.parse_args(argv)
    root = Path(args.root).resolve()
    t0 = time.perf_counter()
    try:
        changed = build(root, check=args.check)
    except RuntimeError as exc:  # jsonnet evaluation error: message names file:line
        print(f"jsonnet evaluation failed:\n{locate_config_problems(root, str(exc))}", file=sys.stderr)
        return 2
    took = time.perf_counter() - t0
    for c in changed:
        print(("out of date: " if args.check else "wrote: ") + c)
    print(f"build: {len(changed)} file(s) {'out of date' if args.check else 'changed'} in {took:.2f}s", file=sys.stderr)
    # A refused SLO spec fails the build (the other SLOs were still written): one located line each.
    imported = load_slo_import(root)
    problems = imported.problems + ([] if args.check else check_slo_rules(root, imported.slos))
    for p in problems:
        print(f"slos: {p}", file=sys.stderr)
    if problems:
        print(f"build: {len(problems)} SLO spec problem(s); those SLOs were not generated", file=sys.stderr)
        return 2
    return 1 if (args.check and changed) else 0
