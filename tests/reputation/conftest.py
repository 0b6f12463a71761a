from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.dnsbl_zones import standard_zones
from support.rbldnsd import Rbldnsd, start_rbldnsd


@pytest.fixture(scope="module")
def dnsbl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rbldnsd]:
    """rbldnsd serving the standard test zones (tests/reputation/zones.py)."""
    server = start_rbldnsd(Path(tmp_path_factory.mktemp("rbldnsd")), standard_zones())
    yield server
    server.cleanup()
