"""One IPv6-correct host:port parser for every place that reads one (listen addresses, probe
targets, the reputation exporter's nameservers)."""

from __future__ import annotations

import pytest

from infrawatch.core.hostport import HostPortError, join_host_port, split_host_port
from infrawatch.core.server import parse_listen
from infrawatch.probe.allowlist import target_host
from infrawatch.probe.net.dial import split_host_port as probe_target
from infrawatch.reputation.config import load_config_text

GOOD = [
    ("127.0.0.1:53", None, ("127.0.0.1", 53)),
    ("ns.example.org:5353", None, ("ns.example.org", 5353)),
    ("[::1]:53", None, ("::1", 53)),
    ("[2001:db8::53]:5300", None, ("2001:db8::53", 5300)),
    ("::1", 53, ("::1", 53)),  # a bare IPv6 address takes the default port
    ("2001:db8::53", 53, ("2001:db8::53", 53)),
    ("[::1]", 53, ("::1", 53)),
    ("ns.example.org", 53, ("ns.example.org", 53)),
    (":9516", None, ("", 9516)),
]
BAD = [
    ("::1", None),  # no port, and ``::1`` is not host ``:`` port 1
    ("2001:db8::1:80", None),
    ("host:0", None),
    ("host:65536", None),
    ("host:", 53),
    ("[::1]x", 53),
    ("[nothost]:53", None),
    ("[::1", 53),
    ("a b:53", None),
    ("", 53),
]


@pytest.mark.parametrize(("text", "default", "want"), GOOD)
def test_split(text: str, default: int | None, want: tuple[str, int]) -> None:
    assert split_host_port(text, default) == want
    if want[0]:
        assert split_host_port(join_host_port(*want)) == want


@pytest.mark.parametrize(("text", "default"), BAD)
def test_split_refuses(text: str, default: int | None) -> None:
    with pytest.raises(HostPortError):
        split_host_port(text, default)


def test_nameserver_ipv6_without_port_is_port_53() -> None:
    """Regression: the nameserver ``"::1"`` was split at its last colon into ``(':', 1)`` and accepted."""
    text = 'resolver:\n  nameservers: ["::1", "[::1]:5353", "127.0.0.1"]\nlists:\n  - name: spamhaus-zen\n'
    loaded = load_config_text(text)
    assert loaded.raw.resolver.addresses() == [("::1", 53), ("::1", 5353), ("127.0.0.1", 53)]


def test_the_three_call_sites_agree() -> None:
    assert parse_listen("[::1]:0") == ("::1", 0)
    assert parse_listen(":9516") == ("0.0.0.0", 9516)
    assert probe_target("[::1]:6379") == ("::1", 6379) == probe_target("::1", 6379)
    assert probe_target("redis://[::1]:6379/") == ("::1", 6379)
    assert probe_target("::1") is None  # tcp targets need a port
    assert target_host("[::1]:80") == "::1" == target_host("::1")
