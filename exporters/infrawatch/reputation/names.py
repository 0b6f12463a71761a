"""DNSBL query names: reversed IPv4 octets, IPv6 nibbles (RFC 5782 §2.4), domains as they are."""

from __future__ import annotations

import ipaddress
import re


def reverse_ip(address: str) -> str:
    """``192.0.2.1`` -> ``1.2.0.192``; ``2001:db8::1`` -> 32 nibbles, least significant first."""
    ip = normalize_ip(address)
    if ip.version == 4:
        return ".".join(reversed(str(ip).split(".")))
    return ".".join(reversed(ip.exploded.replace(":", "")))


def normalize_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """IPv4-mapped IPv6 (``::ffff:192.0.2.1``) is the IPv4 address: lists index it as such."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def query_name(target: str, kind: str, zone: str) -> str:
    if kind == "ip":
        return f"{reverse_ip(target)}.{zone}"
    return f"{target.rstrip('.').lower()}.{zone}"


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z][a-z0-9-]{0,62}")


def to_ascii_domain(value: str) -> str | None:
    """An IDN (IDNA 2008, UTS #46 mapping) or ASCII domain in its A-label form; None if invalid."""
    import idna

    v = value.rstrip(".")
    try:
        ascii_name = idna.encode(v, uts46=True).decode("ascii") if not v.isascii() else v.lower()
    except (idna.IDNAError, UnicodeError):
        return None
    if not _DOMAIN.fullmatch(ascii_name):
        return None
    return ascii_name
