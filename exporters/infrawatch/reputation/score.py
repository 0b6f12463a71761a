"""Score, status and coverage of one target from its per-list results.

- Only lists that are up (passed their RFC 5782 test points) and answered definitively (clean or
  listed) are evidence.  ``coverage`` = evidence lists / lists that apply to the target's kind.
- ``score`` = 100 minus the weights of the lists the target is listed on (floored at 0); no score
  without evidence.
- ``status``: critical when listed on a major-tier list; otherwise warning when listed anywhere
  (never "good" while listed, whatever the weights: issue 14) or when score < ``warning_below``;
  otherwise unknown when coverage is below ``min_coverage`` (never "good" without evidence);
  otherwise good.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import ListSpec, ScoringConfig, Target
from .results import ListHealth, PairResult

STATUSES = ("good", "warning", "critical", "unknown")


@dataclass
class Summary:
    target: Target
    status: str
    score: float | None
    coverage: float
    listed_on: list[str] = field(default_factory=list)
    evidence: int = 0
    applicable: int = 0
    oldest_check: float | None = None
    newest_check: float | None = None
    restored: bool = False


def summarize(
    target: Target,
    specs: list[ListSpec],
    results: dict[tuple[str, str], PairResult],
    health: dict[str, ListHealth],
    scoring: ScoringConfig,
) -> Summary:
    applicable = [s for s in specs if s.applies(target)]
    evidence: list[tuple[ListSpec, PairResult]] = []
    for s in applicable:
        r = results.get((target.value, s.name))
        h = health.get(s.name)
        if r is None or h is None or not h.up or r.status not in ("clean", "listed"):
            continue
        evidence.append((s, r))
    coverage = len(evidence) / len(applicable) if applicable else 0.0
    listed = [(s, r) for s, r in evidence if r.status == "listed"]
    score = max(0.0, 100.0 - sum(s.weight for s, _ in listed)) if evidence else None
    checks = [r.checked_at for s in applicable if (r := results.get((target.value, s.name)))]
    if any(s.tier == "major" for s, _ in listed):
        status = "critical"
    elif listed:
        status = "warning"
    elif not applicable or coverage < scoring.min_coverage or score is None:
        status = "unknown"
    elif score < scoring.warning_below:
        status = "warning"
    else:
        status = "good"
    return Summary(
        target=target,
        status=status,
        score=score,
        coverage=coverage,
        listed_on=sorted(s.name for s, _ in listed),
        evidence=len(evidence),
        applicable=len(applicable),
        oldest_check=min((r.checked_at for _, r in evidence), default=None),
        newest_check=max(checks, default=None),
        restored=any(r.restored for _, r in evidence),
    )
