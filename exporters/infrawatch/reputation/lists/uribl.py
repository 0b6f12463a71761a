"""URIBL multi: domains in unsolicited mail (https://uribl.com/)."""

from .profile import ListProfile

PROFILE = ListProfile(
    name="uribl",
    zone="multi.uribl.com",
    kind="domain",
    tier="minor",
    delist_url="https://admin.uribl.com/",
    codes={
        "127.0.0.2": "black",
        "127.0.0.4": "grey",
        "127.0.0.6": "black+grey",
        "127.0.0.8": "red",
        "127.0.0.10": "black+red",
        "127.0.0.12": "grey+red",
        "127.0.0.14": "black+grey+red",
    },
    # URIBL answers 127.0.0.1 to queries it refuses (blocked resolver): an error, as everywhere.
    description="URIBL multi (black, grey, red)",
)
