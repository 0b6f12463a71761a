"""Result records kept in memory, in the state file and on the status page."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class PairResult:
    """The last lookup of one (target, list) pair."""

    status: str  # clean | listed | error
    checked_at: float
    codes: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # TXT records: shown on the page, never labels
    error: str = ""
    reason: str = ""  # bounded reason of an error (classify.REASONS)
    # When this process (or its state file) first saw the current listing; kept through lookup
    # errors (a failed lookup says nothing about delisting), cleared by a clean answer.
    listed_since: float | None = None
    restored: bool = False  # loaded from the state file, not yet re-checked by this process

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("restored")
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PairResult:
        """Raises ValueError/TypeError/KeyError on anything of the wrong shape (state.load keeps it aside)."""
        status = d["status"]
        if status not in ("clean", "listed", "error"):
            raise ValueError(f"unknown status {status!r}")
        since = d.get("listed_since")
        return cls(
            status=status,
            checked_at=_finite(d["checked_at"]),
            codes=_strings(d.get("codes", [])),
            categories=_strings(d.get("categories", [])),
            reasons=_strings(d.get("reasons", [])),
            error=_string(d.get("error", "")),
            reason=_string(d.get("reason", "")),
            listed_since=None if since is None else _finite(since),
            restored=True,
        )


@dataclass
class ListHealth:
    """Result of a list's RFC 5782 test points in its last cycle."""

    up: bool
    checked_at: float
    reason: str = ""  # the message: which test point failed and how
    reason_code: str = ""  # the bounded reason (classify.REASONS) given to the list's pairs
    restored: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"up": self.up, "checked_at": self.checked_at, "reason": self.reason, "reason_code": self.reason_code}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ListHealth:
        if not isinstance(d["up"], bool):
            raise TypeError("'up' must be true or false")
        return cls(
            up=d["up"],
            checked_at=_finite(d["checked_at"]),
            reason=_string(d.get("reason", "")),
            reason_code=_string(d.get("reason_code", "")),
            restored=True,
        )


def _finite(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v or v in (float("inf"), float("-inf")):
        raise TypeError(f"expected a finite number, got {v!r}")
    return float(v)


def _string(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected a string, got {type(v).__name__}")
    return v


def _strings(v: Any) -> list[str]:
    if not isinstance(v, list):
        raise TypeError(f"expected a list, got {type(v).__name__}")
    return [_string(x) for x in v]
