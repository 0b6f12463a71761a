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
    restored: bool = False  # loaded from the state file, not yet re-checked by this process

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("restored")
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PairResult:
        return cls(
            status=str(d["status"]),
            checked_at=float(d["checked_at"]),
            codes=[str(x) for x in d.get("codes", [])],
            categories=[str(x) for x in d.get("categories", [])],
            reasons=[str(x) for x in d.get("reasons", [])],
            error=str(d.get("error", "")),
            restored=True,
        )


@dataclass
class ListHealth:
    """Result of a list's RFC 5782 test points in its last cycle."""

    up: bool
    checked_at: float
    reason: str = ""
    restored: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"up": self.up, "checked_at": self.checked_at, "reason": self.reason}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ListHealth:
        return cls(up=bool(d["up"]), checked_at=float(d["checked_at"]), reason=str(d.get("reason", "")), restored=True)
