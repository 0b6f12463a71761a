"""Background scheduling of periodic jobs (scheduled probes, blacklist cycles).

Each job runs at its own interval.  Its first run is offset by a stable per-key jitter so a
thousand targets with the same interval are spread over that interval instead of firing at once,
and so restarts keep the same phase.  A global semaphore bounds how many jobs run concurrently;
a job that overruns its interval is not started twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

log = logging.getLogger("infrawatch.scheduler")


def stable_fraction(key: str) -> float:
    """A number in [0, 1) derived from ``key`` (same on every run and replica)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


@dataclass
class Job:
    key: Hashable
    interval: float
    run: Callable[[], Awaitable[None]]
    spec: Hashable = None  # jobs whose spec is unchanged survive a reload untouched
    task: asyncio.Task | None = field(default=None, repr=False)
    last_start: float = 0.0
    last_lag: float = 0.0  # how late the last run started compared to its slot, seconds


class Scheduler:
    def __init__(self, concurrency: int = 64):
        self.sem = asyncio.Semaphore(concurrency)
        self.concurrency = concurrency
        self.jobs: dict[Hashable, Job] = {}
        self.runs_total = 0
        self.overruns_total = 0

    def set_jobs(self, jobs: list[Job]) -> None:
        """Replace the job set; unchanged jobs keep running on their phase."""
        new = {j.key: j for j in jobs}
        for key, old in list(self.jobs.items()):
            if key not in new or new[key].spec != old.spec or new[key].interval != old.interval:
                if old.task:
                    old.task.cancel()
                del self.jobs[key]
        for key, job in new.items():
            if key in self.jobs:
                self.jobs[key].run = job.run  # pick up new closures (e.g. new module objects)
                continue
            self.jobs[key] = job
            job.task = asyncio.create_task(self._loop(job), name=f"job:{key}")

    async def _loop(self, job: Job) -> None:
        offset = stable_fraction(str(job.key)) * job.interval
        next_at = time.monotonic() + offset
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            async with self.sem:
                now = time.monotonic()
                job.last_lag = max(0.0, now - next_at)
                job.last_start = now
                self.runs_total += 1
                try:
                    await job.run()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("scheduled job failed", extra={"job": str(job.key)})
            next_at += job.interval
            if next_at < time.monotonic():
                # Overran: skip missed slots rather than bursting to catch up.
                self.overruns_total += 1
                missed = (time.monotonic() - next_at) // job.interval + 1
                next_at += missed * job.interval

    async def stop(self) -> None:
        tasks = [j.task for j in self.jobs.values() if j.task]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.jobs.clear()

    def max_lag(self) -> float:
        return max((j.last_lag for j in self.jobs.values()), default=0.0)
