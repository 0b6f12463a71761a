"""allowed_targets matching and target host extraction."""

from __future__ import annotations

import pytest

from infrawatch.probe.allowlist import AllowList, TargetError, target_host


@pytest.mark.parametrize(
    ("target", "host"),
    [
        ("https://API.example.com:8443/health?x=1", "api.example.com"),
        ("http://[::1]:8080/", "::1"),
        ("example.com:443", "example.com"),
        ("[2001:db8::1]:53", "2001:db8::1"),
        ("10.1.2.3", "10.1.2.3"),
        ("::1", "::1"),
        ("mail.example.com", "mail.example.com"),
        ("postgres://user@db.internal:5432/app", "db.internal"),
    ],
)
def test_target_host(target: str, host: str) -> None:
    assert target_host(target) == host


@pytest.mark.parametrize(
    "target",
    [
        "",
        " example.com",
        "exa mple.com",
        "http://",
        "http://[::1",
        "host:99999",
        "host:abc",
        "http://exa$mple.com/",
        "a..b",
        "x\n",
    ],
)
def test_malformed_targets(target: str) -> None:
    with pytest.raises(TargetError):
        target_host(target)


def test_allowlist_matching() -> None:
    a = AllowList(["*.example.com", "10.0.0.0/8", "192.0.2.7", "::1", "Exact.Host"])
    assert a.allows("api.example.com") and a.allows("a.b.example.com")
    assert not a.allows("example.com") and not a.allows("evil-example.com")
    assert a.allows("10.200.0.1") and not a.allows("11.0.0.1")
    assert a.allows("192.0.2.7") and not a.allows("192.0.2.8")
    assert a.allows("::1") and not a.allows("::2")
    assert a.allows("exact.host")
    assert AllowList(["*"]).allows("anything.at.all") and AllowList(["*"]).allows("8.8.8.8")
    assert not AllowList([]).allows("127.0.0.1")


@pytest.mark.parametrize("entry", ["http://x", "10.0.0.0/33", "bad host", "a/b"])
def test_bad_allowlist_entries(entry: str) -> None:
    with pytest.raises(ValueError) as exc:
        AllowList(["ok.example", entry])
    assert exc.value.index == 1  # type: ignore[attr-defined]


def test_target_without_scheme_is_an_http_url_as_in_blackbox() -> None:
    assert target_host("example.com/path") == "example.com"
    assert target_host("127.0.0.1:8080/health?x=1") == "127.0.0.1"
