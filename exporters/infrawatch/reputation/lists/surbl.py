"""SURBL multi: domains seen in message bodies (https://www.surbl.org/lists)."""

from .profile import DOMAIN_CLEAN, ListProfile, TestPoint

PROFILE = ListProfile(
    name="surbl",
    zone="multi.surbl.org",
    kind="domain",
    tier="minor",
    delist_url="https://www.surbl.org/surbl-analysis",
    # Bitmask answers (last octet): 8 PH, 16 MW, 64 ABUSE, 128 CR, and every sum of them; 2, 4 and 32
    # were sub-lists that are retired (SC, WS, AB) and are ignored.  Middle octets are reserved.
    bitmask={8: "phishing", 16: "malware", 64: "abuse", 128: "cracked"},
    ignored_bits=2 | 4 | 32,
    # SURBL's documented test point test.surbl.org is on every sub-list.
    test_points=(
        TestPoint("test.surbl.org", "listed", categories=("phishing", "malware", "abuse", "cracked")),
        TestPoint(DOMAIN_CLEAN, "clean"),
    ),
    description="SURBL multi (domains in message bodies)",
)
