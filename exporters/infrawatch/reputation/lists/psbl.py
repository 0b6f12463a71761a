"""Passive Spam Block List (https://psbl.org/)."""

from .profile import ListProfile

PROFILE = ListProfile(
    name="psbl",
    zone="psbl.surriel.com",
    kind="ip",
    tier="minor",
    delist_url="https://psbl.org/remove",
    codes={"127.0.0.2": "spamtrap-hits"},
    description="Passive Spam Block List",
)
