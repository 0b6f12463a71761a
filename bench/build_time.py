"""``make build`` wall and CPU time, cold, with where the time goes.

    python -m bench.build_time [--runs 7] [--baseline DIR]

Each run is a new ``infrawatch build --root <copy>`` process (Python start-up, imports, Jsonnet
evaluation, rendering, promtool's check of the mixin's rule files, comparing/writing) on a copy of
the repository's jsonnet/, slos/, examples/ and generated folders, so the working tree is never
written and nothing is cached between runs but the OS's file cache and Python's bytecode.  Wall
time is the figure of the goal (``make build`` <= 1 s); CPU time (user + sys of the build and of the
promtool it waits for) is printed beside it because the machine is shared.  ``--baseline DIR``: a
source tree of another revision (e.g. ``git archive main | tar -x -C DIR``), run with the same
Python, interleaved with this tree's runs (round 1 of each, then round 2 ...) so a change in load
hits both alike.  Then one in-process breakdown of this tree's build (imports, evaluation,
rendering, promtool alone).  The load average is printed with every round.  Figures go to
docs/benchmarks.md (``make build`` section).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("jsonnet", "slos", "examples", "rules", "dashboards", "alertmanager", "deploy", "tests/rules/generated")
CLI = "import sys; from infrawatch.cli import main; sys.exit(main())"

# Run in a child (fresh interpreter, like a build): the phases of one build, as "name seconds" lines.
PHASES = """
import sys, time
c0 = time.process_time()
from pathlib import Path
from infrawatch_dev import build
from infrawatch_dev.promcheck import PromtoolCheck, rule_files
from infrawatch_dev.slo_import import load
c1 = time.process_time()
root = Path(sys.argv[1])
slos = load(root).slos
c2 = time.process_time()
files = build.evaluate(root, slos=slos)
c3 = time.process_time()
rendered = {rel: build.render(rel, v) for rel, v in files.items()}
c4 = time.process_time()
w = time.perf_counter()
check = PromtoolCheck(rule_files(rendered))
assert check.problems(lambda: {}) == []
print("imports", c1 - c0)
print("SLO specs of slos/", c2 - c1)
print("Jsonnet evaluation", c3 - c2)
print("rendering YAML/JSON", c4 - c3)
print("promtool check rules (wall, own process)", time.perf_counter() - w)
"""


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def copy_tree(src: Path, dst: Path) -> Path:
    for d in COPIED:
        if (src / d).exists():
            shutil.copytree(src / d, dst / d)
    return dst


def env_for(tree: Path) -> dict[str, str]:
    """The tree's own exporters/ and devtools/ first on the path (ahead of the editable installs)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "exporters"), str(tree / "devtools")])}


def one_build(tree: Path, copy: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``infrawatch build`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-c", CLI, "build", "--root", str(copy)],
        env=env_for(tree),
        capture_output=True,
        text=True,
        timeout=300,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"build of {tree} failed ({r.returncode}):\n{r.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def summary(xs: list[float]) -> str:
    return f"min {min(xs):.2f} s, median {statistics.median(xs):.2f} s, max {max(xs):.2f} s"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.build_time", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--baseline", type=Path, help="source tree of another revision, run interleaved")
    args = p.parse_args(argv)
    trees = {"this tree": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in trees}
    print(f"make build, cold: {args.runs} runs per tree, {os.cpu_count()} cores; load average {loadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        copies = {name: copy_tree(tree, Path(tmp) / name.replace(" ", "-")) for name, tree in trees.items()}
        for name, tree in trees.items():  # warm the OS file cache and bytecode; not counted
            one_build(tree, copies[name])
        for i in range(args.runs):
            for name, tree in trees.items():
                wall, cpu = one_build(tree, copies[name])
                results[name][0].append(wall)
                results[name][1].append(cpu)
                print(f"  run {i + 1} {name:<10} wall {wall:.2f} s, CPU {cpu:.2f} s  (load average {loadavg()})")
        for name, (walls, cpus) in results.items():
            print(f"{name:<10} wall: {summary(walls)}; CPU: {summary(cpus)}")
        r = subprocess.run(
            [sys.executable, "-c", PHASES, str(copies["this tree"])],
            env=env_for(ROOT),
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        print(f"where one build's time goes (CPU seconds unless said; load average {loadavg()}):")
        for line in r.stdout.splitlines():
            what, _, secs = line.rpartition(" ")
            print(f"  {what:<42} {float(secs):.3f}")
    print(f"load average after: {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
