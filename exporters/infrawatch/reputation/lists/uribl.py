"""URIBL multi: domains in unsolicited mail (https://uribl.com/)."""

from .profile import DOMAIN_CLEAN, ListProfile, TestPoint

PROFILE = ListProfile(
    name="uribl",
    zone="multi.uribl.com",
    kind="domain",
    tier="minor",
    delist_url="https://admin.uribl.com/",
    # Bitmask answers: 2 black, 4 grey, 8 red and their sums (127.0.0.14 = all three).
    bitmask={2: "black", 4: "grey", 8: "red"},
    # URIBL answers 127.0.0.1 to queries it refuses (blocked or public resolver).
    error_reasons={"127.0.0.1": "blocked_resolver"},
    # URIBL's documented test point answers 127.0.0.14 (every sub-list).
    test_points=(
        TestPoint("test.uribl.com", "listed", codes=("127.0.0.14",)),
        TestPoint(DOMAIN_CLEAN, "clean"),
    ),
    description="URIBL multi (black, grey, red)",
)
