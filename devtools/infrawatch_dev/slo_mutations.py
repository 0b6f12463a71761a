"""Mutation check of the generated SLO tests (issue 16, "Tests that catch mistakes").

Each mutation is one deliberate mistake in ``rules/slo-api-requests-availability.yaml`` (the 99.9% /
30d example SLO): a wrong factor, window, constant, guard or label.  A mutation is *caught* when a
promtool test fails against the mutated rules.  The generated tests
(``tests/rules/generated/slo-api-requests-availability*.yaml``) are run one test group at a time,
cheapest file first, stopping at the first failure; a mutation they let through is then run against
the hand-written tests of ``tests/slo`` that use the same rule file.

    .venv/bin/python -m infrawatch_dev.slo_mutations [--jobs 2] [NAME ...]

prints one line per mutation (caught by which test, or survived) and the counts.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SLO_ID = "api-requests-availability"
RULES = ROOT / "rules" / f"slo-{SLO_ID}.yaml"
GENERATED = [ROOT / "tests" / "rules" / "generated" / f"slo-{SLO_ID}{s}.yaml" for s in ("", "-period", "-slow")]
HAND_WRITTEN = [
    ROOT / "tests" / "slo" / n
    for n in ("api-availability.yaml", "young-slo-and-absent.yaml", "recording-rules.yaml", "period-budget.yaml")
]
SEL = '{sloth_id="api-requests-availability", sloth_service="api", sloth_slo="requests-availability"}'


@dataclass(frozen=True)
class Mutation:
    name: str
    what: str
    apply: Callable[[str], str]


def swap(old: str, new: str) -> Callable[[str], str]:
    """Replace every ``old`` (which must occur) by ``new``."""

    def apply(text: str) -> str:
        if old not in text:
            raise ValueError(f"mutation target {old!r} not in {RULES.name}")
        return text.replace(old, new)

    return apply


def sub(pattern: str, repl: str) -> Callable[[str], str]:
    """Regular-expression replacement that must match."""

    def apply(text: str) -> str:
        out, n = re.subn(pattern, repl, text)
        if n == 0:
            raise ValueError(f"mutation pattern {pattern!r} matches nothing in {RULES.name}")
        return out

    return apply


def alert_window(window: str, factor: str, new: str) -> Callable[[str], str]:
    """In the alert of the tier with ``factor``, read window ``new`` instead of ``window``."""
    return swap(f"ratio_rate{window}{SEL} > ({factor} * 0.001)", f"ratio_rate{new}{SEL} > ({factor} * 0.001)")


MUTATIONS: list[Mutation] = [
    Mutation("factor-page-1h", "page-1h factor 14.4 -> 16", swap("(14.4 * 0.001)", "(16 * 0.001)")),
    Mutation("factor-page-6h", "page-6h factor 6 -> 7", swap("(6 * 0.001)", "(7 * 0.001)")),
    Mutation("factor-ticket-1d", "ticket-1d factor 3 -> 3.5", swap("(3 * 0.001)", "(3.5 * 0.001)")),
    Mutation("factor-ticket-3d", "ticket-3d factor 1 -> 1.2", swap("(1 * 0.001)", "(1.2 * 0.001)")),
    Mutation("long-page-1h", "page-1h reads the 30m ratio as its long window", alert_window("1h", "14.4", "30m")),
    Mutation("short-page-1h", "page-1h reads the 30m ratio as its short window", alert_window("5m", "14.4", "30m")),
    Mutation("long-page-6h", "page-6h reads the 1d ratio as its long window", alert_window("6h", "6", "1d")),
    Mutation("short-page-6h", "page-6h reads the 5m ratio as its short window", alert_window("30m", "6", "5m")),
    Mutation("long-ticket-1d", "ticket-1d reads the 3d ratio as its long window", alert_window("1d", "3", "3d")),
    Mutation("short-ticket-1d", "ticket-1d reads the 6h ratio as its short window", alert_window("2h", "3", "6h")),
    Mutation("long-ticket-3d", "ticket-3d reads the 1d ratio as its long window", alert_window("3d", "1", "1d")),
    Mutation("short-ticket-3d", "ticket-3d reads the 2h ratio as its short window", alert_window("6h", "1", "2h")),
    Mutation("window-30m", "the 30m ratio computed over 20m", swap("[30m]", "[20m]")),
    Mutation("window-1h", "the 1h ratio computed over 50m", swap("[1h]", "[50m]")),
    Mutation("window-2h", "the 2h ratio computed over 90m", swap("[2h]", "[90m]")),
    Mutation("window-6h", "the 6h ratio computed over 5h", swap("[6h]", "[5h]")),
    Mutation("window-1d", "the 1d ratio computed over 20h", swap("[1d]", "[20h]")),
    Mutation("window-3d", "the 3d ratio computed over 2d", swap("[3d]", "[2d]")),
    Mutation("window-period", "the 30d period ratio computed over 7d", swap("[30d]", "[7d]")),
    Mutation("objective", "slo:objective:ratio 0.999 -> 0.99", swap("vector(0.999)", "vector(0.99)")),
    Mutation("error-budget", "slo:error_budget:ratio 0.001 -> 0.002", swap("vector(0.001)", "vector(0.002)")),
    Mutation("period-days", "slo:time_period:days 30 -> 28", swap("vector(30)", "vector(28)")),
    Mutation("exhausted-limit", "SLOErrorBudgetNearlyExhausted at 80% spent, not 90%", swap(") < 0.1", ") < 0.2")),
    Mutation(
        "no-coverage-weight",
        "budget remaining = 1 - period burn rate (not weighted by the data's coverage)",
        sub(
            r"\n\s*\* on\(sloth_id, sloth_service, sloth_slo\) group_left\n\s*slo:period_data_coverage:ratio\{[^}]*\}",
            "",
        ),
    ),
    Mutation("coverage-period", "coverage divides by 7d, not 30d", swap("/ 2592000, 1)", "/ 604800, 1)")),
    Mutation(
        "and-to-or",
        "a tier fires on either window (or, not and)",
        swap("and ignoring (sloth_window)", "or ignoring (sloth_window)"),
    ),
    Mutation(
        "no-zero-traffic-guard",
        "slo:sli_error:ratio_rate5m without its zero-traffic guard",
        sub(r"\n\s*or\n\s*\(0 \* slo:sli_total_events:rate5m\{[^}]*\}\)", ""),
    ),
    Mutation(
        "no-missing-error-guard",
        "a missing error series is no series (not zero errors)",
        swap(' or (0 * sum(rate(http_requests_total{job="api-server"}[5m])))', ""),
    ),
    Mutation(
        "delta-not-rate",
        "the 1h window uses delta() (breaks on counter resets)",
        sub(r"rate\((http_requests_total\{[^}]*\}\[1h\])\)", r"delta(\1)"),
    ),
    Mutation("page-severity", "page tiers labelled severity warning", swap("severity: critical", "severity: warning")),
    Mutation("absent-for", "SLOMetricAbsent waits 30m, not 10m", swap("for: 10m", "for: 30m")),
    Mutation(
        "current-burn-budget",
        "slo:current_burn_rate:ratio divides by the objective, not the budget",
        sub(
            r"(record: slo:current_burn_rate:ratio\n    expr: \|\n.*\n.*\n\s*)slo:error_budget:ratio",
            r"\1slo:objective:ratio",
        ),
    ),
]


@dataclass
class Result:
    mutation: Mutation
    caught_by: str | None  # "<file>: <test name>" of the first failing test, None when it survived
    generated: bool  # caught by a generated test
    seconds: float


def _split(path: Path) -> list[tuple[str, dict]]:
    """One promtool document per test group of ``path`` (same header): (test name, document)."""
    doc = yaml.safe_load(path.read_text())
    return [(t["name"], {**doc, "tests": [t]}) for t in doc["tests"]]


def _run_one(workdir: Path, rel_dir: str, name: str, doc: dict | str) -> bool:
    """True when promtool's test of ``doc`` (written to workdir/rel_dir/name) passes."""
    target = workdir / rel_dir / name
    target.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    res = subprocess.run(
        [shutil.which("promtool") or "promtool", "test", "rules", name],
        cwd=target.parent,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return res.returncode == 0


def check(mutation: Mutation, hand_written: bool = True, generated: bool = True) -> Result:
    """Apply ``mutation`` to a copy of the rules and run the generated tests (then the hand-written ones)."""
    start = time.monotonic()
    mutated = mutation.apply(RULES.read_text())
    with tempfile.TemporaryDirectory(prefix="infrawatch-mutation-") as tmp:
        work = Path(tmp)
        for d in ("rules", "tests/rules/generated", "tests/slo"):
            (work / d).mkdir(parents=True, exist_ok=True)
        (work / "rules" / RULES.name).write_text(mutated)
        for path in GENERATED if generated else []:
            for i, (test_name, doc) in enumerate(_split(path)):
                if not _run_one(work, "tests/rules/generated", f"{path.stem}-{i}.yaml", doc):
                    return Result(mutation, f"{path.name}: {test_name}", True, time.monotonic() - start)
        if hand_written:
            for path in HAND_WRITTEN:
                if not _run_one(work, "tests/slo", path.name, path.read_text()):
                    return Result(mutation, f"tests/slo/{path.name}", False, time.monotonic() - start)
    return Result(mutation, None, False, time.monotonic() - start)


def run(mutations: list[Mutation], jobs: int = 2, hand_written: bool = True) -> list[Result]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda m: check(m, hand_written), mutations))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="mutations to run (default: all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--generated-only", action="store_true", help="do not run the hand-written tests")
    args = ap.parse_args(argv)
    known = {m.name: m for m in MUTATIONS}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        ap.error(f"unknown mutations: {', '.join(unknown)} (known: {', '.join(known)})")
    chosen = [known[n] for n in args.names] or MUTATIONS
    results = run(chosen, args.jobs, not args.generated_only)
    for r in results:
        verdict = f"caught by {r.caught_by}" if r.caught_by else "SURVIVED"
        print(f"{r.mutation.name:24} {r.seconds:6.1f}s  {verdict}  ({r.mutation.what})")
    gen = sum(r.generated for r in results)
    hand = sum(r.caught_by is not None and not r.generated for r in results)
    print(
        f"{len(results)} mutations: {gen} caught by the generated tests, {hand} only by hand-written tests, "
        f"{len(results) - gen - hand} survived"
    )
    return 0 if gen + hand == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
