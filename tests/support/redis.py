"""A real redis-server for tests: free loopback port, ``requirepass`` plus an ACL user, stopped by PID.

``redis_server`` (session scope) is the shared instance; ``start_redis(dir, ...)`` starts an extra one
(e.g. with TLS, or one a test may stop).  Both are registered through ``pytest_plugins`` in
tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.procs import Proc, free_port, require_binary, wait_port

DEFAULT_PASSWORD = "redis-default-pw"
ACL_USER = "probe"
ACL_PASSWORD = "redis-probe-pw"


@dataclass
class RedisServer:
    host: str
    port: int
    password: str
    acl_user: str
    acl_password: str
    dir: Path
    tls_port: int | None = None
    proc: Proc | None = field(default=None, repr=False)

    def command(self, *args: str, user: str | None = None, password: str | None = None) -> str:
        """Run one command over a raw RESP connection (no client library), return the reply line."""
        user = user or "default"
        password = password if password is not None else (self.password if user == "default" else self.acl_password)
        parts = [["AUTH", user, password], list(args)]
        with socket.create_connection((self.host, self.port), timeout=5) as s:
            f = s.makefile("rb")
            reply = b""
            for cmd in parts:
                s.sendall(
                    b"*%d\r\n" % len(cmd) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in cmd)
                )
                reply = f.readline()
                if reply.startswith(b"$") and not reply.startswith(b"$-1"):
                    reply = f.readline()
            return reply.decode().strip()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


def start_redis(
    workdir: Path,
    *,
    password: str = DEFAULT_PASSWORD,
    acl_user: str = ACL_USER,
    acl_password: str = ACL_PASSWORD,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    tls_ca: Path | None = None,
    extra: list[str] | None = None,
) -> RedisServer:
    """Start redis-server on 127.0.0.1 with ``requirepass`` and an ACL user.

    With ``tls_cert``/``tls_key`` it also listens with TLS on ``tls_port`` (clients are not asked
    for certificates unless ``tls_ca`` is given).
    """
    binary = require_binary("redis-server")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    lines = [
        "bind 127.0.0.1",
        f"port {port}",
        f"dir {workdir}",
        'save ""',
        "appendonly no",
        "daemonize no",
        "protected-mode yes",
        f"requirepass {password}",
        # An ACL user that may PING and read INFO only: what a monitoring account gets in production.
        f"user {acl_user} on >{acl_password} -@all +ping +info +hello +auth",
    ]
    tls_port = None
    if tls_cert and tls_key:
        tls_port = free_port()
        lines += [f"tls-port {tls_port}", f"tls-cert-file {tls_cert}", f"tls-key-file {tls_key}"]
        if tls_ca:
            lines += [f"tls-ca-cert-file {tls_ca}", "tls-auth-clients optional"]
        else:
            lines += ["tls-auth-clients no"]
    lines += extra or []
    conf = workdir / "redis.conf"
    conf.write_text("\n".join(lines) + "\n")
    proc = Proc([binary, str(conf)], workdir / "redis.log")
    try:
        wait_port("127.0.0.1", port, proc=proc.proc, timeout=20)
    except Exception:
        proc.stop()
        raise RuntimeError(f"redis-server did not start:\n{proc.log()}") from None
    return RedisServer("127.0.0.1", port, password, acl_user, acl_password, workdir, tls_port, proc)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the whole session (password + ACL user ``probe``)."""
    with tempfile.TemporaryDirectory(prefix="infrawatch-redis-") as d:
        server = start_redis(Path(d))
        try:
            yield server
        finally:
            with contextlib.suppress(Exception):
                server.stop()
