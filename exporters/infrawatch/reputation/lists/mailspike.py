"""Mailspike blacklist (https://mailspike.io/)."""

from .profile import ListProfile

PROFILE = ListProfile(
    name="mailspike",
    zone="bl.mailspike.net",
    kind="ip",
    tier="minor",
    delist_url="https://mailspike.io/ip_verify",
    codes={
        "127.0.0.2": "bl",
        "127.0.0.10": "l5-worst",
        "127.0.0.11": "l4-very-bad",
        "127.0.0.12": "l3-bad",
    },
    description="Mailspike reputation blacklist",
)
