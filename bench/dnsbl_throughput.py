"""DNSBL lookup throughput: this exporter's resolver vs dnspython's async resolver vs aiodns.

    python -m bench.dnsbl_throughput [--lookups 20000] [--rounds 5]

Starts rbldnsd (Debian package) on a free loopback port serving 10 zones, pins rbldnsd to one
core and this process to another (when the machine has two), then measures, in the same run:
1. lookups/s of ``infrawatch.reputation.resolver.Resolver`` (one core, asyncio, hand-written codec,
   TCP fallback in place), of ``dns.asyncresolver.Resolver`` (dnspython, stock) and of ``aiodns``
   (c-ares): every client gets the same number of lookups per round (the same names), and the
   rounds are interleaved (round 1 of each client, then round 2 ...) so a change in machine load
   hits all of them alike; per round the ratio to aiodns is printed, then median and best;
2. one full 1,000-IP x 10-list cycle of the engine against rbldnsd (test points, lookups, TXT of
   listings): its duration, and that no answer was lost (every pair clean or listed as the zone data says);
3. the same cycle through a real unbound (Debian) serving the same data, once with small TXT
   reasons and once with ~10% of all answers too large for UDP (TC: asked again over TCP, pipelined).
The load average is printed before and after.  Figures go to docs/benchmarks.md (reputation section).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from infrawatch.reputation.config import ResolverConfig, load_config_text  # noqa: E402
from infrawatch.reputation.engine import Engine  # noqa: E402
from infrawatch.reputation.resolver import Resolver  # noqa: E402
from support.rbldnsd import Rbldnsd, Zone  # noqa: E402
from support.unbound import Unbound  # noqa: E402

LISTS = 10
NET = ipaddress.ip_network("10.20.0.0/16")


def zones() -> list[Zone]:
    out = []
    for i in range(LISTS):
        listed = [str(NET[n]) for n in range(i, 65536, 7)]  # ~1/7 of the /16 per list
        out.append(Zone(f"l{i}.bench", "ip4set", [f":127.0.0.2:Listed on l{i} $", "127.0.0.2", *listed]))
    return out


def is_listed(ip: str, i: int) -> bool:
    return (int(ipaddress.ip_address(ip)) - int(NET[0])) % 7 == i % 7 and int(ipaddress.ip_address(ip)) - int(
        NET[0]
    ) >= i


def names(n: int, seed: int = 1) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        ip = NET[rnd.randrange(65536)]
        out.append(".".join(reversed(str(ip).split("."))) + f".l{rnd.randrange(LISTS)}.bench")
    return out


RETRIES: dict[str, int] = {}  # packets retransmitted after a timeout in the last round (infrawatch's resolver)


async def bench_ours(server: str, qnames: list[str], concurrency: int) -> tuple[float, int]:
    host, port = server.rsplit(":", 1)
    r = Resolver([(host, int(port))], timeout=2.0, retries=2, concurrency=concurrency)
    await r.query(qnames[0])
    t0 = time.perf_counter()
    # submit_many() is what the engine uses for a list's targets: one future for the batch.
    answers = await r.submit_many(qnames)
    dt = time.perf_counter() - t0
    await r.close()
    # A UDP packet lost (the server's socket buffer full) costs a retransmission: say so.
    RETRIES["infrawatch"] = r.timeouts_total
    return len(qnames) / dt, sum(1 for a in answers if not a.ok)


async def bench_dnspython(server: str, qnames: list[str], concurrency: int) -> tuple[float, int]:
    import dns.asyncresolver
    import dns.exception
    import dns.resolver

    host, port = server.rsplit(":", 1)
    res = dns.asyncresolver.Resolver(configure=False)
    res.nameservers = [host]
    res.port = int(port)
    res.lifetime = 5.0
    sem = asyncio.Semaphore(concurrency)
    errors = 0

    async def one(q: str) -> None:
        nonlocal errors
        async with sem:
            try:
                await res.resolve(q, "A")
            except dns.resolver.NXDOMAIN:
                pass
            except dns.exception.DNSException:
                errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(one(q) for q in qnames))
    return len(qnames) / (time.perf_counter() - t0), errors


async def bench_aiodns(server: str, qnames: list[str], concurrency: int) -> tuple[float, int]:
    import aiodns
    import aiodns.error

    res = aiodns.DNSResolver(nameservers=[server], timeout=5.0, tries=2)
    sem = asyncio.Semaphore(concurrency)
    errors = 0

    async def one(q: str) -> None:
        nonlocal errors
        async with sem:
            try:
                await res.query_dns(q, "A")
            except aiodns.error.DNSError as exc:
                if exc.args[0] != 4:  # ARES_ENOTFOUND = NXDOMAIN
                    errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(one(q) for q in qnames))
    dt = time.perf_counter() - t0
    await res.close() if asyncio.iscoroutinefunction(res.close) else res.close()
    return len(qnames) / dt, errors


def cycle_ips(targets: int) -> list[str]:
    return [str(NET[n]) for n in range(0, targets * 13, 13)][:targets]


def unbound_data(targets: int, big_share: float) -> tuple[list[str], list[str]]:
    """local-zone / local-data lines serving the bench zones' answers for the cycle's IPs from unbound.

    ``big_share`` of the listings get a TXT reason too large for a 512-byte UDP reply.
    """
    zones, data = [], []
    n_big = 0
    listings = 0
    for i in range(LISTS):
        zone = f"l{i}.bench"
        zones.append(zone)
        data.append(f"2.0.0.127.{zone}. 300 IN A 127.0.0.2")
        for ip in cycle_ips(targets):
            if not is_listed(ip, i):
                continue
            listings += 1
            q = ".".join(reversed(ip.split("."))) + f".{zone}."
            data.append(f"{q} 300 IN A 127.0.0.2")
            big = n_big < big_share * listings
            n_big += big
            txt = " ".join('"' + c * 250 + '"' for c in "abc") if big else f'"Listed on l{i}"'
            data.append(f"{q} 300 IN TXT {txt}")
    return zones, data


async def bench_cycle(server: str, targets: int, concurrency: int) -> dict[str, float]:
    ips = cycle_ips(targets)
    lists = "".join(f"\n  - {{name: l{i}, zone: l{i}.bench, kind: ip, tier: minor}}" for i in range(LISTS))
    tgt = "".join(f"\n  - {{ip: '{ip}'}}" for ip in ips)
    cfg = (
        f"resolver: {{nameservers: ['{server}'], timeout: 1s, retries: 2, concurrency: {concurrency}}}\n"
        f"interval: 5m\nmax_cidr_addresses: 256\nlists:{lists}\ntargets:{tgt}\n"
    )
    engine = Engine(load_config_text(cfg))
    duration = await engine.run_cycle(save=False)
    lost = wrong = listed = 0
    for ip in ips:
        for i in range(LISTS):
            r = engine.results[(ip, f"l{i}")]
            if r.status == "error":
                lost += 1
            elif (r.status == "listed") != is_listed(ip, i):
                wrong += 1
            listed += r.status == "listed"
    down = sum(1 for h in engine.health.values() if not h.up)
    sent, timeouts = engine.resolver.sent_total, engine.resolver.timeouts_total
    truncated = engine.resolver.truncated_total
    answers = sum(engine.lookups_total.values())
    await engine.close()
    return {
        "duration": duration,
        "lost": lost,
        "wrong": wrong,
        "listed": listed,
        "pairs": len(ips) * LISTS,
        "down": down,
        "sent": sent,
        "timeouts": timeouts,
        "truncated": truncated,
        "answers": answers,
    }


def pin(pid: int, cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(pid, {cpu % (os.cpu_count() or 1)})


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def print_cycle(label: str, cycles: list[dict[str, float]], targets: int) -> dict[str, float]:
    cyc = dict(min(cycles, key=lambda c: c["duration"]))
    cyc["lost"] = max(c["lost"] for c in cycles)
    cyc["wrong"] = max(c["wrong"] for c in cycles)
    share = cyc["truncated"] / cyc["answers"] if cyc["answers"] else 0.0
    print(
        f"{label:<22} {targets:,} IPs x {LISTS} lists = {cyc['pairs']:,.0f} pairs in "
        f"{cyc['duration']:.3f} s (best of {len(cycles)}; all: "
        f"{', '.join(format(c['duration'], '.3f') for c in cycles)}); "
        f"lost {cyc['lost']:.0f}, wrong {cyc['wrong']:.0f}, listed {cyc['listed']:.0f}, lists down {cyc['down']:.0f}, "
        f"packets {cyc['sent']:,.0f}, truncated {cyc['truncated']:,.0f} of {cyc['answers']:,.0f} answers "
        f"({share:.1%}), timeouts {cyc['timeouts']:.0f}"
    )
    return cyc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dnsbl_throughput", description=__doc__.splitlines()[0])
    p.add_argument("--lookups", type=int, default=20000, help="lookups per round, the same for every client")
    p.add_argument(
        "--concurrency",
        type=int,
        default=ResolverConfig().concurrency,
        help="in-flight lookups, the same for every client (default: the exporter's resolver.concurrency)",
    )
    p.add_argument("--targets", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds per client")
    p.add_argument("--no-unbound", action="store_true", help="skip the cycles through unbound")
    args = p.parse_args(argv)
    print(f"load average before: {loadavg()}")
    with (
        tempfile.TemporaryDirectory(prefix="dnsbl-bench-") as tmp,
        Rbldnsd(Path(tmp), zones(), ttl=300).start() as dnsbl,
    ):
        assert dnsbl.proc is not None
        pin(dnsbl.proc.pid, 1)
        pin(0, 0)
        server = dnsbl.address
        print(
            f"rbldnsd {server}: {LISTS} zones, {LISTS * 65536 // 7:,} listed entries; "
            f"cpus={os.cpu_count()} (client pinned to cpu0, rbldnsd to cpu1)"
        )
        runs = [("infrawatch", bench_ours), ("dnspython", bench_dnspython)]
        try:
            import aiodns  # noqa: F401

            runs.append(("aiodns", bench_aiodns))
        except ImportError:
            print("aiodns not installed: pip install aiodns to compare")
        rates: dict[str, list[float]] = {name: [] for name, _ in runs}
        cpu: dict[str, list[float]] = {name: [] for name, _ in runs}  # CPU microseconds per lookup
        errors: dict[str, int] = {name: 0 for name, _ in runs}
        for rnd in range(args.rounds):
            qnames = names(args.lookups, seed=rnd + 1)  # the same names for every client in a round
            line = []
            for name, fn in runs:
                # The previous client's garbage (dnspython leaves reference cycles: an exception
                # per NXDOMAIN) is collected before the clock starts, not in the next client's round.
                gc.collect()
                # CPU time of this process per lookup: steadier than lookups/s on a loaded machine
                # (time spent waiting for the CPU does not count), and what a client costs.
                c0 = time.process_time()
                rate, e = asyncio.run(fn(server, qnames, args.concurrency))
                cpu[name].append((time.process_time() - c0) / len(qnames) * 1e6)
                rates[name].append(rate)
                errors[name] += e
                retried = f", {RETRIES.pop(name)} packets retransmitted" if RETRIES.get(name) else ""
                line.append(f"{name} {rate:,.0f}/s ({cpu[name][-1]:.0f} us CPU{retried})")
            ratio = rates["infrawatch"][-1] / rates["aiodns"][-1] if "aiodns" in rates else float("nan")
            print(f"round {rnd + 1}: {', '.join(line)}; infrawatch/aiodns {ratio:.2f}x")
        for name, _ in runs:
            r = sorted(rates[name])
            print(
                f"{name:<11} median {statistics.median(r):>9,.0f} lookups/s, best {r[-1]:,.0f} "
                f"({args.lookups:,} lookups x {args.rounds} rounds, concurrency {args.concurrency}, "
                f"errors {errors[name]}); CPU per lookup median {statistics.median(cpu[name]):.1f} us"
            )
        ratios = [a / b for a, b in zip(rates["infrawatch"], rates.get("aiodns", []), strict=False)]
        if "aiodns" in cpu:
            cpu_ratio = statistics.median(cpu["aiodns"]) / statistics.median(cpu["infrawatch"])
            print(f"CPU per lookup: aiodns / infrawatch = {cpu_ratio:.2f}x (median of the rounds)")
        if ratios:
            print(
                f"infrawatch/aiodns per round: {', '.join(f'{x:.2f}' for x in ratios)}; "
                f"median {statistics.median(ratios):.2f}x"
            )
        cyc = print_cycle(
            "cycle (rbldnsd)",
            [asyncio.run(bench_cycle(server, args.targets, args.concurrency)) for _ in range(args.rounds)],
            args.targets,
        )
        if not args.no_unbound:
            for label, share in (("cycle (unbound)", 0.0), ("cycle (unbound, ~10% TC)", 0.8)):
                zs, data = unbound_data(args.targets, share)
                with Unbound(Path(tmp) / f"unbound-{share}", local_zones=zs, local_data=data) as ns:
                    assert ns.proc is not None
                    pin(ns.proc.pid, 1)
                    print_cycle(
                        label,
                        [
                            asyncio.run(bench_cycle(ns.address, args.targets, args.concurrency))
                            for _ in range(args.rounds)
                        ],
                        args.targets,
                    )
        median_ratio = statistics.median(ratios) if ratios else 0.0
        ok = median_ratio >= 4 and cyc["duration"] <= 1.0 and cyc["lost"] == 0 and cyc["wrong"] == 0
        print("goals (>= 4x aiodns; cycle <= 1 s, nothing lost):", "met" if ok else "NOT met")
    print(f"load average after: {loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
