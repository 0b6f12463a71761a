"""The resolver's adaptive retransmission and batch lookups, against the fault-injecting server.

A lost UDP packet (a server's receive buffer full: rbldnsd's is 128 KiB) used to cost the whole
``timeout`` (2 s) of one lookup, and a cycle waits for its slowest lookup.  Now, once a server has
answered a few first tries, a try is sent again after 5 x its smoothed RTT (never under
``min_timeout``), as c-ares does; a late reply to the earlier packet still counts; and a lookup is
still declared a timeout only at its deadline, (retries + 1) x timeout after its first packet.
Timing bounds here are wide on purpose (the machine is shared): each one separates the behaviour
from the one it replaces by a factor of two or more.
"""

from __future__ import annotations

import asyncio
import time

from infrawatch.reputation.resolver import Answer, Resolver
from support.faultdns import FaultDNS, Rule

Q = "10.2.0.192.zen.test"
WARM = [f"{i}.0.0.127.zen.test" for i in range(1, 6)]  # answered at once (NXDOMAIN): RTT samples


async def lookup(
    server: FaultDNS, timeout: float, retries: int, warm: bool, **kw: float
) -> tuple[Resolver, Answer, float]:
    r = Resolver([("127.0.0.1", server.port)], timeout=timeout, retries=retries, **kw)
    await r.ensure_open()
    if warm:
        assert all(a.ok for a in await r.submit_many(WARM))
    started = time.monotonic()
    a = await r.submit(Q)
    return r, a, time.monotonic() - started


async def test_a_lost_packet_costs_the_adaptive_timeout_not_the_whole_timeout() -> None:
    async with FaultDNS({Q: Rule(a=["127.0.0.2"], udp="drop_first")}) as server:
        r, a, took = await lookup(server, timeout=2.0, retries=2, warm=True)
        await r.close()
    assert a.ok and a.addresses == ["127.0.0.2"]
    assert (a.attempts, a.packets) == (2, ["timeout", "noerror"])
    assert server.count("udp", Q) == 2
    # min_timeout 0.25 s + the sweep's 62 ms granularity; the fixed timeout would take >= 2 s.
    assert 0.2 < took < 1.0, took


async def test_before_any_rtt_sample_a_try_waits_the_configured_timeout() -> None:
    """Nothing known about the server yet: no early retransmission (a cold resolver may be slow)."""
    async with FaultDNS({Q: Rule(a=["127.0.0.2"], udp="drop_first")}) as server:
        r, a, took = await lookup(server, timeout=0.6, retries=1, warm=False)
        await r.close()
    assert a.ok and a.packets == ["timeout", "noerror"]
    assert took >= 0.6, took


async def test_a_late_reply_to_a_retransmitted_packet_still_counts() -> None:
    """A slow resolver (every reply 0.6 s late, after fast ones) costs an extra packet, never an answer."""
    async with FaultDNS({Q: Rule(a=["127.0.0.2"], udp_delay=0.6)}) as server:
        r, a, took = await lookup(server, timeout=2.0, retries=2, warm=True)
        late = r.late_total
        await r.close()
    assert a.ok and a.addresses == ["127.0.0.2"]
    assert a.packets == ["timeout", "noerror"]  # the first packet's reply, after it had been sent again
    assert server.count("udp", Q) == 2
    assert late == 1
    assert 0.55 < took < 1.5, took  # the first reply, not the retransmission's (0.85 s) nor a timeout


async def test_a_server_that_never_answers_times_out_only_at_the_lookups_deadline() -> None:
    """Early retransmissions do not shorten the lookup: 3 tries, timeout declared after 3 x 0.3 s."""
    async with FaultDNS({Q: Rule(a=["127.0.0.2"], udp="drop")}) as server:
        r, a, took = await lookup(server, timeout=0.3, retries=2, warm=True)
        await r.close()
    assert (a.ok, a.reason, a.attempts) == (False, "timeout", 3)
    assert a.packets == ["timeout", "timeout", "timeout"]
    assert server.count("udp", Q) == 3
    assert took >= 0.9, took


async def test_min_timeout_at_the_timeout_turns_adaptation_off() -> None:
    async with FaultDNS({Q: Rule(a=["127.0.0.2"], udp="drop_first")}) as server:
        r, a, took = await lookup(server, timeout=0.8, retries=1, warm=True, min_timeout=0.8)
        await r.close()
    assert a.ok and a.packets == ["timeout", "noerror"]
    assert took >= 0.8, took


async def test_submit_many_answers_in_order_with_invalid_names_inline() -> None:
    rules = {Q: Rule(a=["127.0.0.2"]), "11.2.0.192.zen.test": Rule(a=["127.0.0.4"])}
    async with FaultDNS(rules) as server:
        r = Resolver([("127.0.0.1", server.port)], timeout=1.0, retries=0, concurrency=2)
        await r.ensure_open()
        names = [Q, "x" * 64 + ".zen.test", "1.0.0.127.zen.test", "11.2.0.192.zen.test"]
        answers = await r.submit_many(names)
        empty = await r.submit_many([])
        await r.close()
    assert [list(a.addresses) for a in answers] == [["127.0.0.2"], [], [], ["127.0.0.4"]]
    assert answers[1].reason == "invalid_name" and answers[1].packets == []
    assert answers[2].ok and answers[2].rcode == 3  # NXDOMAIN
    assert empty == []
    # concurrency 2: the FIFO of waiting queries was used, and every valid name was asked once
    assert [server.count("udp", n) for n in (Q, "1.0.0.127.zen.test", "11.2.0.192.zen.test")] == [1, 1, 1]


async def test_a_long_batch_keeps_its_timer_heap_bounded_and_loses_nothing() -> None:
    """Answered packets leave their deadline in the heap until a sweep drops them.  With 5 s
    deadlines (adaptation off) 4,000 lookups would leave 4,000 entries; the sweep rebuilds the heap
    from the live lookups once it passes 4 x in flight + 1,024.  Every lookup is still answered,
    listed ones as listed, and the heap drains once nothing is pending."""
    n = 4000
    rules = {f"{i % 250}.{i // 250}.0.192.zen.test": Rule(a=["127.0.0.2"]) for i in range(0, n, 3)}
    names = [f"{i % 250}.{i // 250}.0.192.zen.test" for i in range(n)]
    async with FaultDNS(rules) as server:
        r = Resolver([("127.0.0.1", server.port)], timeout=5.0, retries=0, concurrency=16, min_timeout=5.0)
        await r.ensure_open()
        peak = 0

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, len(r._timers))
                await asyncio.sleep(0.005)

        watcher = asyncio.ensure_future(watch())
        started = time.monotonic()
        answers = await r.submit_many(names)
        took = time.monotonic() - started
        watcher.cancel()
        await asyncio.sleep(2 * r._sweep_interval())
        left = len(r._timers)
        await r.close()
    assert all(a.ok for a in answers)
    assert [i for i, a in enumerate(answers) if a.addresses] == list(range(0, n, 3))
    if took < 4.5:  # the batch ran within one deadline: without the rebuild every entry would stay
        assert peak < n // 2 + 1024, (peak, took)
    assert left == 0
