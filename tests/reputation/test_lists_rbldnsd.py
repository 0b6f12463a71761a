"""Issue 14, lists: bitmask answers, each profile's own test points, IPv6-only lists, error-code
reasons and first-seen times, against a real rbldnsd."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from infrawatch.reputation.classify import REASONS, code_category
from infrawatch.reputation.config import ConfigError, load_config_text
from infrawatch.reputation.engine import Engine
from infrawatch.reputation.lists import PROFILES
from infrawatch.reputation.metrics import ReputationCollector
from support import dnsbl_zones as z
from support.rbldnsd import Rbldnsd, Zone

SURBL_DOMAINS = {
    "ph.example": ("127.0.0.8", ["phishing"]),
    "phmw.example": ("127.0.0.24", ["malware", "phishing"]),
    "all.example": ("127.0.0.200", ["abuse", "cracked", "phishing"]),  # 8 + 64 + 128 (issue 14: was unknown)
    "retired.example": ("127.0.0.66", ["abuse"]),  # 2 (retired SC bit, ignored) + 64
}
URIBL_DOMAINS = {"black.example": ("127.0.0.2", ["black"]), "bgr.example": ("127.0.0.14", ["black", "grey", "red"])}


def domain_zone(name: str, test_line: str, entries: dict[str, tuple[str, list[str]]], extra: list[str]) -> Zone:
    return Zone(name, "dnset", [test_line, *(f"{d} :{code}:listed" for d, (code, _) in entries.items()), *extra])


@pytest.fixture(scope="module")
def lists_dns(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    zones = [
        domain_zone(
            "surbl.test", "test.surbl.org :127.0.0.254:SURBL test point", SURBL_DOMAINS, ["odd.example :127.0.0.32:"]
        ),
        # the same data, but its test point answers an RFC 5782 127.0.0.2 only: that is not SURBL's documented answer
        domain_zone("surbl-bad.test", "test.surbl.org :127.0.0.2:", SURBL_DOMAINS, []),
        domain_zone(
            "uribl.test", "test.uribl.com :127.0.0.14:URIBL test point", URIBL_DOMAINS, ["blocked.example :127.0.0.1:"]
        ),
        # an IPv6-only list (RFC 5782 §5: ::FFFF:7F00:2 listed, ::FFFF:7F00:1 not)
        Zone("v6only.test", "ip6trie", ["::ffff:7f00:2 :127.0.0.2:v6 test point", f"{z.CSS_V6} :127.0.0.2:v6 listing"]),
        # an IPv6-only list that lists everything: ::FFFF:7F00:1 is listed too, so it must be down
        Zone("v6wild.test", "ip6trie", ["::/0 :127.0.0.2:everything"]),
        # an IPv6-only list that lists ::FFFF:7F00:1 only (the wrong test point): down as well
        Zone("v6swap.test", "ip6trie", ["::ffff:7f00:1 :127.0.0.2:wrong point"]),
        # a plain RFC 5782 domain list (no profile): test points "test" (listed) and "invalid" (not)
        Zone("domlist.test", "dnset", ["test :127.0.0.2:test point", f"{z.SPAM_DOMAIN} :127.0.0.2:listed"]),
        Zone("domall.test", "dnset", ["test :127.0.0.2:", "invalid :127.0.0.2:", f"{z.SPAM_DOMAIN} :127.0.0.2:"]),
        *z.standard_zones(),
    ]
    server = Rbldnsd(Path(tmp_path_factory.mktemp("rbldnsd-lists")), zones).start()
    yield server
    server.cleanup()


def cfg(address: str, lists: str, targets: str, extra: str = "") -> str:
    return f"""resolver: {{nameservers: ["{address}"], timeout: 500ms, retries: 1}}
