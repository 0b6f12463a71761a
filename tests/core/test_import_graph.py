"""No import cycle in the ``infrawatch`` package, type-only (``TYPE_CHECKING``) and function-level
imports included: the layering (core <- probe context/sink/failures <- net helpers <- probers <-
prober table <- exporter) is what lets a new prober be one file and one table entry."""

from __future__ import annotations

import ast
from pathlib import Path

import infrawatch

PACKAGE = Path(infrawatch.__file__).parent
ROOT = "infrawatch"


def _module_name(path: Path) -> str:
    parts = [ROOT, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports anywhere in its source (any nesting)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    stem = ".".join([*base, node.module] if node.module else base)
                else:
                    stem = node.module or ""
                # ``from pkg import mod`` imports the submodule ``pkg.mod`` when there is one
                targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in modules else stem for a in node.names]
            for t in targets:
                # importing a.b.c runs a/__init__ and a/b/__init__ first
                parts = t.split(".")
                for i in range(2, len(parts) + 1):
                    dep = ".".join(parts[:i])
                    if dep in modules and dep != name and not name.startswith(dep + "."):
                        graph[name].add(dep)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_type_only_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_import_cycle_in_the_package() -> None:
    graph = import_graph()
    assert "infrawatch.probe.probers.http" in graph
    assert "infrawatch.probe.context" in graph["infrawatch.probe.probers.http"]
    assert cycles(graph) == []


def test_layering() -> None:
    graph = import_graph()

    def deps(prefix: str) -> set[str]:
        return {d for m, ds in graph.items() if m == prefix or m.startswith(prefix + ".") for d in ds}

    below_probers = {"context", "sink", "failures", "families", "spec"}
    for layer in below_probers:
        assert not {d for d in deps(f"infrawatch.probe.{layer}") if ".probers" in d or ".net" in d}, layer
    assert not {d for d in deps("infrawatch.probe.net") if ".probers" in d or d.endswith(".table")}
    assert "infrawatch.probe.table" not in deps("infrawatch.probe.probers")
    assert not {d for d in deps("infrawatch.core") if d.startswith(("infrawatch.probe", "infrawatch.reputation"))}


def test_the_product_does_not_import_the_development_package() -> None:
    """Only the exporters and the console are the product: the build tools, SLO importer and dev
    stack (``infrawatch_dev``) may be reached from the ``infrawatch build`` delegation alone."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(n == "infrawatch_dev" or n.startswith("infrawatch_dev.") for n in names):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == ["cli.py:" + str(_cli_build_import_line())]


def _cli_build_import_line() -> int:
    source = (PACKAGE / "cli.py").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(source, 1) if "from infrawatch_dev.build import" in line)
