"""The lookup engine: RFC 5782 test points, (target, list) lookups, TTL-aware cache, results.

One "list check" = test the list's two test points, then (only if it passed) look up every target
of the list's kind and the TXT reason of every listing.  The exporter schedules one list check per
list at the list's interval (spread over the interval by the scheduler); ``run_cycle`` runs them
all at once (CLI, benchmark, first start).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from pathlib import Path

from . import dnswire, state
from .classify import Classification, classify
from .config import ListSpec, Loaded, Target
from .names import normalize_ip, query_name
from .resolver import Answer, Resolver
from .results import ListHealth, PairResult
from .score import Summary, summarize

log = logging.getLogger("infrawatch.reputation")


# ``reputation_queries_total{result}`` values: the outcome of each packet sent (resolver.Answer.packets).
QUERY_RESULTS = (
    "noerror",
    "nxdomain",
    "servfail",
    "refused",
    "formerr",
    "notimp",
    "truncated",
    "malformed",
    "timeout",
    "error",
)


class Engine:
    def __init__(self, loaded: Loaded, resolver: Resolver | None = None):
        self.loaded = loaded
        self.resolver = resolver or self._make_resolver(loaded)
        self.results: dict[tuple[str, str], PairResult] = {}
        self.health: dict[str, ListHealth] = {}
        self._cache: dict[tuple[str, int], tuple[float, Answer]] = {}
        self.queries_total: Counter[tuple[str, str]] = Counter()  # (list, result) -> packets sent
        self.lookups_total: Counter[str] = Counter()  # list -> lookups that went to the resolver
        self.cache_hits_total = 0
        self.state_write_failures_total = 0
        self.state_last_write_ok: bool | None = None  # None: never written
        self.state_last_error = ""
        self.last_cycle_duration = 0.0
        self.last_list_duration: dict[str, float] = {}
        self._state_lock = asyncio.Lock()
        self._host_targets: list[Target] = []  # addresses of hostname / MX targets, found each cycle
        self._hosts_at = float("-inf")
        self._hosts_lock = asyncio.Lock()
        self.host_errors: dict[str, str] = {}  # host name -> reason its addresses could not be found

    @staticmethod
    def _make_resolver(loaded: Loaded) -> Resolver:
        r = loaded.raw.resolver
        return Resolver(
            r.addresses(),
            timeout=float(r.timeout),
            retries=r.retries,
            concurrency=r.concurrency,
            min_timeout=float(r.min_timeout),
        )

    # -- configuration ---------------------------------------------------------------------
    @property
    def specs(self) -> list[ListSpec]:
        return self.loaded.lists

    @property
    def targets(self) -> list[Target]:
        return self.loaded.targets + self._host_targets if self._host_targets else self.loaded.targets

    async def resolve_hosts(self, force: bool = False) -> None:
        """Find the addresses of ``host`` targets (A + AAAA) and of MX hosts (``domain`` + ``mx``).

        Done at most every half of the shortest list interval.  A name that cannot be resolved keeps
        the addresses it had (a resolver hiccup must not make its listings vanish) and is reported
        in ``host_errors``.  An address that is also configured as an ``ip`` target is checked once.
        """
        hosts = self.loaded.hosts
        if not hosts:
            self._host_targets, self.host_errors = [], {}
            return
        async with self._hosts_lock:
            fresh = min(s.interval for s in self.specs) / 2 if self.specs else 0.0
            if not force and time.monotonic() - self._hosts_at < fresh:
                return
            await self.resolver.ensure_open()
            configured = {t.value for t in self.loaded.targets}
            seen = set(configured)
            out: list[Target] = []
            errors: dict[str, str] = {}
            for hs in hosts:
                names = [hs.name]
                failed = False
                if hs.mx:
                    mx = await self.resolver.submit(hs.name, dnswire.TYPE_MX)
                    if not mx.ok:
                        errors[hs.name] = mx.reason or "error"
                        failed = True
                        names = []
                    else:
                        # RFC 5321 §5.1: no MX record means the domain itself is the mail host;
                        # RFC 7505: a null MX (".") means it receives no mail.
                        names = [h for _, h in sorted(mx.exchanges) if h] if mx.exchanges else [hs.name]
                answers = await asyncio.gather(
                    *(self.resolver.submit(n, t) for n in names for t in (dnswire.TYPE_A, dnswire.TYPE_AAAA))
                )
                for i, n in enumerate(names):
                    a4, a6 = answers[2 * i], answers[2 * i + 1]
                    if not (a4.ok and a6.ok):
                        errors[n] = (a4 if not a4.ok else a6).reason or "error"
                        failed = True
                    elif not a4.addresses and not a6.addresses6:
                        errors[n] = "no_address"  # the name exists nowhere or has no A/AAAA: nothing to check
                    for ip in [*a4.addresses, *a6.addresses6]:
                        v = str(normalize_ip(ip))
                        if v not in seen:
                            seen.add(v)
                            out.append(
                                Target(
                                    v,
                                    "ip",
                                    provider=hs.provider,
                                    pool=hs.pool,
                                    source=hs.name,
                                    labels=hs.labels,
                                    host=n,
                                )
                            )
                if failed:  # keep what this name resolved to before
                    for t in self._host_targets:
                        if t.source == hs.name and t.value not in seen:
                            seen.add(t.value)
                            out.append(t)
            for name, why in errors.items():
                log.warning("cannot resolve a host target", extra={"host": name, "reason": why})
            self._host_targets, self.host_errors, self._hosts_at = out, errors, time.monotonic()
            current = {t.value for t in self.targets}
            self.results = {k: v for k, v in self.results.items() if k[0] in current}

    @property
    def state_path(self) -> Path | None:
        sf = self.loaded.raw.state_file
        return self.loaded.base_dir / sf if sf else None

    async def apply(self, loaded: Loaded) -> None:
        """Switch to a new configuration, keeping results of pairs that still exist."""
        old_resolver = self.loaded.raw.resolver
        self.loaded = loaded
        self._hosts_at = float("-inf")  # hosts may have changed: resolve them at the next check
        if loaded.raw.resolver != old_resolver:
            await self.resolver.close()
            self.resolver = self._make_resolver(loaded)
            self._cache.clear()
        targets = {t.value for t in loaded.targets}
        names = {s.name for s in loaded.lists}
        self.results = {k: v for k, v in self.results.items() if k[0] in targets and k[1] in names}
        self.health = {k: v for k, v in self.health.items() if k in names}

    def restore(self) -> int:
        """Load the state file; returns how many pair results were restored."""
        path = self.state_path
        if path is None:
            return 0
        # Addresses of host targets are not known before the first resolution: keep every result
        # then (the first resolve_hosts() drops those no longer current), so first-seen times survive.
        known = None if self.loaded.hosts else {t.value for t in self.targets}
        results, health = state.load(path, known, {s.name for s in self.specs})
        for k, v in results.items():
            self.results.setdefault(k, v)
        for k, v in health.items():
            self.health.setdefault(k, v)
        return len(results)

    async def save_state(self) -> None:
        path = self.state_path
        if path is None:
            return
        async with self._state_lock:
            results, health = dict(self.results), dict(self.health)
            try:
                await asyncio.get_running_loop().run_in_executor(None, state.save, path, results, health)
            except (OSError, ValueError, TypeError) as exc:
                self.state_write_failures_total += 1
                self.state_last_write_ok = False
                self.state_last_error = f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
                log.error("cannot write state file", extra={"file": str(path), "err": self.state_last_error})
            else:
                self.state_last_write_ok = True
                self.state_last_error = ""

    # -- lookups -----------------------------------------------------------------------------
    async def lookup_many(self, spec: ListSpec, qnames: list[str], qtype: int = dnswire.TYPE_A) -> list[Answer]:
        """Look names up (cache first); answers in the order of ``qnames``."""
        await self.resolver.ensure_open()
        now = time.monotonic()
        answers: list[Answer | None] = [None] * len(qnames)
        misses: list[int] = []  # positions asked of the resolver (the others came from the cache)
        for i, qname in enumerate(qnames):
            hit = self._cache.get((qname, qtype))
            if hit is not None and hit[0] > now:
                self.cache_hits_total += 1
                answers[i] = hit[1]
            else:
                misses.append(i)
        if not misses:
            return answers  # type: ignore[return-value]
        asked = [qnames[i] for i in misses]
        fresh: list[Answer] = await self.resolver.submit_many(asked, qtype)
        cap_cfg = self.loaded.raw.max_cache_ttl
        # Default: half the list's interval.  Cycles run at a fixed rate, so an answer capped at a
        # full interval would still be fresh when the next cycle starts and a new listing would be
        # seen one cycle late (up to 2 x interval).  Half keeps ad-hoc checks between cycles cached.
        cap = float(cap_cfg) if cap_cfg is not None else spec.interval / 2
        now = time.monotonic()
        lookups = self.lookups_total
        queries = self.queries_total
        for i, qname, answer in zip(misses, asked, fresh, strict=True):
            answers[i] = answer
            # Every packet counts (UDP, TCP after truncation, retries): that is what a usage policy counts.
            lookups[spec.name] += 1
            for outcome in answer.packets:
                queries[(spec.name, outcome if outcome in QUERY_RESULTS else "error")] += 1
            if answer.ok and answer.ttl:
                ttl = min(float(answer.ttl), cap)
                if ttl > 0:
                    self._cache[(qname, qtype)] = (now + ttl, answer)
        return answers  # type: ignore[return-value]

    async def lookup(self, spec: ListSpec, qname: str, qtype: int = dnswire.TYPE_A) -> Answer:
        return (await self.lookup_many(spec, [qname], qtype))[0]

    async def check_targets(self, spec: ListSpec, targets: list[Target]) -> list[PairResult]:
        qnames = [query_name(t.value, spec.kind, spec.zone) for t in targets]
        answers = await self.lookup_many(spec, qnames)
        table = spec.code_table
        found = [classify(a, spec.profile, table) for a in answers]
        listed = [i for i, c in enumerate(found) if c.status == "listed"]
        reasons: dict[int, list[str]] = {}
        if listed:
            txts = await self.lookup_many(spec, [qnames[i] for i in listed], dnswire.TYPE_TXT)
            reasons = {i: sorted(set(a.texts)) if a.ok else [] for i, a in zip(listed, txts, strict=True)}
        now = time.time()
        return [
            PairResult(
                status=c.status,
                checked_at=now,
                codes=c.codes,
                categories=c.categories,
                reasons=reasons.get(i, []),
                error=c.error,
                reason=c.reason,
            )
            for i, c in enumerate(found)
        ]

    async def check_target(self, spec: ListSpec, target: Target) -> PairResult:
        return (await self.check_targets(spec, [target]))[0]

    async def test_points(self, spec: ListSpec) -> ListHealth:
        """The list's own test points (RFC 5782 §5 or documented ones) must give their answers."""
        points = spec.profile.points()
        answers = await self.lookup_many(spec, [f"{tp.name}.{spec.zone}" for tp in points])
        now = time.time()
        for tp, answer in zip(points, answers, strict=True):
            c = classify(answer, spec.profile, spec.code_table)
            why = ""
            if tp.expect == "listed" and c.status != "listed":
                why = f"is not listed ({_describe(c)}): dead list or blocked resolver"
            elif tp.expect == "listed":
                missing = [x for x in (*tp.codes, *tp.categories) if x not in c.codes and x not in c.categories]
                if missing:
                    why = f"answers {','.join(c.codes)}, without {', '.join(missing)}"
            elif c.status != "clean":
                why = f"is not clean ({_describe(c)}): the list answers 'listed' for everything"
            if why:
                return ListHealth(False, now, f"test point {tp.shown} {why}", reason_code=c.reason or "list_down")
        return ListHealth(True, now)

    async def check_list(self, spec: ListSpec, save: bool = True) -> None:
        started = time.monotonic()
        await self.resolve_hosts()
        health = await self.test_points(spec)
        self.health[spec.name] = health
        targets = [t for t in self.targets if spec.applies(t)]
        if not health.up:
            log.warning("list is down; its answers do not count", extra={"list": spec.name, "reason": health.reason})
            for t in targets:
                self._store(
                    (t.value, spec.name),
                    PairResult(
                        "error", health.checked_at, error=f"list down: {health.reason}", reason=health.reason_code
                    ),
                )
        else:
            found = await self.check_targets(spec, targets)
            for t, r in zip(targets, found, strict=True):
                self._store((t.value, spec.name), r)
        self.last_list_duration[spec.name] = time.monotonic() - started
        if save:
            await self.save_state()

    def _store(self, key: tuple[str, str], new: PairResult) -> None:
        """Keep the first-seen time of a listing across checks (and across lookup errors)."""
        old = self.results.get(key)
        if new.status == "listed":
            new.listed_since = old.listed_since if old is not None and old.listed_since is not None else new.checked_at
        elif new.status == "error" and old is not None:
            new.listed_since = old.listed_since  # unknown says nothing about delisting
        self.results[key] = new

    async def check_missing(self) -> None:
        """Check the lists that have a target without any result (after a reload)."""
        todo = [
            s
            for s in self.specs
            if s.name not in self.health
            or any((t.value, s.name) not in self.results for t in self.targets if s.applies(t))
        ]
        if todo:
            await asyncio.gather(*(self.check_list(s, save=False) for s in todo))
            await self.save_state()

    async def run_cycle(self, save: bool = True) -> float:
        """Check every list now; returns the duration in seconds."""
        started = time.monotonic()
        await self.resolve_hosts(force=True)
        await asyncio.gather(*(self.check_list(s, save=False) for s in self.specs))
        self.last_cycle_duration = time.monotonic() - started
        if save:
            await self.save_state()
        return self.last_cycle_duration

    def summaries(self) -> list[Summary]:
        scoring = self.loaded.raw.scoring
        return [summarize(t, self.specs, self.results, self.health, scoring) for t in self.targets]

    async def probe(self, target: Target) -> dict[str, PairResult]:
        """An ad-hoc check of one target on every list that applies (cache first), for ``/probe``.

        A list that is down (or was never tested: its test points are asked now) gives "error".
        The results are not stored: scheduled results stay what the cycles found.
        """
        specs = [s for s in self.specs if s.applies(target)]
        for s in specs:
            if s.name not in self.health:
                self.health[s.name] = await self.test_points(s)
        found = await asyncio.gather(*(self.check_targets(s, [target]) for s in specs))
        out: dict[str, PairResult] = {}
        for s, (r,) in zip(specs, found, strict=True):
            h = self.health[s.name]
            if not h.up:
                r = PairResult("error", r.checked_at, error=f"list down: {h.reason}", reason=h.reason_code)
            out[s.name] = r
        return out

    def packets_per_lookup(self, spec: ListSpec) -> float:
        """Packets the resolver sent per lookup of this list so far (>= 1: retries and TCP add)."""
        lookups = self.lookups_total.get(spec.name, 0)
        packets = sum(n for (lst, _), n in self.queries_total.items() if lst == spec.name)
        return max(1.0, packets / lookups) if lookups else 1.0

    def projected_daily_packets(self, spec: ListSpec) -> float:
        return self.loaded.projected_daily_queries(spec) * self.packets_per_lookup(spec)

    def spec(self, name: str) -> ListSpec | None:
        return next((s for s in self.specs if s.name == name), None)

    async def close(self) -> None:
        await self.resolver.close()


def _describe(c: Classification) -> str:
    if c.status == "error":
        return c.error
    if c.status == "listed":
        return "listed " + ",".join(c.codes)
    return "NXDOMAIN"
