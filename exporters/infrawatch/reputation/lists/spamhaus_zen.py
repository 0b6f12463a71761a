"""Spamhaus ZEN: SBL + CSS + XBL + DROP + PBL in one zone (https://www.spamhaus.org/zen/)."""

from .profile import ListProfile, code_range

PROFILE = ListProfile(
    name="spamhaus-zen",
    zone="zen.spamhaus.org",
    kind="ip",
    tier="major",
    delist_url="https://check.spamhaus.org/",
    codes={
        "127.0.0.2": "sbl",
        "127.0.0.3": "css",
        **code_range("127.0.0.", 4, 7, "xbl"),
        "127.0.0.9": "drop",
        "127.0.0.10": "pbl-isp",
        "127.0.0.11": "pbl-spamhaus",
    },
    # Free use is limited to 300,000 queries a day and refused via public resolvers.
    daily_query_budget=300_000,
    ip_versions=(4, 6),  # ZEN answers IPv6 queries (RFC 5782 nibble format)
    dqs_zone="zen.dq.spamhaus.net",
    description="Spamhaus combined IP blocklist",
)
