"""DNSBL lookup throughput: this exporter's resolver vs dnspython's async resolver vs aiodns.

    python -m bench.dnsbl_throughput [--lookups 60000] [--peer-lookups 5000]

Starts rbldnsd (Debian package) on a free loopback port serving 10 zones, pins rbldnsd to one
core and this process to another (when the machine has two), then measures, in the same run:
1. lookups/s of ``infrawatch.reputation.resolver.Resolver`` (one core, asyncio, hand-written codec);
2. lookups/s of ``dns.asyncresolver.Resolver`` (dnspython, stock) and of ``aiodns`` (c-ares);
3. one full 1,000-IP x 10-list cycle of the engine (test points, lookups, TXT of listings): its
   duration, and that no answer was lost (every pair clean or listed as the zone data says).
Figures go to docs/benchmarks.md (reputation section).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from infrawatch.reputation.config import load_config_text  # noqa: E402
from infrawatch.reputation.engine import Engine  # noqa: E402
from infrawatch.reputation.resolver import Resolver  # noqa: E402
from support.rbldnsd import Rbldnsd, Zone  # noqa: E402

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


async def bench_ours(server: str, qnames: list[str], concurrency: int) -> tuple[float, int]:
    host, port = server.rsplit(":", 1)
    r = Resolver([(host, int(port))], timeout=2.0, retries=2, concurrency=concurrency)
    await r.query(qnames[0])
    t0 = time.perf_counter()
    # submit() is what the engine uses for a list's targets: one future per lookup, no task.
    answers = await asyncio.gather(*(r.submit(q) for q in qnames))
    dt = time.perf_counter() - t0
    await r.close()
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


async def bench_cycle(server: str, targets: int, concurrency: int) -> dict[str, float]:
    ips = [str(NET[n]) for n in range(0, targets * 13, 13)][:targets]
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
    }


def pin(pid: int, cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(pid, {cpu % (os.cpu_count() or 1)})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dnsbl_throughput", description=__doc__.splitlines()[0])
    p.add_argument("--lookups", type=int, default=60000, help="lookups for this exporter's resolver")
    p.add_argument("--peer-lookups", type=int, default=5000, help="lookups for dnspython and aiodns")
    p.add_argument("--concurrency", type=int, default=128)
    p.add_argument("--targets", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=3, help="best of N rounds for each resolver")
    args = p.parse_args(argv)
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
        results = {}
        runs = [("infrawatch", bench_ours, args.lookups), ("dnspython", bench_dnspython, args.peer_lookups)]
        try:
            import aiodns  # noqa: F401

            runs.append(("aiodns", bench_aiodns, args.peer_lookups))
        except ImportError:
            print("aiodns not installed: pip install aiodns to compare")
        for name, fn, n in runs:
            best, errs = 0.0, 0
            for rnd in range(args.rounds):
                rate, e = asyncio.run(fn(server, names(n, seed=rnd + 1), args.concurrency))
                best, errs = max(best, rate), errs + e
            results[name] = best
            print(
                f"{name:<11} {best:>10,.0f} lookups/s  ({n:,} lookups x {args.rounds} rounds, "
                f"concurrency {args.concurrency}, errors {errs})"
            )
        cycles = [asyncio.run(bench_cycle(server, args.targets, args.concurrency)) for _ in range(args.rounds)]
        cyc = min(cycles, key=lambda c: c["duration"])
        cyc["lost"] = max(c["lost"] for c in cycles)
        cyc["wrong"] = max(c["wrong"] for c in cycles)
        print(
            f"cycle       {args.targets:,} IPs x {LISTS} lists = {cyc['pairs']:,.0f} pairs in "
            f"{cyc['duration']:.3f} s (best of {args.rounds}; all: "
            f"{', '.join(format(c['duration'], '.3f') for c in cycles)}); "
            f"lost {cyc['lost']:.0f}, wrong {cyc['wrong']:.0f}, listed "
            f"{cyc['listed']:.0f}, lists down {cyc['down']:.0f}, queries sent {cyc['sent']:,.0f}, "
            f"timeouts {cyc['timeouts']:.0f}"
        )
        ok = results["infrawatch"] >= 20000 and cyc["duration"] <= 1.0 and cyc["lost"] == 0 and cyc["wrong"] == 0
        print("goals (>= 20,000 lookups/s; cycle <= 1 s, nothing lost):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
