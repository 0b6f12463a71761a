"""SpamCop Blocking List (https://www.spamcop.net/bl.shtml)."""

from .profile import ListProfile

PROFILE = ListProfile(
    name="spamcop",
    zone="bl.spamcop.net",
    kind="ip",
    tier="minor",
    delist_url="https://www.spamcop.net/bl.shtml",
    codes={"127.0.0.2": "spam-reports"},
    description="SpamCop; listings expire 24 hours after the last report",
)
