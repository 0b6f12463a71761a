"""DNSBL query names: reversed IPv4 octets, IPv6 nibbles (RFC 5782 §2.4), domains as they are."""

from __future__ import annotations

import ipaddress


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
