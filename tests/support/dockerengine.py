"""A Docker engine for tests/deploy/test_compose.py: the one already running, or Debian's ``dockerd``
(package docker.io) started by the test and stopped by its PID.

No container registry is reachable from these machines, so the images the compose stack names
(``python:3.11-slim``, ``prom/prometheus``, ``prom/alertmanager``) cannot be pulled.  The stand-in is
one local base image: a Debian bookworm root filesystem made with ``debootstrap`` from Debian's
package mirror (Python 3 with pip, Debian's Prometheus, Alertmanager, VictoriaMetrics, node/postgres/redis
exporters, PostgreSQL and Redis), imported with
``docker import``.  Its data root lives in a cache directory, so the base image is made once per
machine.  Every function returns or raises with the reason something cannot run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# The tag names what is in it: a new package list needs a new tag (the old image is not rebuilt).
BASE_IMAGE = "infrawatch-test/debian-base:bookworm-vm-exporters"
BASE_PACKAGES = ",".join(
    [
        "python3,python3-pip,python3-venv,ca-certificates",
        "prometheus,prometheus-alertmanager,victoria-metrics",
        # the compose stack's exporters and the databases they read (stand-ins for their upstream images)
        "prometheus-node-exporter,prometheus-postgres-exporter,prometheus-redis-exporter,postgresql,redis-server",
    ]
)
DEBIAN_MIRROR = "http://deb.debian.org/debian"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", "/var/tmp")) / "infrawatch-test-docker"


class EngineUnavailable(RuntimeError):
    """Why no engine (or no base image) can be had here; the test skips with this text."""


@dataclass
class Engine:
    host: str  # DOCKER_HOST value
    proc: subprocess.Popen | None = None  # the dockerd we started, if any
    log: Path | None = None
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host}

    def docker(self, *args: str, timeout: float = 600, check: bool = True, **kw) -> subprocess.CompletedProcess:
        r = subprocess.run(["docker", *args], capture_output=True, text=True, env=self.env, timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args[:3])} ...: exit {r.returncode}: {r.stderr[-2000:]}")
        return r

    def stop(self) -> None:
        """Stop the dockerd we started (SIGTERM by PID; it stops its containerd and containers)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._tmp is not None:
            # dockerd leaves its network namespace bind-mounted under its exec root: unmount what
            # is mounted below our own directory, then remove it.
            root = self._tmp.name
            for line in Path("/proc/self/mounts").read_text().splitlines():
                target = line.split()[1]
                if target.startswith(root + "/"):
                    subprocess.run(["umount", "-l", target], capture_output=True, timeout=30)
            self._tmp.cleanup()


def _answers(host: str) -> str | None:
    """None when ``docker info`` answers on ``host``, else its last error line."""
    r = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_HOST": host},
        timeout=60,
    )
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or ["docker info failed"])[-1]


def start_engine() -> Engine:
    """The running engine (``DOCKER_HOST`` or the default socket), else our own ``dockerd``."""
    if not shutil.which("docker"):
        raise EngineUnavailable("the docker CLI is not installed (scripts/bootstrap installs docker.io)")
    for host in [os.environ.get("DOCKER_HOST", ""), "unix:///var/run/docker.sock"]:
        if host and _answers(host) is None:
            return Engine(host)
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
    if not dockerd:
        raise EngineUnavailable("no engine answers and dockerd is not installed (Debian package docker.io)")
    if os.geteuid() != 0:
        raise EngineUnavailable("no engine answers, and starting dockerd needs root")
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.TemporaryDirectory(prefix="iw-dockerd-")
    run = Path(tmp.name)
    log = CACHE / "dockerd.log"
    host = f"unix://{run}/docker.sock"
    proc = subprocess.Popen(
        [
            dockerd,
            f"--data-root={CACHE / 'data'}",
            f"--exec-root={run / 'exec'}",
            f"--pidfile={run / 'docker.pid'}",
            f"--host={host}",
        ],
        stdout=open(log, "ab"),  # noqa: SIM115 - the child keeps it
        stderr=subprocess.STDOUT,
    )
    engine = Engine(host, proc, log, tmp)
    deadline = time.monotonic() + 60
    while (why := _answers(host)) is not None:
        if proc.poll() is not None or time.monotonic() > deadline:
            engine.stop()
            tail = log.read_text(errors="replace").splitlines()[-5:]
            raise EngineUnavailable(f"dockerd did not come up ({why}); log: {' | '.join(tail)}")
        time.sleep(0.5)
    return engine


def ensure_base_image(engine: Engine) -> str:
    """``BASE_IMAGE``, made with debootstrap and ``docker import`` when the engine lacks it."""
    if engine.docker("image", "inspect", BASE_IMAGE, check=False).returncode == 0:
        return BASE_IMAGE
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if not debootstrap:
        raise EngineUnavailable("no base image and no debootstrap to make one (Debian package debootstrap)")
    rootfs = CACHE / "rootfs"
    if rootfs.exists():
        shutil.rmtree(rootfs)
    r = subprocess.run(
        [debootstrap, "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm", str(rootfs), DEBIAN_MIRROR],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if r.returncode != 0:
        raise EngineUnavailable(f"debootstrap failed (exit {r.returncode}): {r.stdout[-500:]} {r.stderr[-500:]}")
    try:
        import_rootfs(engine, rootfs)
    finally:
        shutil.rmtree(rootfs)
    return BASE_IMAGE


def import_rootfs(engine: Engine, rootfs: Path) -> None:
    """Make ``rootfs`` (a debootstrap root) the base image."""
    # As python:3.11-slim: pip may install into the system Python (no PEP 668 marker), and the
    # host's CA bundle so pip in the build trusts what the host trusts.
    for marker in rootfs.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", rootfs / "etc/ssl/certs/ca-certificates.crt")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imp = subprocess.run(
        ["docker", "import", "-", BASE_IMAGE], stdin=tar.stdout, capture_output=True, env=engine.env, timeout=900
    )
    tar.wait()
    if imp.returncode != 0:
        raise EngineUnavailable(f"docker import of the debootstrap root failed: {imp.stderr[-500:]!r}")
