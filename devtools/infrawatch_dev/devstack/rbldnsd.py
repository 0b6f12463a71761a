"""A real DNSBL server: rbldnsd (Debian package) on a free loopback UDP port.

    zones = [Zone("zen.test", "ip4set", ["127.0.0.2", "192.0.2.1 :127.0.0.3:CSS listing"]),
             Zone("dbl.test", "dnset", ["test", "spam.example :127.0.1.2:spam domain"])]
    with start_rbldnsd(tmp_path, zones) as dnsbl:       # or dnsbl = start_rbldnsd(...); dnsbl.stop()
        dnsbl.address  -> "127.0.0.1:PORT"

A zone may be given several times (several datasets make one zone: every matching dataset adds
an A record, which is how tests get answers with several A records).  ``Zone(..., "acl", [...])``
adds an ACL dataset (e.g. ``["0/0 :refuse"]`` answers REFUSED to everyone).  The process is
stopped by its PID; ``cleanup()`` also removes the zone files.

``update(zones)`` rewrites the zone files and sends SIGHUP (rbldnsd reloads changed files; the PID
stays the same); ``reload(zones)`` restarts the process instead (any change of the zone list).

Ready-made data: ``zones_from_datasets(dir)`` for a ``datasets.txt`` directory such as
``examples/demo-dnsbl/`` (the demo's zones); the tests' ``support.dnsbl_zones.standard_zones()``
(listed, clean, multi-record, every error code, wildcard, dead, blocked and REFUSED lists, IPv6, domains).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .procs import Proc, free_udp_port, require_binary


@dataclass
class Zone:
    name: str  # zone base name, e.g. "zen.test"
    dataset: str  # ip4set | ip4trie | ip6trie | ip6tset | dnset | generic | acl | combined
    lines: list[str] = field(default_factory=list)
    soa: bool = True  # add a $SOA so negative answers carry a TTL (not for acl datasets)


class Rbldnsd:
    def __init__(self, workdir: Path, zones: list[Zone], ttl: int = 60, host: str = "127.0.0.1"):
        self.binary = require_binary("rbldnsd")
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = free_udp_port(host)
        self.zones = zones
        self.ttl = ttl
        self.proc: Proc | None = None
        # rbldnsd drops privileges to its own user (when started as root), which cannot read
        # pytest's private tmp dirs: zone files live in a world-readable directory of their own.
        self.datadir = Path(tempfile.mkdtemp(prefix="rbldnsd-"))
        os.chmod(self.datadir, 0o755)

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def _specs(self) -> list[str]:
        specs = []
        for i, z in enumerate(self.zones):
            fname = f"{i:02d}-{re.sub(r'[^a-zA-Z0-9.-]', '_', z.name)}-{z.dataset}.zone"
            body = list(z.lines)
            if z.soa and z.dataset != "acl":
                body.insert(0, f"$SOA {self.ttl} ns.{z.name}. hostmaster.{z.name}. 1 600 600 86400 {self.ttl}")
            path = self.datadir / fname
            path.write_text("\n".join(body) + "\n")
            os.chmod(path, 0o644)
            specs.append(f"{z.name}:{z.dataset}:{fname}")
        return specs

    def start(self) -> Rbldnsd:
        # Without -q, rbldnsd loads the zones before answering and exits on a bad zone file.
        argv = [
            self.binary,
            "-n",
            "-e",
            "-t",
            str(self.ttl),
            "-c",
            "0",
            "-b",
            f"{self.host}/{self.port}",
            "-w",
            str(self.datadir),
            *self._specs(),
        ]
        self.proc = Proc(argv, self.workdir / "rbldnsd.log")
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 15.0) -> None:
        """Poll with a real DNS query (SOA-less version.bind CH TXT works on any rbldnsd)."""
        assert self.proc is not None
        query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07version\x04bind\x00\x00\x10\x00\x03"
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        deadline = time.monotonic() + timeout
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            while time.monotonic() < deadline:
                if not self.proc.alive():
                    raise RuntimeError(f"rbldnsd exited: {self.proc.log()}")
                try:
                    s.sendto(query, (self.host, self.port))
                    if s.recv(512)[:2] == b"\x12\x34":
                        return
                except OSError:
                    time.sleep(0.05)
        raise TimeoutError(f"rbldnsd did not answer on {self.address}: {self.proc.log()}")

    def update(self, zones: list[Zone]) -> None:
        """Rewrite the zone files and SIGHUP rbldnsd (same process).  Same zones and datasets, new lines.

        rbldnsd reloads a file whose modification time changed; the times are moved forward so that
        a rewrite within the same second as the previous one is still seen.
        """
        if [(z.name, z.dataset) for z in zones] != [(z.name, z.dataset) for z in self.zones]:
            raise ValueError("update() keeps the zone list; use reload() to add or remove zones")
        if self.proc is None or not self.proc.alive():
            raise RuntimeError("rbldnsd is not running")
        old = {p: p.stat().st_mtime for p in self.datadir.iterdir()}
        self.zones = zones
        self._specs()
        for path, mtime in old.items():
            newer = max(time.time(), mtime + 1)
            os.utime(path, (newer, newer))
        self.proc.signal(signal.SIGHUP)
        self._wait_ready()

    def reload(self, zones: list[Zone]) -> None:
        """Rewrite the zone files and restart (rbldnsd is started with automatic reload off)."""
        self.stop()
        self.zones = zones
        self.start()

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)

    def __enter__(self) -> Rbldnsd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def start_rbldnsd(workdir: Path, zones: list[Zone], ttl: int = 60, host: str = "127.0.0.1") -> Rbldnsd:
    return Rbldnsd(workdir, zones, ttl=ttl, host=host).start()


def closed_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nothing listens on (queries to it time out): for timeout tests."""
    return free_udp_port(host)


def zones_from_datasets(directory: Path) -> list[Zone]:
    """Zones described by a ``datasets.txt`` (``zone:type:file`` lines), e.g. examples/demo-dnsbl/."""
    zones = []
    for line in (directory / "datasets.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, dataset, files = line.split(":", 2)
        lines: list[str] = []
        for f in files.split(","):
            lines += (directory / f).read_text().splitlines()
        zones.append(Zone(name, dataset, lines, soa=False))
    return zones
