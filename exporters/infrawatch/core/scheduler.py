"""Background scheduling of periodic jobs (scheduled probes, blacklist cycles).

Each job runs at its own interval.  Its first run is offset by a stable per-key jitter so a
thousand targets with the same interval are spread over that interval instead of firing at once,
and so restarts keep the same phase.  A global semaphore bounds how many jobs run concurrently;
a job that overruns its interval is not started twice.

Slow jobs do not hold up the others (head-of-line blocking: 200 hanging targets used to delay
200 healthy ones far past their interval).  With ``slow_after`` set, a run still going after that
many seconds gives its slot back and finishes in a separate budget of ``slow_limit`` runs (each
still bounded by its own timeout); only when that budget is full does it keep its slot.
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
    def __init__(self, concurrency: int = 64, slow_after: float | None = None, slow_limit: int | None = None):
        self.sem = asyncio.Semaphore(concurrency)
        self.concurrency = concurrency
        self.slow_after = slow_after  # None: a run holds its slot to the end
        self.slow_limit = slow_limit if slow_limit is not None else 4 * concurrency
        self.slow_running = 0  # runs that gave their slot back and are still going
        self.jobs: dict[Hashable, Job] = {}
        self.runs_total = 0
        self.overruns_total = 0
        self.moved_total = 0  # runs moved to the slow budget

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
            await self._run_once(job, next_at)
            next_at += job.interval
            if next_at < time.monotonic():
                # Overran: skip missed slots rather than bursting to catch up.
                self.overruns_total += 1
                missed = (time.monotonic() - next_at) // job.interval + 1
                next_at += missed * job.interval

    async def _run_once(self, job: Job, slot: float) -> None:
        sem = self.sem  # release the one acquired, even if a reload swaps it meanwhile
        await sem.acquire()
        holding, moved = True, False
        now = time.monotonic()
        job.last_lag = max(0.0, now - slot)
        job.last_start = now
        self.runs_total += 1
        run = asyncio.ensure_future(job.run())
        try:
            if self.slow_after is not None:
                await asyncio.wait({run}, timeout=self.slow_after)
                if not run.done() and self.slow_running < self.slow_limit:
                    sem.release()
                    holding, moved = False, True
                    self.slow_running += 1
                    self.moved_total += 1
            await run
        except asyncio.CancelledError:
            run.cancel()
            raise
        except Exception:
            log.exception("scheduled job failed", extra={"job": str(job.key)})
        finally:
            if holding:
                sem.release()
            if moved:
                self.slow_running -= 1

    async def stop(self) -> None:
        tasks = [j.task for j in self.jobs.values() if j.task]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.jobs.clear()

    def max_lag(self) -> float:
        return max((j.last_lag for j in self.jobs.values()), default=0.0)
