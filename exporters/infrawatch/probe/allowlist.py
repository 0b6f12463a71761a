"""Which hosts ``/probe`` may reach, and how to find the host in a target string.

``allowed_targets`` entries are hostnames with ``*`` wildcards (``*.example.com``; matched
case-insensitively, ``*`` spans dots), IP addresses, CIDR ranges, or ``"*"`` for anything.  The
check is on the host as written in the target: a name that is allowed may still resolve to any
address, so list names you trust (or only IPs/CIDRs) when the exporter is reachable by others.
Targets of the ``unix`` prober are socket paths (``/run/app.sock``); they are allowed by entries
that are absolute paths, with ``*`` wildcards (``/run/app/*.sock``), or by ``"*"``.
Numeric hosts the resolver reads as IPv4 addresses (``2130706433``, ``0x7f.1``, ``127.1``) are
judged as the address they resolve to.  The same check applies to every redirect hop of a
``/probe`` request (probe.exporter).
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import re
import socket
from urllib.parse import urlsplit

from ..core.hostport import HostPortError, split_host_port

_HOST_RE = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$")
UNIX_PATH_MAX = 107  # sun_path is 108 bytes with the terminating NUL
# inet_aton's forms (1 to 4 parts, decimal, octal or 0x hex), which getaddrinfo resolves locally.
_NUMERIC_RE = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)
_PATTERN_RE = re.compile(r"^[A-Za-z0-9_*]([A-Za-z0-9_.*-]*[A-Za-z0-9_.*])?$")


class TargetError(ValueError):
    """The target string cannot be probed (reported as 400 on /probe)."""


@functools.lru_cache(maxsize=4096)
def target_host(target: str) -> str:
    """The host part of ``https://host:port/path``, ``host:port``, ``[v6]:port`` or ``host``."""
    if not target or target != target.strip() or any(c.isspace() or ord(c) < 32 for c in target):
        raise TargetError(f"malformed target {target!r}: empty or contains whitespace/control characters")
    if len(target) > 2048:
        raise TargetError("malformed target: longer than 2048 characters")
    if target.startswith("/"):  # a unix socket path (the unix prober); the path is the "host"
        if len(target.encode()) > UNIX_PATH_MAX:
            raise TargetError(f"malformed target {target!r}: a unix socket path has at most {UNIX_PATH_MAX} bytes")
        return target
    if "://" in target:
        try:
            parts = urlsplit(target)
            port = parts.port
        except ValueError as exc:
            raise TargetError(f"malformed target URL {target!r}: {exc}") from None
        if not parts.hostname:
            raise TargetError(f"malformed target URL {target!r}: no host")
        if port == 0:
            raise TargetError(f"malformed target URL {target!r}: port 0")
        host = parts.hostname
    elif "/" in target or "?" in target:
        # blackbox's http prober probes a target without a scheme as http://
        return target_host("http://" + target)
    else:
        if "@" in target:
            raise TargetError(f"malformed target {target!r}: user info needs a scheme (http://...)")
        try:
            host, _ = split_host_port(target, default_port=0)  # host, [v6], host:port, [v6]:port, bare v6
        except HostPortError as exc:
            raise TargetError(f"malformed target {target!r}: {exc}") from None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if _NUMERIC_RE.match(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            raise TargetError(f"malformed target {target!r}: invalid IPv4 address {host!r}") from None
    if not _HOST_RE.match(host) or ".." in host or len(host) > 253:
        raise TargetError(f"malformed target {target!r}: invalid host name {host!r}")
    return host.lower().rstrip(".")


class AllowList:
    """Parsed ``allowed_targets``; raises ``ValueError`` (with ``.index``) for a bad entry."""

    def __init__(self, entries: list[str]):
        self.entries = list(entries)
        self.all = False
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.patterns: list[str] = []
        self.paths: list[str] = []  # unix socket path patterns
        for i, raw in enumerate(entries):
            entry = raw.strip().lower()
            if entry == "*":
                self.all = True
                continue
            if raw.strip().startswith("/"):
                self.paths.append(raw.strip())
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            if "/" in entry or not _PATTERN_RE.match(entry):
                err = ValueError(
                    f"invalid allowed_targets entry {raw!r}: expected a host name (with * "
                    'wildcards), an IP address, a CIDR range or "*"'
                )
                err.index = i  # type: ignore[attr-defined]
                raise err
            self.patterns.append(entry.rstrip("."))
        self._cache: dict[str, bool] = {}

    def allows(self, host: str) -> bool:
        if self.all:
            return True
        hit = self._cache.get(host)
        if hit is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            hit = self._cache[host] = self._allows(host)
        return hit

    def _allows(self, host: str) -> bool:
        if host.startswith("/"):
            return any(fnmatch.fnmatchcase(host, p) for p in self.paths)
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            host = host.lower()
            return any(fnmatch.fnmatchcase(host, p) for p in self.patterns)
        return any(ip.version == net.version and ip in net for net in self.networks)
