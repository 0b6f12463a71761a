"""``make build`` / ``infrawatch build``: evaluate the Jsonnet mixin and write the generated files.

``jsonnet/build.jsonnet`` evaluates to ``{"<relative path>": content}``.  Files ending in
``.yaml``/``.yml`` are written as YAML (multi-line strings as ``|`` blocks so PromQL stays readable),
``.json`` as indented JSON, anything else must be a string and is written as is.  Files in the
generated folders that the build no longer produces are removed, so a deleted alert area does not
linger.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

# jrsonnet's Python binding (the `build` extra); see _engine.
import rjsonnet as _jsonnet
import yaml

from .promcheck import PromtoolCheck, rule_files

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


def load_slo_specs(root: Path) -> list[dict[str, Any]]:
    """The SLOs of ``slos/*.yaml`` that imported (the importer is loaded only when asked)."""
    from .slo_import import load_folder

    return load_folder(root)


def _ext_codes(slos: list[dict[str, Any]]) -> dict[str, str]:
    # slos/*.yaml (Sloth/OpenSLO/Pyrra specs) reach build.jsonnet as the ext code `sloImported`.
    return {"sloImported": json.dumps(slos)}


# jrsonnet (rjsonnet, the `build` extra) evaluates this mixin about 10x faster than go-jsonnet
# (docs/benchmarks.md); tests/core/test_build.py checks both render the same files.  Its cycle
# collector runs after an evaluation, not during it (during, it cost half the evaluation time), and
# not at all in `infrawatch build`, whose process ends anyway (~70 MB).
def _engine(call: Any, *args: Any, collect: bool = True, **kwargs: Any) -> Any:
    try:
        return json.loads(call(*args, **kwargs, gc=False))
    finally:
        if collect:
            _jsonnet.gc()


def evaluate(
    root: Path,
    entry: str = "jsonnet/build.jsonnet",
    ext_vars: dict[str, str] | None = None,
    tla_code: dict[str, str] | None = None,
    slos: list[dict[str, Any]] | None = None,
    collect: bool = True,
) -> dict[str, Any]:
    """Evaluate a Jsonnet file relative to ``root``; errors keep jsonnet's file:line text.
    ``slos``: the imported SLO specs, when the caller has read them already; ``collect=False``
    leaves jrsonnet's garbage for the end of the process."""
    return _engine(
        _jsonnet.evaluate_file,
        str(root / entry),
        collect=collect,
        jpathdir=[str(root / "jsonnet")],
        ext_vars=ext_vars or {},
        ext_codes=_ext_codes(load_slo_specs(root) if slos is None else slos),
        tla_codes=tla_code or {},
    )


def evaluate_snippet(root: Path, snippet: str) -> Any:
    """Evaluate Jsonnet code with ``jsonnet/`` on the import path (tests use this to override _config)."""
    return _engine(
        _jsonnet.evaluate_snippet,
        "snippet",
        snippet,
        jpathdir=[str(root / "jsonnet")],
        ext_codes=_ext_codes(load_slo_specs(root)),
    )


def _outside(rel: str) -> bool:
    return not rel.startswith(tuple(d + "/" for d in GENERATED_DIRS))


def build(root: Path, check: bool = False, slos: list[dict[str, Any]] | None = None, collect: bool = True) -> list[str]:
    """Write every generated file; returns the paths that changed (or would, with ``check``).

    The mixin's rule files are rendered first and checked by promtool in the background while the
    other files are rendered; nothing is written unless promtool accepts them (a refused rule fails
    the build, naming it and the ``_config`` keys its expression uses).  ``slos``: the imported SLO
    specs, when the caller has read them already; ``collect``: as ``evaluate``'s.
    """
    slos = load_slo_specs(root) if slos is None else slos
    files = evaluate(root, slos=slos, collect=collect)
    outside = sorted(rel for rel in files if _outside(rel))
    if outside:
        raise ValueError(f"build.jsonnet: {outside[0]!r} is outside the generated folders {GENERATED_DIRS}")
    # Imported SLOs' rule files are checked one SLO at a time after writing (slo_import.check_rules):
    # a bad spec refuses that SLO alone, the others and the mixin's rules are still written.
    imported = {f"rules/slo-{s['service']}-{s['name']}.yaml" for s in slos}
    rules = [rel for rel in rule_files(files) if rel not in imported]
    rendered = {rel: render(rel, files[rel]) for rel in sorted(rules)}
    promcheck = PromtoolCheck(rendered) if rendered else None
    rendered.update({rel: render(rel, files[rel]) for rel in sorted(files) if rel not in rendered})
    if promcheck is not None:
        if promcheck.binary is None:
            print("build: promtool not found, generated rules not checked (make setup installs it)", file=sys.stderr)
        problems = promcheck.problems(lambda: evaluate_snippet(root, "(import 'mixin.libsonnet')._config"))
        if problems:
            raise RuntimeError("promtool refuses generated rules:\n  " + "\n  ".join(problems))
    changed: list[str] = []
    produced = set()
    for rel, text in sorted(rendered.items()):
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


# A stack trace line under a jsonnet error: indented by a tab (go-jsonnet) or four spaces (jrsonnet);
# the schema's problem lines are indented by two.
_STACK_LINE = re.compile(r"^(\t|    )")


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
        text = "\n".join(line for line in text.splitlines() if not _STACK_LINE.match(line))
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
    from .slo_import import check_rules as check_slo_rules
    from .slo_import import load as load_slo_import

    imported = load_slo_import(root)
    try:
        changed = build(root, check=args.check, slos=imported.slos, collect=False)
    except RuntimeError as exc:  # jsonnet evaluation error: message names file:line
        print(f"jsonnet evaluation failed:\n{locate_config_problems(root, str(exc))}", file=sys.stderr)
        return 2
    took = time.perf_counter() - t0
    for c in changed:
        print(("out of date: " if args.check else "wrote: ") + c)
    print(f"build: {len(changed)} file(s) {'out of date' if args.check else 'changed'} in {took:.2f}s", file=sys.stderr)
    # A refused SLO spec fails the build (the other SLOs were still written): one located line each.
    problems = imported.problems + ([] if args.check else check_slo_rules(root, imported.slos))
    for p in problems:
        print(f"slos: {p}", file=sys.stderr)
    if problems:
        print(f"build: {len(problems)} SLO spec problem(s); those SLOs were not generated", file=sys.stderr)
        return 2
    return 1 if (args.check and changed) else 0
