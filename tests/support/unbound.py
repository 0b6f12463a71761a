"""A real recursive resolver: Debian's ``unbound`` on a free loopback port, started and stopped by PID.

    with Unbound(tmp_path, stubs={"zen.test": rbldnsd.address}, local_data=[...]) as ns:
        ns.address  -> "127.0.0.1:PORT"

``stubs`` sends each zone to an authoritative server (rbldnsd) as an operator's unbound forwards
the DNSBL zones to a local mirror; ``local_data`` adds records unbound serves itself (e.g. a TXT
too large for a 512-byte UDP reply, which unbound then truncates for a client without EDNS: the
real-resolver case of issue 14).  No DNSSEC validation (the test zones are unsigned), no remote
control, no daemonising, logs to ``unbound.log``.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from support.procs import Proc, free_udp_port, require_binary


class Unbound:
    def __init__(
        self,
        workdir: Path,
        stubs: dict[str, str] | None = None,
        local_zones: list[str] | None = None,
        local_data: list[str] | None = None,
        host: str = "127.0.0.1",
    ):
        self.binary = require_binary("unbound")
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = free_udp_port(host)
        self.stubs = stubs or {}
        self.local_zones = local_zones or []
        self.local_data = local_data or []
        self.proc: Proc | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def config_text(self) -> str:
        lines = [
            "server:",
            f"  interface: {self.host}",
            f"  port: {self.port}",
            "  do-ip6: no",
            "  do-daemonize: no",
            "  use-syslog: no",
            f'  logfile: "{self.workdir / "unbound.log"}"',
            '  chroot: ""',
            '  username: ""',
            f'  directory: "{self.workdir}"',
            f'  pidfile: "{self.workdir / "unbound.pid"}"',
            "  num-threads: 1",
            "  access-control: 127.0.0.0/8 allow",
            "  do-not-query-localhost: no",
            '  module-config: "iterator"',
            "  qname-minimisation: no",
            '  local-zone: "test." nodefault',
            '  domain-insecure: "test."',
            "  verbosity: 1",
        ]
        for z in self.local_zones:
            lines.append(f'  local-zone: "{z}." static')
        for d in self.local_data:
            lines.append(f"  local-data: '{d}'")
        lines += ["remote-control:", "  control-enable: no"]
        for zone, addr in self.stubs.items():
            host, port = addr.rsplit(":", 1)
            lines += ["stub-zone:", f'  name: "{zone}."', f"  stub-addr: {host}@{port}"]
        return "\n".join(lines) + "\n"

    def start(self) -> Unbound:
        conf = self.workdir / "unbound.conf"
        conf.write_text(self.config_text())
        self.proc = Proc([self.binary, "-d", "-c", str(conf)], self.workdir / "unbound.stdout")
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 15.0) -> None:
        assert self.proc is not None
        query = b"\x43\x21\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x09localhost\x00\x00\x01\x00\x01"
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            while time.monotonic() < deadline:
                if not self.proc.alive():
                    raise RuntimeError(f"unbound exited: {self.proc.log()}{self.log()}")
                try:
                    s.sendto(query, (self.host, self.port))
                    if s.recv(512)[:2] == b"\x43\x21":
                        return
                except OSError:
                    time.sleep(0.05)
        raise TimeoutError(f"unbound did not answer on {self.address}: {self.log()}")

    def log(self) -> str:
        try:
            return (self.workdir / "unbound.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def __enter__(self) -> Unbound:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