interval: 10s
lists:{lists}
targets:{targets}
{extra}"""


async def run(text: str) -> Engine:
    e = Engine(load_config_text(text))
    try:
        await e.run_cycle(save=False)
    finally:
        await e.close()
    return e


def domains(*names: str) -> str:
    return "".join(f"\n  - {{domain: {n}}}" for n in names) + "\n"


async def test_surbl_bitmask_answers_decode_every_combination(lists_dns: Rbldnsd) -> None:
    lists = "\n  - {name: surbl, profile: surbl, zone: surbl.test}\n"
    e = await run(cfg(lists_dns.address, lists, domains(*SURBL_DOMAINS, "odd.example", "clean.example")))
    assert e.health["surbl"].up, e.health["surbl"].reason  # SURBL's own test point, not RFC 5782's
    for d, (code, cats) in SURBL_DOMAINS.items():
        r = e.results[(d, "surbl")]
        assert (r.status, r.codes, r.categories) == ("listed", [code], cats), d
    assert e.results[("clean.example", "surbl")].status == "clean"
    odd = e.results[("odd.example", "surbl")]  # only a retired bit: not a listing we can name
    assert (odd.status, odd.reason) == ("error", "unknown_code")
    assert code_category("127.0.0.200", PROFILES["surbl"]) == "phishing+abuse+cracked"


async def test_a_list_is_down_only_when_its_own_test_point_fails(lists_dns: Rbldnsd) -> None:
    lists = "\n  - {name: surbl, profile: surbl, zone: surbl-bad.test}\n"
    e = await run(cfg(lists_dns.address, lists, domains("ph.example")))
    h = e.health["surbl"]
    assert not h.up and "test.surbl.org" in h.reason and h.reason_code == "unknown_code"
    assert e.results[("ph.example", "surbl")].reason == "unknown_code"


async def test_uribl_bitmask_and_its_blocked_code(lists_dns: Rbldnsd) -> None:
    lists = "\n  - {name: uribl, profile: uribl, zone: uribl.test}\n"
    e = await run(cfg(lists_dns.address, lists, domains(*URIBL_DOMAINS, "blocked.example")))
    assert e.health["uribl"].up, e.health["uribl"].reason
    for d, (code, cats) in URIBL_DOMAINS.items():
        assert (e.results[(d, "uribl")].codes, e.results[(d, "uribl")].categories) == ([code], cats)
    blocked = e.results[("blocked.example", "uribl")]
    assert (blocked.status, blocked.reason) == ("error", "blocked_resolver")


async def test_ipv6_only_list_is_tested_on_the_ipv6_test_points(lists_dns: Rbldnsd) -> None:
    lists = "\n  - {name: v6, zone: v6only.test, kind: ip, ip_versions: [6]}\n"
    targets = f"\n  - {{ip: '{z.CSS_V6}'}}\n  - {{ip: '{z.CLEAN_V6}'}}\n  - {{ip: '{z.CLEAN_IP}'}}\n"
    e = await run(cfg(lists_dns.address, lists, targets))
    assert e.health["v6"].up, e.health["v6"].reason
    assert e.results[(z.CSS_V6, "v6")].status == "listed"
    assert e.results[(z.CLEAN_V6, "v6")].status == "clean"
    assert (z.CLEAN_IP, "v6") not in e.results  # an IPv4 address is not asked of an IPv6-only list
    s = {x.target.value: x for x in e.summaries()}
    assert s[z.CLEAN_IP].applicable == 0 and s[z.CLEAN_IP].status == "unknown"


async def test_domain_list_uses_rfc_5782_domain_test_points(lists_dns: Rbldnsd) -> None:
    lists = "\n  - {name: d, zone: domlist.test, kind: domain}\n  - {name: all, zone: domall.test, kind: domain}\n"
    e = await run(cfg(lists_dns.address, lists, domains(z.SPAM_DOMAIN, z.CLEAN_DOMAIN)))
    assert e.health["d"].up, e.health["d"].reason
    assert e.results[(z.SPAM_DOMAIN, "d")].status == "listed"
    assert e.results[(z.CLEAN_DOMAIN, "d")].status == "clean"
    h = e.health["all"]  # "invalid" is listed: the list answers "listed" for everything
    assert not h.up and "test point invalid is not clean" in h.reason, h.reason
    assert e.results[(z.SPAM_DOMAIN, "all")].status == "error"


@pytest.mark.parametrize("zone", ["v6wild.test", "v6swap.test"])
async def test_ipv6_only_list_failing_its_ipv6_test_points_is_down(lists_dns: Rbldnsd, zone: str) -> None:
    lists = f"\n  - {{name: v6, zone: {zone}, kind: ip, ip_versions: [6]}}\n"
    e = await run(cfg(lists_dns.address, lists, f"\n  - {{ip: '{z.CLEAN_V6}'}}\n"))
    h = e.health["v6"]
    shown = "::FFFF:7F00:1 is not clean" if zone == "v6wild.test" else "::FFFF:7F00:2 is not listed"
    assert not h.up and shown in h.reason, h.reason
    assert e.results[(z.CLEAN_V6, "v6")].status == "error"  # never "clean" from a list that is down


async def test_ipv6_test_points_asked_are_rfc_5782s() -> None:
    """The exact names asked: ::FFFF:7F00:2 and ::FFFF:7F00:1 in nibble form, no IPv4 test point."""
    from support.faultdns import FaultDNS, Rule

    listed = ".".join(reversed("00000000000000000000ffff7f000002")) + ".v6.test"
    clean = ".".join(reversed("00000000000000000000ffff7f000001")) + ".v6.test"
    async with FaultDNS({listed: Rule(a=["127.0.0.2"])}) as server:
        e = await run(cfg(server.address, "\n  - {name: v6, zone: v6.test, kind: ip, ip_versions: [6]}\n", "\n"))
    assert e.health["v6"].up, e.health["v6"].reason
    assert sorted(n for _, n, _ in server.queries) == sorted([listed, clean])


def test_ip_versions_is_validated() -> None:
    text = cfg(
        "127.0.0.1:53", "\n  - {name: v6, zone: v6only.test, kind: ip, ip_versions: [5]}\n", "\n  - {ip: 192.0.2.1}\n"
    )
    with pytest.raises(ConfigError, match=r"lists\[0\]\.ip_versions\[0\]"):
        load_config_text(text)


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        (z.ERR_254, "blocked_resolver"),
        (z.ERR_255, "rate_limited"),
        (z.ERR_252, "bad_key"),
        (z.ERR_DBL, "bad_query"),
        (z.ERR_LOOP1, "error_code"),
        (z.ERR_OUTSIDE, "hijacked"),
        (z.UNKNOWN_CODE, "unknown_code"),
    ],
)
async def test_error_codes_have_their_reason(lists_dns: Rbldnsd, ip: str, reason: str) -> None:
    e = await run(
        cfg(lists_dns.address, "\n  - {name: zen, profile: spamhaus-zen, zone: zen.test}\n", f"\n  - {{ip: '{ip}'}}\n")
    )
    r = e.results[(ip, "zen")]
    assert (r.status, r.reason) == ("error", reason)
    assert reason in REASONS
    errors = [
        (s.labels, s.value)
        for fam in ReputationCollector(lambda: e, lambda: 0.0).collect()
        for s in fam.samples
        if s.name == "reputation_lookup_error"
    ]
    assert errors == [({"target": ip, "list": "zen", "reason": reason}, 1.0)]


async def test_blocked_resolver_on_the_test_point_names_the_reason(lists_dns: Rbldnsd) -> None:
    lists = "\n  - {name: zen, profile: spamhaus-zen, zone: blocked.test}\n"
    e = await run(cfg(lists_dns.address, lists, f"\n  - {{ip: '{z.CLEAN_IP}'}}\n"))
    assert e.health["zen"].reason_code == "blocked_resolver"
    assert e.results[(z.CLEAN_IP, "zen")].reason == "blocked_resolver"


async def test_listed_since_survives_cycles_and_restarts_and_delisting_clears_it(tmp_path: Path) -> None:
    zone = [":127.0.0.2:listed", "127.0.0.2", z.SBL_IP]
    server = Rbldnsd(tmp_path / "dns", [Zone("zen.test", "ip4set", zone)], ttl=1).start()
    state = tmp_path / "state.json"
    text = cfg(
        server.address,
        "\n  - {name: zen, profile: spamhaus-zen, zone: zen.test}\n",
        f"\n  - {{ip: '{z.SBL_IP}'}}\n",
        f"state_file: {state}\nmax_cache_ttl: 0s\n",
    )
    try:
        e = Engine(load_config_text(text))
        await e.run_cycle()
        first = e.results[(z.SBL_IP, "zen")].listed_since
        assert first is not None
        await asyncio.sleep(0.05)
        await e.run_cycle()
        assert e.results[(z.SBL_IP, "zen")].listed_since == first
        await e.close()
        assert json.loads(state.read_text())["results"][0]["listed_since"] == first

        e2 = Engine(load_config_text(text))  # a restart: the first-seen time comes from the state file
        assert e2.restore() == 1
        await e2.run_cycle()
        assert e2.results[(z.SBL_IP, "zen")].listed_since == first
        server.update([Zone("zen.test", "ip4set", [":127.0.0.2:listed", "127.0.0.2"])])  # delisted
        await e2.run_cycle()
        r = e2.results[(z.SBL_IP, "zen")]
        assert r.status == "clean" and r.listed_since is None
        await e2.close()
    finally:
        server.cleanup()
