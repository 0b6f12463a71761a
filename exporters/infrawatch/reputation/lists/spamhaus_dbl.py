"""Spamhaus DBL: domains in spam (https://www.spamhaus.org/dbl/)."""

from .profile import ListProfile

PROFILE = ListProfile(
    name="spamhaus-dbl",
    zone="dbl.spamhaus.org",
    kind="domain",
    tier="major",
    delist_url="https://check.spamhaus.org/",
    codes={
        "127.0.1.2": "spam",
        "127.0.1.4": "phish",
        "127.0.1.5": "malware",
        "127.0.1.6": "botnet-cc",
        "127.0.1.102": "abused-legit-spam",
        "127.0.1.103": "abused-legit-redirector",
        "127.0.1.104": "abused-legit-phish",
        "127.0.1.105": "abused-legit-malware",
        "127.0.1.106": "abused-legit-botnet-cc",
    },
    # DBL's documented test point is dbltest.com (RFC 5782 'test' is not listed there).
    test_listed="dbltest.com",
    daily_query_budget=300_000,
    dqs_zone="dbl.dq.spamhaus.net",
    description="Spamhaus Domain Block List",
)
