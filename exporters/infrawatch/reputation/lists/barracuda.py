"""Barracuda Reputation Block List (https://www.barracudacentral.org/rbl)."""

from .profile import ListProfile

PROFILE = ListProfile(
    name="barracuda",
    zone="b.barracudacentral.org",
    kind="ip",
    tier="major",
    delist_url="https://www.barracudacentral.org/rbl/removal-request",
    codes={"127.0.0.2": "poor-reputation"},
    description="Barracuda Reputation Block List (free registration of the resolver IP required)",
)
