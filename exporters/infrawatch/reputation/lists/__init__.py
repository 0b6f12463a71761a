"""The table of built-in list profiles (one file per list) and the lists we refuse to use.

Adding a list = one file defining ``PROFILE`` plus one entry in ``PROFILES``.
"""

from __future__ import annotations

from . import barracuda, mailspike, psbl, spamcop, spamhaus_dbl, spamhaus_zen, surbl, uceprotect, uribl
from .profile import GLOBAL_ERROR_CODES, ListProfile

PROFILES: dict[str, ListProfile] = {
    p.name: p
    for p in (
        spamhaus_zen.PROFILE,
        spamhaus_dbl.PROFILE,
        barracuda.PROFILE,
        spamcop.PROFILE,
        uceprotect.PROFILE,
        psbl.PROFILE,
        mailspike.PROFILE,
        surbl.PROFILE,
        uribl.PROFILE,
    )
}

# Zone suffix -> why it cannot be used.  Checked against every configured zone.
CLOSED_LISTS: dict[str, str] = {
    "sorbs.net": "SORBS was shut down by its owner (Proofpoint) in 2024; its zones no longer answer "
    "reliably and must not be used",
    "ix.dnsbl.manitu.net": "NiX Spam (ix.dnsbl.manitu.net) closed its public DNSBL in 2023; remove it",
}


# Names people use for those lists (a list entry ``name: sorbs`` without a zone).
CLOSED_NAMES = {
    "sorbs": "sorbs.net",
    "nixspam": "ix.dnsbl.manitu.net",
    "manitu": "ix.dnsbl.manitu.net",
    "ix.dnsbl.manitu.net": "ix.dnsbl.manitu.net",
}


def closed_reason(zone: str) -> str | None:
    z = zone.lower().rstrip(".")
    z = CLOSED_NAMES.get(z, z)
    for suffix, why in CLOSED_LISTS.items():
        if z == suffix or z.endswith("." + suffix):
            return why
    return None


def by_zone(zone: str) -> ListProfile | None:
    z = zone.lower().rstrip(".")
    for p in PROFILES.values():
        if p.zone == z:
            return p
    return None


__all__ = ["CLOSED_LISTS", "GLOBAL_ERROR_CODES", "PROFILES", "ListProfile", "by_zone", "closed_reason"]
