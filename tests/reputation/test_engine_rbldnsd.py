"""Every classification rule end to end: the engine against a real rbldnsd."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from infrawatch.reputation.config import load_config_text
from infrawatch.reputation.engine import Engine
from support import dnsbl_zones as z
from support.procs import free_udp_port
from support.rbldnsd import Rbldnsd, Zone


def engine_for(dnsbl_addr: str, lists: str | None = None, targets: str | None = None, extra: str = "") -> Engine:
    return Engine(load_config_text(z.config_yaml(dnsbl_addr, lists, targets, extra)))


ZEN_ONLY = "\n  - {name: zen, profile: spamhaus-zen, zone: zen.test}\n"


def ip_targets(*ips: str) -> str:
    return "".join(f"\n  - {{ip: '{ip}'}}" for ip in ips) + "\n"


async def run(engine: Engine) -> Engine:
    try:
        await engine.run_cycle(save=False)
    finally:
        await engine.close()
    return engine


async def test_listed_clean_and_reasons(dnsbl: Rbldnsd) -> None:
    e = await run(engine_for(dnsbl.address))
    assert e.health["zen"].up and e.health["barracuda"].up and e.health["dbl"].up
    sbl = e.results[(z.SBL_IP, "zen")]
    assert (sbl.status, sbl.codes, sbl.categories) == ("listed", ["127.0.0.2"], ["sbl"])
    assert sbl.reasons == [z.SBL_REASON]
    assert e.results[(z.CLEAN_IP, "zen")].status == "clean"
    assert e.results[(z.SBL_IP, "barracuda")].status == "listed"
    # IPv6 in nibble format
    v6 = e.results[(z.CSS_V6, "zen")]
    assert (v6.status, v6.categories) == ("listed", ["css"])
    # domains go only to domain lists, IPs only to IP lists
    assert e.results[(z.SPAM_DOMAIN, "dbl")].categories == ["spam"]
    assert e.results[(z.CLEAN_DOMAIN, "dbl")].status == "clean"
    assert (z.SPAM_DOMAIN, "zen") not in e.results
    assert (z.SBL_IP, "dbl") not in e.results
    summaries = {s.target.value: s for s in e.summaries()}
    assert summaries[z.SBL_IP].status == "critical"
    assert summaries[z.SBL_IP].score == 0
    assert summaries[z.CLEAN_IP].status == "good" and summaries[z.CLEAN_IP].score == 100
    assert summaries[z.CLEAN_IP].coverage == 1.0
    assert summaries[z.SPAM_DOMAIN].status == "critical"


async def test_several_a_records_all_count_sorted(dnsbl: Rbldnsd) -> None:
    e = await run(engine_for(dnsbl.address, ZEN_ONLY, ip_targets(z.MULTI_IP, z.PBL_IP)))
    multi = e.results[(z.MULTI_IP, "zen")]
    assert multi.codes == ["127.0.0.2", "127.0.0.4"]
    assert multi.categories == ["sbl", "xbl"]
    assert e.results[(z.PBL_IP, "zen")].categories == ["pbl-isp"]


@pytest.mark.parametrize(
    "ip,code",
    [
        (z.ERR_252, "127.255.255.252"),
        (z.ERR_254, "127.255.255.254"),
        (z.ERR_255, "127.255.255.255"),
        (z.ERR_DBL, "127.0.1.255"),
        (z.ERR_LOOP1, "127.0.0.1"),
        (z.ERR_OUTSIDE, "10.0.0.1"),
        (z.UNKNOWN_CODE, "127.0.0.99"),
    ],
)
async def test_error_codes_are_never_listed(dnsbl: Rbldnsd, ip: str, code: str) -> None:
    e = await run(engine_for(dnsbl.address, ZEN_ONLY, ip_targets(ip, z.CLEAN_IP)))
    r = e.results[(ip, "zen")]
    assert r.status == "error"
    assert r.codes == [code]
    assert code in r.error or "outside" in r.error
    s = next(s for s in e.summaries() if s.target.value == ip)
    assert s.status == "unknown" and s.score is None and s.coverage == 0
    assert not s.listed_on


@pytest.mark.parametrize(
    "zone,why",
    [
        ("wild.test", "not clean"),
        ("blocked.test", "127.255.255.254"),
        ("dead.test", "is not listed"),
        ("refused.test", "REFUSED"),
    ],
)
async def test_lists_failing_test_points_are_down_and_do_not_count(dnsbl: Rbldnsd, zone: str, why: str) -> None:
    lists = f"{ZEN_ONLY}  - {{name: broken, profile: barracuda, zone: {zone}}}\n"
    e = await run(engine_for(dnsbl.address, lists, ip_targets(z.CLEAN_IP)))
    assert e.health["zen"].up
    assert not e.health["broken"].up
    assert why in e.health["broken"].reason
    assert e.results[(z.CLEAN_IP, "broken")].status == "error"
    s = e.summaries()[0]
    assert s.coverage == 0.5
    assert s.status == "unknown"  # min_coverage 0.8: never good without evidence
    assert s.score == 100


async def test_refused_is_an_error_after_retries(dnsbl: Rbldnsd) -> None:
    e = engine_for(dnsbl.address, ZEN_ONLY, ip_targets(z.CLEAN_IP))
    spec = e.specs[0]
    answer = await e.resolver.query("2.0.0.127.refused.test")
    await e.close()
    assert answer.error == "REFUSED" and answer.rcode == 5
    assert answer.attempts == 2  # retries: 1
    assert spec.name == "zen"


async def test_timeout_is_retried_then_unknown(tmp_path: Path) -> None:
    port = free_udp_port()  # nothing listens there
    e = await run(engine_for(f"127.0.0.1:{port}", ZEN_ONLY, ip_targets(z.CLEAN_IP)))
    assert not e.health["zen"].up
    assert "timeout" in e.health["zen"].reason
    assert e.results[(z.CLEAN_IP, "zen")].status == "error"
    # Packets are counted, not lookups (issue 14): two test points, each 1 + 1 retry.
    assert e.queries_total[("zen", "timeout")] == 4
    assert e.resolver.sent_total == 4
    assert e.health["zen"].reason_code == "timeout"
    assert e.results[(z.CLEAN_IP, "zen")].reason == "timeout"
    assert e.summaries()[0].status == "unknown"


async def test_servfail_is_an_error_not_clean() -> None:
    """SERVFAIL: rbldnsd never sends it, so a tiny UDP responder answering SERVFAIL stands in."""

    class ServFail(asyncio.DatagramProtocol):
        def connection_made(self, transport):  # type: ignore[no-untyped-def]
            self.t = transport

        def datagram_received(self, data: bytes, addr):  # type: ignore[no-untyped-def]
            # echo id + question, set QR and rcode 2
            self.t.sendto(data[:2] + b"\x81\x82" + data[4:], addr)

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(ServFail, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    try:
        e = engine_for(f"127.0.0.1:{port}", ZEN_ONLY, ip_targets(z.CLEAN_IP))
        answer = await e.resolver.query("1.2.0.192.zen.test")
        await e.close()
    finally:
        transport.close()
    assert answer.error == "SERVFAIL" and answer.attempts == 2


async def test_ttl_cache_avoids_repeat_queries(dnsbl: Rbldnsd) -> None:
    e = engine_for(dnsbl.address, ZEN_ONLY, ip_targets(z.CLEAN_IP, z.SBL_IP))
    try:
        await e.run_cycle(save=False)
        sent = e.resolver.sent_total
        assert sent == 5  # 2 test points + 2 targets + 1 TXT
        await e.run_cycle(save=False)
        assert e.resolver.sent_total == sent  # all within rbldnsd's 60 s TTL
        assert e.cache_hits_total == 5
    finally:
        await e.close()


async def test_next_cycle_sees_a_new_listing_despite_a_long_ttl(tmp_path: Path) -> None:
    """A listing that appears between two cycles is seen by the next one even when the list's TTL is
    longer than the interval: by default answers are reused for at most half the interval."""
    zone = Zone("zen.test", "ip4set", [":127.0.0.2:test point", "127.0.0.2"])
    server = Rbldnsd(tmp_path, [zone], ttl=3600).start()
    try:
        lists = "\n  - {name: zen, profile: spamhaus-zen, zone: zen.test, interval: 10s}\n"
        e = engine_for(server.address, lists, ip_targets(z.CLEAN_IP))
        try:
            await e.run_cycle(save=False)
            assert e.results[(z.CLEAN_IP, "zen")].status == "clean"
            server.reload([Zone("zen.test", "ip4set", [":127.0.0.2:test point", "127.0.0.2", z.CLEAN_IP])])
            await e.run_cycle(save=False)  # at once: still within the cached negative answer
            assert e.results[(z.CLEAN_IP, "zen")].status == "clean"
            await asyncio.sleep(5.5)  # half the interval (10 s) later: the cached answer has expired
            await e.run_cycle(save=False)
            assert e.results[(z.CLEAN_IP, "zen")].status == "listed"
        finally:
            await e.close()
    finally:
        server.stop()
        server.cleanup()


async def test_cidr_targets_expand(dnsbl: Rbldnsd) -> None:
    e = await run(engine_for(dnsbl.address, ZEN_ONLY, "\n  - {cidr: 192.0.2.8/29, provider: aws}\n"))
    statuses = {t.value: e.results[(t.value, "zen")].status for t in e.targets}
    assert len(statuses) == 8
    assert statuses[z.SBL_IP] == "listed" and statuses[z.PBL_IP] == "listed"
    assert statuses["192.0.2.8"] == "clean"


async def test_nodata_is_clean(dnsbl: Rbldnsd) -> None:
    """NOERROR without A records: the name exists but lists nothing (RFC 5782: A records list)."""
    lists = "\n  - {name: gen, zone: gen.test, kind: ip}\n"
    e = await run(engine_for(dnsbl.address, lists, ip_targets(z.CLEAN_IP)))
    assert e.health["gen"].up
    assert e.results[(z.CLEAN_IP, "gen")].status == "clean"
    assert e.queries_total[("gen", "noerror")] == 2  # the listed test point and the NODATA answer
