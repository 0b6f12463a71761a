"""A real PostgreSQL for tests: initdb into a temp dir, postgres on a free loopback port, a password user.

``postgres_server`` is session-scoped (starts once, ~2 s).  PostgreSQL refuses to run as root, so
when the tests run as root the cluster is owned by and run as the ``postgres`` system user (created
by the Debian package) through ``setpriv``, which execs in place: the PID we stop is postgres itself.
``start_postgres(...)`` starts an extra cluster (e.g. with TLS).  Registered through
``pytest_plugins`` in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.procs import Proc, free_port, wait_port

SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "pg-super-pw"
PROBE_USER = "probe"
PROBE_PASSWORD = "pg-probe-pw"
PROBE_DATABASE = "probe"


def _pg_bin(name: str) -> str:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / name).exists():
            return str(d / name)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found; run scripts/bootstrap (make setup) to install postgresql")
    return found


def _as_owner() -> tuple[list[str], int | None, int | None]:
    """Command prefix that runs PostgreSQL binaries as a non-root user, plus that uid/gid."""
    if os.geteuid() != 0:
        return [], None, None
    pw = pwd.getpwnam("postgres")
    return (["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"], pw.pw_uid, pw.pw_gid)


@dataclass
class PostgresServer:
    host: str
    port: int
    dir: Path
    superuser: str = SUPERUSER
    superuser_password: str = SUPERUSER_PASSWORD
    user: str = PROBE_USER
    password: str = PROBE_PASSWORD
    database: str = PROBE_DATABASE
    proc: Proc | None = field(default=None, repr=False)

    @property
    def socket_dir(self) -> Path:
        return self.dir / "sock"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the Unix socket (trust auth), return stdout."""
        prefix, _, _ = _as_owner()
        out = subprocess.run(
            [
                *prefix,
                _pg_bin("psql"),
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                self.superuser,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atqc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout.strip()

    def stop(self) -> None:
        if self.proc is not None and self.proc.alive():
            # SIGINT = "fast" shutdown: does not wait for clients to disconnect (SIGTERM would).
            self.proc.signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.proc.wait(15)
        if self.proc is not None:
            self.proc.stop()


def start_postgres(
    workdir: Path, *, ssl_cert: Path | None = None, ssl_key: Path | None = None, settings: dict[str, str] | None = None
) -> PostgresServer:
    """initdb + start PostgreSQL on 127.0.0.1:<free port>; creates user/database ``probe``.

    Host connections need a password (scram-sha-256); with ``ssl_cert``/``ssl_key`` the server
    also accepts TLS (files are copied into the data dir with the permissions postgres demands).
    """
    prefix, uid, gid = _as_owner()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "sock").mkdir(exist_ok=True)
    pwfile = workdir / "superuser.pw"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    if uid is not None:
        for p in (workdir, workdir / "sock", pwfile):
            os.chown(p, uid, gid)
    data = workdir / "data"
    subprocess.run(
        [
            *prefix,
            _pg_bin("initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    conf = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{workdir / 'sock'}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "16MB",
        "max_connections": "50",
        "logging_collector": "off",
    }
    if ssl_cert and ssl_key:
        shutil.copy(ssl_cert, data / "server.crt")
        shutil.copy(ssl_key, data / "server.key")
        os.chmod(data / "server.key", 0o600)
        if uid is not None:
            os.chown(data / "server.crt", uid, gid)
            os.chown(data / "server.key", uid, gid)
        conf.update({"ssl": "on", "ssl_cert_file": "'server.crt'", "ssl_key_file": "'server.key'"})
    conf.update(settings or {})
    with open(data / "postgresql.conf", "a") as f:
        f.write("\n# infrawatch tests\n" + "".join(f"{k} = {v}\n" for k, v in conf.items()))
    proc = Proc([*prefix, _pg_bin("postgres"), "-D", str(data)], workdir / "postgres.log")
    server = PostgresServer("127.0.0.1", port, workdir, proc=proc)
    try:
        wait_port("127.0.0.1", port, proc=proc.proc, timeout=60)
        server.psql(f"CREATE ROLE {PROBE_USER} LOGIN PASSWORD '{PROBE_PASSWORD}'")
        server.psql(f"CREATE DATABASE {PROBE_DATABASE} OWNER {PROBE_USER}")
    except Exception:
        server.stop()
        raise RuntimeError(f"postgres did not start:\n{proc.log()}") from None
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL 15 cluster for the session; user/database ``probe`` with a password."""
    # Not tmp_path_factory: that tree is mode 0700 for root, which the postgres user cannot enter.
    d = Path(tempfile.mkdtemp(prefix="infrawatch-pg-"))
    try:
        server = start_postgres(d)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


# What the dashboards' statement panels need from the server (deploy/postgres/queries.yaml).
PG_STAT_STATEMENTS = {"shared_preload_libraries": "'pg_stat_statements'"}


class Workload:
    """A steady workload in ``database`` until ``stop()``: every round a slow statement
    (``pg_sleep(SLEEP_SECONDS)``), a sequential scan of ``iw_events`` (no index) and a primary-key
    lookup in ``iw_orders`` (an index scan; the larger table).  Statements go through psql in one
    string, which pg_stat_statements still counts one by one."""

    SLEEP_SECONDS = 0.2
    ROUND = (
        f"SELECT pg_sleep({SLEEP_SECONDS}); "
        "SELECT count(*) FROM iw_events WHERE kind = 'click'; "
        "SELECT note FROM iw_orders WHERE id = 4242;"
    )

    def __init__(self, server: PostgresServer, database: str = "postgres", pause: float = 0.3) -> None:
        import threading

        self.server, self.database, self.pause = server, database, pause
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-workload", daemon=True)

    def start(self) -> Workload:
        self.server.psql(
            "CREATE TABLE iw_orders (id int PRIMARY KEY, customer int, note text); "
            "INSERT INTO iw_orders SELECT g, g % 97, repeat('x', 100) FROM generate_series(1, 20000) g; "
            "CREATE TABLE iw_events (kind text, at timestamptz DEFAULT now()); "
            "INSERT INTO iw_events (kind) SELECT CASE WHEN g % 3 = 0 THEN 'click' ELSE 'view' END "
            "FROM generate_series(1, 2000) g; "
            "ANALYZE iw_orders; ANALYZE iw_events;",
            self.database,
        )
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.server.psql(self.ROUND, self.database)
                self.rounds += 1
            except subprocess.SubprocessError:
                if self._stop.is_set():
                    return
            self._stop.wait(self.pause)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
