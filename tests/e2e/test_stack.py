"""``DevStack`` stops what it started when starting fails half way (here: the probe port is taken)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from infrawatch_dev.devstack.procs import free_port
from infrawatch_dev.devstack.stack import DevStack


def running_with_argument(text: str) -> list[int]:
    """PIDs whose command line contains ``text`` (read from /proc; nothing is signalled)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:  # exited meanwhile
            continue
    return pids


def test_failed_start_stops_what_was_already_started(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        stack = DevStack(tmp_path, probe_listen=f"127.0.0.1:{port}")
        with pytest.raises(RuntimeError, match="exited"):
            stack.start()
    # Started before the probe exporter failed: the fake receivers, rbldnsd and the app.
    assert running_with_argument(str(stack.rbldnsd.datadir)) == []
    assert not stack.rbldnsd.datadir.exists()
    for host, p in [("127.0.0.1", stack.app.port), ("127.0.0.1", stack.pagerduty.port)]:
        with pytest.raises(ConnectionRefusedError), socket.create_connection((host, p), timeout=2):
            pass
