"""Issue 14: what real resolvers do wrong, from a fault-injecting DNS server of the tests' own.

rbldnsd speaks no TCP and never truncates or misbehaves, so ``support.faultdns.FaultDNS`` (UDP and
pipelined TCP on one loopback port, messages built by dnspython) stands in for a resolver that
does: truncated replies (TC), SERVFAIL, REFUSED, FORMERR, timeouts, wrong IDs, wrong source ports,
garbled and wrong-question replies.  The rule checked everywhere: none of them is ever "listed"
or "clean"; a truncated reply is asked again over TCP and the TCP answer is the one that counts.
"""

from __future__ import annotations

import time

import pytest

from infrawatch.reputation.config import load_config_text
from infrawatch.reputation.engine import Engine
from infrawatch.reputation.metrics import ReputationCollector
from infrawatch.reputation.resolver import Answer, Resolver
from support.faultdns import FaultDNS, Rule

LISTED_IP = "192.0.2.10"
CLEAN_IP = "192.0.2.1"
Q_LISTED = "10.2.0.192.zen.test"
TEST_POINTS = {
    "2.0.0.127.zen.test": Rule(a=["127.0.0.2"], txt=["test point"]),
}


def config(address: str, *ips: str, retries: int = 1) -> str:
    targets = "".join(f"\n  - {{ip: '{ip}'}}" for ip in ips)
    return f"""resolver: {{nameservers: ["{address}"], timeout: 300ms, retries: {retries}}}
interval: 10s
lists:
  - {{name: zen, profile: spamhaus-zen, zone: zen.test}}
targets:{targets}
"""


async def cycle(server: FaultDNS, *ips: str, retries: int = 1) -> Engine:
    e = Engine(load_config_text(config(server.address, *ips, retries=retries)))
    try:
        await e.run_cycle(save=False)
    finally:
        await e.close()
    return e


def collected(engine: Engine) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in ReputationCollector(lambda: engine, lambda: 0.0).collect():
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


@pytest.mark.parametrize("mode", ["truncate", "truncate_partial"])
async def test_truncated_reply_is_asked_again_over_tcp_and_the_listing_is_seen(mode: str) -> None:
    """The bug of issue 14: a TC reply (empty or partial) was read as "not listed" -> Good, 100."""
    reason = "Listed by SBL, see https://check.spamhaus.org/sbl/query/SBL1 " + "x" * 600  # a large TXT
    rules = {**TEST_POINTS, Q_LISTED: Rule(a=["127.0.0.2", "127.0.0.4"], txt=[reason], udp=mode)}
    async with FaultDNS(rules) as server:
        e = await cycle(server, LISTED_IP, CLEAN_IP)
    r = e.results[(LISTED_IP, "zen")]
    assert (r.status, r.codes, r.categories) == ("listed", ["127.0.0.2", "127.0.0.4"], ["sbl", "xbl"])
    assert r.reasons == [reason]  # the TXT came truncated too, and over TCP in full
    assert server.count("tcp", Q_LISTED) == 2  # A and TXT, each once over TCP
    s = {x.target.value: x for x in e.summaries()}
    assert s[LISTED_IP].status == "critical" and s[LISTED_IP].score == 50
    assert s[CLEAN_IP].status == "good"
    # packets, not lookups: A (udp truncated + tcp) and TXT (udp truncated + tcp)
    assert e.queries_total[("zen", "truncated")] == 2
    assert e.queries_total[("zen", "noerror")] == 3  # test point + A over TCP + TXT over TCP
    assert e.resolver.truncated_total == 2 and e.resolver.tcp_sent_total == 2
    # the budget projection counts packets: 7 packets (2 truncated + their 2 TCP follow-ups + 2 test
    # points + the clean IP) for 5 lookups (2 test points, 2 A, 1 TXT) scale it by 1.4
    spec = e.spec("zen")
    assert spec is not None and e.packets_per_lookup(spec) == pytest.approx(7 / 5)
    projected = {lb["list"]: v for lb, v in collected(e)["reputation_projected_daily_queries"]}
    assert projected["zen"] == pytest.approx(e.loaded.projected_daily_queries(spec) * 7 / 5)


