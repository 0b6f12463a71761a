"""Re-export of ``infrawatch_dev.devstack.procs`` (moved into the package so ``make demo`` can use it).

The one test-specific difference: ``require_binary`` fails the test (``pytest.fail``) instead of
raising, because a missing binary is an installation bug (scripts/bootstrap installs them), not a
reason to skip.
"""

from __future__ import annotations

import pytest

from infrawatch_dev.devstack.procs import *  # noqa: F403
from infrawatch_dev.devstack.procs import (
    MissingBinary,
    Proc,
    free_port,
    free_udp_port,
    wait_http,
    wait_listening,
    wait_port,
)
from infrawatch_dev.devstack.procs import require_binary as _require_binary

__all__ = [
    "MissingBinary",
    "Proc",
    "free_port",
    "free_udp_port",
    "require_binary",
    "wait_http",
    "wait_listening",
    "wait_port",
]


def require_binary(name: str) -> str:
    try:
        return _require_binary(name)
    except MissingBinary as exc:
        pytest.fail(str(exc))
