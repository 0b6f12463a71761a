"""SURBL multi: domains seen in message bodies (https://www.surbl.org/lists)."""

from .profile import ListProfile

PROFILE = ListProfile(
    name="surbl",
    zone="multi.surbl.org",
    kind="domain",
    tier="minor",
    delist_url="https://www.surbl.org/surbl-analysis",
    # Bitmask answers: 8 PH, 16 MW, 64 ABUSE, 128 CR and their sums.
    codes={
        "127.0.0.8": "phishing",
        "127.0.0.16": "malware",
        "127.0.0.24": "phishing+malware",
        "127.0.0.64": "abuse",
        "127.0.0.72": "abuse+phishing",
        "127.0.0.80": "abuse+malware",
        "127.0.0.88": "abuse+phishing+malware",
        "127.0.0.128": "cracked",
        "127.0.0.136": "cracked+phishing",
        "127.0.0.144": "cracked+malware",
        "127.0.0.192": "cracked+abuse",
        "127.0.0.2": "test",
    },
    description="SURBL multi (domains in message bodies)",
)