@pytest.mark.parametrize("tcp", ["close", "drop", "servfail", "truncate"])
async def test_truncated_reply_whose_tcp_retry_fails_is_unknown_never_clean(tcp: str) -> None:
    rules = {**TEST_POINTS, Q_LISTED: Rule(a=["127.0.0.2"], udp="truncate", tcp=tcp)}
    async with FaultDNS(rules) as server:
        e = await cycle(server, LISTED_IP)
    r = e.results[(LISTED_IP, "zen")]
    assert r.status == "error"
    assert r.reason == ("servfail" if tcp == "servfail" else "truncated")
    s = e.summaries()[0]
    assert s.status == "unknown" and s.score is None
    m = collected(e)
    assert ({"target": LISTED_IP, "list": "zen", "reason": r.reason}, 1.0) in m["reputation_lookup_error"]
    assert not [x for x in m.get("reputation_listed", []) if x[0]["target"] == LISTED_IP]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("servfail", "servfail"),
        ("refused", "refused"),
        ("formerr", "rcode"),
        ("drop", "timeout"),
        ("wrong_id", "timeout"),
        ("wrong_port", "timeout"),
        ("wrong_question", "timeout"),
        ("garbage", "malformed"),
    ],
)
async def test_every_resolver_fault_is_unknown_with_its_reason(mode: str, reason: str) -> None:
    rules = {**TEST_POINTS, Q_LISTED: Rule(a=["127.0.0.2"], udp=mode)}
    async with FaultDNS(rules) as server:
        e = await cycle(server, LISTED_IP)
    r = e.results[(LISTED_IP, "zen")]
    assert (r.status, r.reason) == ("error", reason)
    assert e.health["zen"].up  # the list itself works: only this pair is unknown
    assert e.summaries()[0].status == "unknown"
    m = collected(e)  # the bounded reason is what an alert and the page see
    assert ({"target": LISTED_IP, "list": "zen", "reason": reason}, 1.0) in m["reputation_lookup_error"]
    assert not [x for x in m.get("reputation_listed", []) if x[0]["target"] == LISTED_IP]
    # every packet is counted: a try and a retry (FORMERR is final), + the two test points
    tries = 1 if mode == "formerr" else 2
    sent = sum(n for (lst, _res), n in e.queries_total.items() if lst == "zen")
    assert sent == e.resolver.sent_total == 2 + tries
    assert server.count("udp", Q_LISTED) == tries


async def test_a_wrong_id_or_port_never_becomes_the_answer() -> None:
    """A spoofed reply (another ID, another source port) listing the clean IP is ignored."""
    q_clean = "1.2.0.192.zen.test"
    rules = {**TEST_POINTS, q_clean: Rule(a=["127.0.0.2"], udp="wrong_port")}
    async with FaultDNS(rules) as server:
        e = await cycle(server, CLEAN_IP, retries=0)
    assert e.results[(CLEAN_IP, "zen")].status == "error"
    assert e.results[(CLEAN_IP, "zen")].reason == "timeout"  # the spoofed reply never counted
    # (the resolver's sockets are connected: the kernel drops it before our own source check)


async def test_servfail_on_the_test_point_marks_the_list_down_with_the_reason() -> None:
    rules = {"2.0.0.127.zen.test": Rule(a=["127.0.0.2"], udp="servfail")}
    async with FaultDNS(rules) as server:
        e = await cycle(server, CLEAN_IP)
    assert not e.health["zen"].up and e.health["zen"].reason_code == "servfail"
    assert e.results[(CLEAN_IP, "zen")].reason == "servfail"
    assert e.queries_total[("zen", "servfail")] == 2  # first try + retry, both counted


