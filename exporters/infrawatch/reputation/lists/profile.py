"""What a DNS blacklist's answers mean: the return-code profile of one list.

A profile maps each "listed" return code to a category (``sbl``, ``xbl``, ``pbl`` ...).  Codes
that a list uses to say "your query was not answered" (Spamhaus' 127.255.255.252/.254/.255, DBL's
127.0.1.255) and anything outside 127.0.0.0/8 are errors — never listings.  Every list also
carries its test points (RFC 5782's or the list's documented ones) and the answer each must give,
so a cycle can tell a working list from a dead, blocking or hijacked one.

Bitmask lists (SURBL, URIBL multi) answer 127.0.0.N where each bit of N is a sub-list: ``bitmask``
maps bit -> category and every combination decodes (127.0.0.24 = phishing + malware).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["ip", "domain"]
Tier = Literal["major", "minor"]

# Answers that mean "the query failed", whatever list returned them (docs/architecture.md).
GLOBAL_ERROR_CODES: dict[str, str] = {
    "127.0.0.1": "127.0.0.1 is never a listing code (RFC 5782 'not listed' test point)",
    "127.255.255.252": "typing error in the DNSBL name or an invalid DQS key (Spamhaus)",
    "127.255.255.254": "query via a public/open resolver refused (Spamhaus)",
    "127.255.255.255": "excessive number of queries (Spamhaus)",
    "127.0.1.255": "IP queries prohibited / query refused (Spamhaus DBL)",
}
# The bounded ``reason`` of each error code (reputation_lookup_error{reason}); others: error_code.
GLOBAL_ERROR_REASONS: dict[str, str] = {
    "127.255.255.252": "bad_key",
    "127.255.255.254": "blocked_resolver",
    "127.255.255.255": "rate_limited",
    "127.0.1.255": "bad_query",
}

# RFC 5782 §5 test points, as query names relative to the zone.
V4_LISTED, V4_CLEAN = "2.0.0.127", "1.0.0.127"
# ::FFFF:7F00:2 / ::FFFF:7F00:1 in nibble form (RFC 5782 §5: IPv6 lists must have them).
V6_LISTED = ".".join(reversed("00000000000000000000ffff7f000002"))
V6_CLEAN = ".".join(reversed("00000000000000000000ffff7f000001"))
DOMAIN_LISTED, DOMAIN_CLEAN = "test", "invalid"


@dataclass(frozen=True)
class TestPoint:
    """A name the list documents with a fixed answer: ``listed`` (optionally with these codes or
    categories among the answer's) or ``clean`` (NXDOMAIN)."""

    name: str  # relative to the zone
    expect: Literal["listed", "clean"]
    codes: tuple[str, ...] = ()  # each must be in the answer
    categories: tuple[str, ...] = ()  # each must be among the decoded categories
    label: str = ""  # how the page names it, e.g. "::FFFF:7F00:2"

    __test__ = False  # not a pytest class

    @property
    def shown(self) -> str:
        return self.label or self.name


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
    # error code -> bounded reason (adds to GLOBAL_ERROR_REASONS)
    error_reasons: dict[str, str] = field(default_factory=dict)
    # Bitmask lists: bit value of the last octet -> category; ``ignored_bits`` are retired sub-lists.
    bitmask: dict[int, str] = field(default_factory=dict)
    ignored_bits: int = 0
    # IP lists: which address families the list answers for (targets of another family are not
    # asked: a list without IPv6 data would say "clean" for every IPv6 address).  Test points: the
    # IPv4 ones, or the IPv6 ones for an IPv6-only list, or both with ``test_v6``.
    ip_versions: tuple[int, ...] = (4,)
    test_v6: bool = False
    # The documented test points; empty = RFC 5782's for the kind (and ip_versions).
    test_points: tuple[TestPoint, ...] = ()
    # Simple overrides of the first listed / clean test point (config ``test_listed``/``test_clean``).
    test_listed: str = ""
    test_clean: str = ""
    daily_query_budget: int = 0  # 0 = no published limit
    # Spamhaus Data Query Service: with a key, ``<key>.<dqs_zone>`` replaces ``zone``.
    dqs_zone: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not self.test_listed:
            object.__setattr__(self, "test_listed", V4_LISTED if self.kind == "ip" else DOMAIN_LISTED)
        if not self.test_clean:
            object.__setattr__(self, "test_clean", V4_CLEAN if self.kind == "ip" else DOMAIN_CLEAN)

    def points(self) -> tuple[TestPoint, ...]:
        """The test points a list check asks: declared ones, else RFC 5782's for kind/families."""
        if self.test_points:
            return self.test_points
        if self.kind == "domain":
            return (TestPoint(self.test_listed, "listed"), TestPoint(self.test_clean, "clean"))
        out: list[TestPoint] = []
        if 4 in self.ip_versions:
            out += [TestPoint(self.test_listed, "listed", label="127.0.0.2" if self.test_listed == V4_LISTED else "")]
            out += [TestPoint(self.test_clean, "clean", label="127.0.0.1" if self.test_clean == V4_CLEAN else "")]
        if 6 in self.ip_versions and (self.test_v6 or 4 not in self.ip_versions):
            out += [
                TestPoint(V6_LISTED, "listed", label="::FFFF:7F00:2"),
                TestPoint(V6_CLEAN, "clean", label="::FFFF:7F00:1"),
            ]
        return tuple(out)

    def decode(self, code: str, table: dict[str, str] | None = None) -> list[str] | None:
        """Categories of one listing code (several for a bitmask answer); None when unknown."""
        table = self.codes if table is None else table
        if table and code in table:
            return [table[code]]
        if self.bitmask:
            try:
                last = int(code.rsplit(".", 1)[1])
            except (IndexError, ValueError):
                return None
            cats = [cat for bit, cat in sorted(self.bitmask.items()) if last & bit]
            known = sum(self.bitmask) | self.ignored_bits
            if not cats or last & ~known & 0xFF:
                return None
            return cats
        if not table:
            return ["listed"]
        return None


def code_range(prefix: str, first: int, last: int, category: str) -> dict[str, str]:
    """``code_range('127.0.0.', 4, 7, 'xbl')`` -> {'127.0.0.4': 'xbl', ... '127.0.0.7': 'xbl'}."""
    return {f"{prefix}{i}": category for i in range(first, last + 1)}
