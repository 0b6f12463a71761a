"""Table-driven checks over every built-in DNSBL profile in ``reputation/lists/``: one file per
profile, registered once, whose codes can become ``reputation_listing_info`` labels."""

from __future__ import annotations

import importlib
import ipaddress
import re
from pathlib import Path

import pytest

from infrawatch.core.labels import LABEL_NAME
from infrawatch.reputation import families, lists
from infrawatch.reputation.lists import GLOBAL_ERROR_CODES, PROFILES, ListProfile

ITEMS = sorted(PROFILES.items())
ZONE = re.compile(r"^([a-z0-9-]+\.)+[a-z]{2,}$")


@pytest.mark.parametrize(("key", "profile"), ITEMS, ids=[k for k, _ in ITEMS])
def test_profile(key: str, profile: ListProfile) -> None:
    assert key == profile.name
    assert ZONE.match(profile.zone), profile.zone
    assert profile.kind in ("ip", "domain") and profile.tier in ("major", "minor")
    assert profile.delist_url.startswith("https://")
    assert profile.description
    assert profile.test_listed and profile.test_clean and profile.test_listed != profile.test_clean
    for code in [*profile.codes, *profile.error_codes]:
        assert ipaddress.ip_address(code) in ipaddress.ip_network("127.0.0.0/8"), code
    for code, category in profile.codes.items():
        # a listing code is never an error code, and its category is a short label value
        assert code not in GLOBAL_ERROR_CODES and code not in profile.error_codes, code
        assert category and len(category) <= 64 and not any(c.isspace() for c in category), category
    if profile.dqs_zone:
        assert ZONE.match(profile.dqs_zone)
    assert profile.daily_query_budget >= 0


def test_one_file_per_profile_and_each_registered() -> None:
    folder = Path(lists.__file__).parent
    declared = {}
    for path in sorted(folder.glob("*.py")):
        if path.stem in ("__init__", "profile"):
            continue
        module = importlib.import_module(f"infrawatch.reputation.lists.{path.stem}")
        declared[path.stem] = module.PROFILE
    assert sorted(p.name for p in declared.values()) == sorted(PROFILES)
    assert all(PROFILES[p.name] is p for p in declared.values())


def test_zones_are_unique() -> None:
    zones = [p.zone for p in PROFILES.values()]
    assert len(zones) == len(set(zones))


def test_listing_info_labels_are_what_the_profiles_fill() -> None:
    assert families.LISTING_INFO.labels == ("target", "list", "code", "category")
    assert all(LABEL_NAME.match(label) for fam in families.FAMILIES for label in fam.labels)