async def test_many_truncated_answers_share_one_pipelined_tcp_connection_answered_out_of_order() -> None:
    names = [f"{i}.0.0.10.zen.test" for i in range(300)]
    rules = {n: Rule(a=[f"127.0.0.{2 + i % 10}"], udp="truncate") for i, n in enumerate(names)}
    async with FaultDNS(rules, tcp_reverse=True) as server:
        r = Resolver([("127.0.0.1", server.port)], timeout=2.0, retries=1, concurrency=128)
        await r.ensure_open()
        import asyncio

        answers = await asyncio.gather(*(r.submit(n) for n in names))
        await r.close()
    assert [a.addresses for a in answers] == [[f"127.0.0.{2 + i % 10}"] for i in range(300)]
    assert all(a.tcp and a.packets == ["truncated", "noerror"] for a in answers)
    # one connection carried them all (counted when accepted: a connection per query, each closed
    # after its answer, would show here as 300)
    assert server.tcp_accepted == 1
    assert server.count("tcp") == 300
    assert r.tcp_sent_total == 300


async def test_invalid_query_name_is_unknown_without_the_name() -> None:
    r = Resolver([("127.0.0.1", 9)], timeout=0.2, retries=0)
    await r.ensure_open()
    a = await r.submit("a" * 60 + "." + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + ".secretkey0123.zen.test")
    await r.close()
    assert a.reason == "invalid_name" and a.packets == []
    assert "secretkey0123" not in a.error and "aaaa" not in a.error


async def test_tcp_follow_up_goes_to_the_nameserver_that_truncated() -> None:
    """RFC 7766: the TCP retry asks the same resolver, not the next one in the list."""
    rules = {**TEST_POINTS, Q_LISTED: Rule(a=["127.0.0.2"], txt=["big"], udp="truncate")}
    async with FaultDNS(rules) as first, FaultDNS(dict(rules)) as second:
        r = Resolver([("127.0.0.1", first.port), ("127.0.0.1", second.port)], timeout=1.0, retries=1)
        await r.ensure_open()
        a = await r.submit(Q_LISTED)  # the first query goes to the first nameserver
        b = await r.submit(Q_LISTED)  # round robin: the second one to the second
        await r.close()
    assert a.addresses == b.addresses == ["127.0.0.2"] and a.tcp and b.tcp
    assert (first.count("udp"), first.count("tcp"), second.count("udp"), second.count("tcp")) == (1, 1, 1, 1)


async def timed_lookup(rule: Rule, timeout: float, retries: int) -> tuple[FaultDNS, Answer, float]:
    """One lookup of Q_LISTED against a fault server with ``rule``; how long it took."""
    async with FaultDNS({Q_LISTED: rule}) as server:
        r = Resolver([("127.0.0.1", server.port)], timeout=timeout, retries=retries)
        await r.ensure_open()
        started = time.monotonic()
        a = await r.submit(Q_LISTED)
        took = time.monotonic() - started
        await r.close()
    return server, a, took


@pytest.mark.parametrize("tcp", ["drop", "close"])
async def test_truncated_lookup_ends_within_its_deadline(tcp: str) -> None:
    """A TCP follow-up that never answers does not stretch the lookup past (retries + 1) x timeout."""
    server, a, took = await timed_lookup(Rule(a=["127.0.0.2"], udp="truncate", tcp=tcp), timeout=0.3, retries=1)
    assert (a.reason, list(a.addresses)) == ("truncated", [])
    assert took < 2 * 0.3 + 0.35, took  # two attempts of 0.3 s, plus the timeout sweep's granularity
    assert server.count("tcp", Q_LISTED) == 2  # the retry went over TCP again (same resolver)


async def test_a_late_truncated_reply_does_not_stretch_the_lookup_past_its_deadline() -> None:
    """The truncated reply comes just before the timeout and TCP never answers: the TCP follow-up is
    cut to the lookup's deadline (1 x timeout with retries 0, plus the sweep's granularity of
    0.25 s), instead of getting a whole timeout of its own (>= 1.9 s)."""
    rule = Rule(a=["127.0.0.2"], udp="truncate", tcp="drop", udp_delay=0.9)
    server, a, took = await timed_lookup(rule, timeout=1.0, retries=0)
    assert (a.reason, a.packets) == ("truncated", ["truncated", "timeout"])
    assert server.count("tcp", Q_LISTED) == 1
    assert 0.9 < took < 1.75, took  # deadline 1.25 s, swept within 0.25 s after it
