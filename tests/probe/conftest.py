"""Fixtures for the probe exporter tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.probeutil import Targets
from support.tls import Certs, ServerThread


@pytest.fixture(scope="session")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    """Plain HTTP (127.0.0.1 and ::1) and HTTPS servers, one per certificate kind."""
    servers = ServerThread()
    certs = Certs(tmp_path_factory.mktemp("certs"))
    try:
        yield Targets(servers, certs)
    finally:
        servers.stop()
