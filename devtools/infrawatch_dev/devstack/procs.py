"""Start real servers on free loopback ports; stop exactly those processes by PID."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP (DNS servers listen on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free UDP+TCP port")


class MissingBinary(RuntimeError):
    """A program the stack needs is not installed (scripts/bootstrap installs all of them)."""


def require_binary(name: str) -> str:
    """Path of the program ``name`` (PATH, then /usr/sbin and /sbin: rbldnsd); MissingBinary if absent."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin") or (name if os.path.isfile(name) else None)
    if not path:
        raise MissingBinary(f"{name} not found; run scripts/bootstrap (make setup) to install it")
    return path


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None, expect: int | None = 200) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if expect is None or r.status == expect:
                    return
        except urllib.error.HTTPError as e:
            if expect is None or e.code == expect:
                return
            last = str(e)
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last}")


def wait_port(host: str, port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {host}:{port} opened")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {timeout}s")


class Proc:
    """A child process with its log file; ``stop()`` signals this PID only."""

    def __init__(self, argv: list[str], log_path: Path, env: dict | None = None, cwd: str | None = None):
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=cwd
        )
        self.pid = self.proc.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def wait_listening(proc: Proc, timeout: float = 30.0) -> str:
    """The first address an infrawatch exporter (or appsim) reports in its JSON "listening" log line.

    The exporters log ``{"event": "listening", "addresses": [...]}`` once their sockets are bound,
    which also tells the port chosen for ``--web.listen-address=127.0.0.1:0``.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in proc.log().splitlines():
            if line.startswith("{") and '"listening"' in line:
                return json.loads(line)["addresses"][0]
        if not proc.alive():
            raise RuntimeError(f"{proc.argv[0]} exited with {proc.proc.returncode}:\n{proc.log()}")
        time.sleep(0.05)
    raise TimeoutError(f"{proc.argv[0]} did not report its address within {timeout}s:\n{proc.log()}")
