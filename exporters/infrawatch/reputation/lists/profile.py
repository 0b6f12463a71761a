"""What a DNS blacklist's answers mean: the return-code profile of one list.

A profile maps each "listed" return code to a category (``sbl``, ``xbl``, ``pbl`` ...).  Codes
that a list uses to say "your query was not answered" (Spamhaus' 127.255.255.252/.254/.255, DBL's
127.0.1.255) and anything outside 127.0.0.0/8 are errors — never listings.  Every list also
carries its RFC 5782 test points so a cycle can tell a working list from a dead or hijacked one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["ip", "domain"]
Tier = Literal["major", "minor"]

# Answers that mean "the query failed", whatever list returned them (docs/architecture.md).
GLOBAL_ERROR_CODES: dict[str, str] = {
    "127.0.0.1": "127.0.0.1 is never a listing code (RFC 5782 'not listed' test point)",
    "127.255.255.252": "typing error in the DNSBL name (Spamhaus)",
    "127.255.255.254": "query via a public/open resolver refused (Spamhaus)",
    "127.255.255.255": "excessive number of queries (Spamhaus)",
    "127.0.1.255": "IP queries prohibited / query refused (Spamhaus DBL)",
}


@dataclass(frozen=True)
class ListProfile:
    """A built-in (or operator-defined) blacklist."""

    name: str
    zone: str
    kind: Kind
    tier: Tier
    delist_url: str
    # return code -> category.  Empty means "any 127.0.0.0/8 code that is not an error is listed".
    codes: dict[str, str] = field(default_factory=dict)
    error_codes: dict[str, str] = field(default_factory=dict)
    # RFC 5782 test points: (listed name, not-listed name) relative to the zone.
    test_listed: str = ""
    test_clean: str = ""
    daily_query_budget: int = 0  # 0 = no published limit
    # Spamhaus Data Query Service: with a key, ``<key>.<dqs_zone>`` replaces ``zone``.
    dqs_zone: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not self.test_listed:
            object.__setattr__(self, "test_listed", "2.0.0.127" if self.kind == "ip" else "test")
        if not self.test_clean:
            object.__setattr__(self, "test_clean", "1.0.0.127" if self.kind == "ip" else "invalid")


def code_range(prefix: str, first: int, last: int, category: str) -> dict[str, str]:
    """``code_range('127.0.0.', 4, 7, 'xbl')`` -> {'127.0.0.4': 'xbl', ... '127.0.0.7': 'xbl'}."""
    return {f"{prefix}{i}": category for i in range(first, last + 1)}
