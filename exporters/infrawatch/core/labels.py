"""Prometheus label names: the one regexp and the check every loader uses."""

from __future__ import annotations

import re

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def label_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a user-set label name (``__`` names are Prometheus' own), or None."""
    if not LABEL_NAME.match(name) or name.startswith("__"):
        return f"invalid Prometheus label name {name!r}"
    return None
