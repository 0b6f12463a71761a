"""``host:port`` parsing, IPv6 correct, for every place that reads one.

Accepted: ``host:port``, ``[v6]:port``, ``1.2.3.4:port``, and with a default port also ``host``,
``1.2.3.4``, ``[v6]`` and a bare IPv6 address (``::1``, ``2001:db8::53``).  A bare IPv6 address
is never split at its last colon: ``::1`` is the host ``::1``, not host ``:`` port 1.
"""

from __future__ import annotations

import ipaddress


class HostPortError(ValueError):
    """Not a host:port; the message says what was expected."""


def split_host_port(text: str, default_port: int | None = None, *, zero_port: bool = False) -> tuple[str, int]:
    """``(host, port)`` with IPv6 brackets removed; raises ``HostPortError``.

    The host may be empty only as ``:port`` (a listen address meaning every interface);
    ``zero_port`` accepts port 0 (a listen address: the kernel picks a free port).
    """
    t = text.strip()
    if not t or any(c.isspace() for c in t) or "/" in t or "@" in t:
        raise HostPortError(f"invalid address {text!r}; expected host:port")
    port_s = ""
    if t.startswith("["):
        end = t.find("]")
        if end < 0:
            raise HostPortError(f"invalid address {text!r}: missing ']'")
        host, rest = t[1:end], t[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise HostPortError(f"invalid address {text!r}; expected [ipv6]:port")
            port_s = rest[1:]
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise HostPortError(f"invalid address {text!r}: {host!r} in brackets is not an IPv6 address") from None
    elif t.count(":") == 1:
        host, port_s = t.split(":")
    elif ":" in t:
        # Several colons without brackets: a bare IPv6 address, which has no port.
        try:
            ipaddress.IPv6Address(t.split("%", 1)[0])
        except ValueError:
            raise HostPortError(f"invalid address {text!r}; write IPv6 with a port as [addr]:port") from None
        host = t
    else:
        host = t
    if port_s or t.endswith(":"):
        if not port_s.isdigit() or not (0 if zero_port else 1) <= int(port_s) < 65536:
            raise HostPortError(f"invalid port in {text!r}; expected {0 if zero_port else 1}-65535")
        port = int(port_s)
    elif default_port is not None:
        port = default_port
    else:
        raise HostPortError(f"invalid address {text!r}; expected host:port")
    return host, port


def join_host_port(host: str, port: int) -> str:
    """The inverse: ``[v6]:port`` for IPv6 hosts."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
