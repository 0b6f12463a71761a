"""UCEPROTECT level 1: single IPs (https://www.uceprotect.net/)."""

from .profile import ListProfile

PROFILE = ListProfile(
    name="uceprotect-1",
    zone="dnsbl-1.uceprotect.net",
    kind="ip",
    tier="minor",
    delist_url="https://www.uceprotect.net/en/rblcheck.php",
    codes={"127.0.0.2": "spamtrap-hits"},
    description="UCEPROTECT level 1; listings expire after 7 days without new hits",
)
