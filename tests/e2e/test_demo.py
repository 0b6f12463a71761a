"""Smoke tests of ``make demo`` (scripts/demo.py) as a subprocess: URLs, a page, nothing left behind.

The demo runs with ``--fast`` (timeline compressed 5x, 5 s pending times) and ``--probe-port 0``
(9516, its default, may be taken by another run on this machine).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

URL_LABELS = (
    "console (Infrastructure Monitoring)",
    "probe exporter (status page)",
    "reputation exporter (status page)",
    "Prometheus (alerts)",
    "Alertmanager (alerts)",
    "fake PagerDuty (Events API v2)",
    "fake Slack (incoming webhook)",
)
CHILDREN = {"rbldnsd", "probe-exporter", "reputation-exporter", "alertmanager", "prometheus", "console"}
FAST_FACTOR = 5  # scripts/demo.py --fast
DEMO_MD = Path(__file__).resolve().parents[2] / "docs" / "demo.md"
LINE_RE = r"^\[ *\d+s\] "


def docs_timeline() -> list[tuple[int, str, str]]:
    """(t seconds, change, notification) of docs/demo.md's timeline table."""
    text = DEMO_MD.read_text()
    section = text[text.index("## Timeline") :]
    rows = re.findall(r"^\| (\d+) s \| (.+?) \| `(.+?)` \|", section, re.M)
    return [(int(t), what.replace("`", ""), expect) for t, what, expect in rows]


def printed_timeline(output: str) -> list[tuple[float, str, str]]:
    return [
        (float(t), what, expect) for t, what, expect in re.findall(r"^  t\+ *(\d+)s  (.+?)  ->  (.+)$", output, re.M)
    ]


def http_get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode("utf-8", "replace")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def printed_pids(output: str) -> dict[str, int]:
    m = re.search(r"^child PIDs: (.+)$", output, re.M)
    assert m, f"the demo did not print its child PIDs:\n{output}"
    return {name: int(pid) for name, pid in (pair.split("=") for pair in m.group(1).split())}


class Demo:
    def __init__(self, repo_root: Path, workdir: Path, *args: str):
        self.log = workdir / "demo-output.txt"
        workdir.mkdir(parents=True, exist_ok=True)
        self._out = open(self.log, "w")  # noqa: SIM115 - closed in close()
        argv = [sys.executable, str(repo_root / "scripts" / "demo.py"), "--fast", "--probe-port", "0"]
        self.proc = subprocess.Popen(
            [*argv, "--workdir", str(workdir / "stack"), *args],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            cwd=repo_root,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_output(self, pattern: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.output(), re.M):
            assert self.proc.poll() is None, f"demo exited with {self.proc.returncode}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {pattern!r} after {timeout}s:\n{self.output()}"
            time.sleep(0.2)

    def close(self) -> None:
        """Stop the demo (by its PID) and, should it have left any, the children it printed."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._out.close()
        if re.search(r"^child PIDs: ", self.output(), re.M):
            for pid in printed_pids(self.output()).values():
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def demo_factory(repo_root: Path, tmp_path: Path) -> Iterator[Callable[..., Demo]]:
    started: list[Demo] = []

    def start(*args: str) -> Demo:
        d = Demo(repo_root, tmp_path / f"demo-{len(started)}", *args)
        started.append(d)
        return d

    yield start
    for d in started:
        d.close()


def test_demo_cycle_tells_the_story_and_ends_green(demo_factory) -> None:
    """One ``--fast`` cycle (60 s): every step's notification arrives (latency printed), only POSTs
    are notifications, SLO pages are apart, every story alert resolves, the printed URLs answer,
    the printed timeline is docs/demo.md's, and no process is left behind."""
    demo = demo_factory("--cycles", "1")
    demo.wait_output(LINE_RE + r"READY ", timeout=120)
    out = demo.output()
    urls = dict(re.findall(r"^  (\S.*?) +(https?://\S+)$", out, re.M))
    for label in URL_LABELS:
        assert re.match(r"http://127\.0\.0\.1:\d+/", urls.get(label, "")), f"no {label} URL:\n{out}"
    # the console's page is the first URL printed
    first = re.search(r"^  (\S.*?) +(http://\S+)$", out, re.M)
    assert first and first.group(1) == URL_LABELS[0] and first.group(2).endswith("/dashboard/system/infrastructure")
    # Every printed URL answers, with the Prometheus and Alertmanager installed here (Debian's:
    # Prometheus' classic UI, Alertmanager without a web UI); a browser opening a receiver is no page.
    for label, url in urls.items():
        status, body = http_get(url)
        assert status == 200, (label, url, status)
        assert "does not include a web application" not in " ".join(body.split()), (label, url)
    http_get(urls["fake PagerDuty (Events API v2)"])
    http_get(urls["fake Slack (incoming webhook)"])

    assert demo.proc.wait(150) == 0, demo.output()
    out = demo.output()
    pids = printed_pids(out)
    assert set(pids) == CHILDREN
    assert [name for name, pid in pids.items() if alive(pid)] == []

    # The printed timeline is docs/demo.md's (times divided by 5 with --fast).
    docs = docs_timeline()
    assert docs, "docs/demo.md has no timeline table"
    assert printed_timeline(out)[: len(docs)] == [(t / FAST_FACTOR, what, exp) for t, what, exp in docs], out

    # Each step's notification came, with its latency, in order.
    latencies = re.findall(LINE_RE + r"LATENCY +(.+) -> (.+): ([\d.]+) s$", out, re.M)
    assert [(what, exp) for what, exp, _ in latencies] == [(what, exp) for _, what, exp in docs], out
    assert all(0 < float(t) < 60 for *_, t in latencies), latencies
    # The listing's page carries the delisting link.
    pages = re.findall(LINE_RE + r"PAGE +(\S+) +(.+)$", out, re.M)
    assert any(
        a == "trigger" and "IPListedOnMajorBlacklist" in p and "delist: https://check.spamhaus.org/" in p
        for a, p in pages
    ), out
    # GETs are not notifications (the fakes answered them with a page): every page is a real event.
    assert all(a in ("trigger", "resolve") for a, _ in pages), pages
    # SLO burn-rate pages are printed apart, never as PAGE lines.
    assert not [p for _, p in pages if "SLOErrorBudget" in p], pages
    # Every story alert that fired has resolved: the cycle ends green.
    cycle = re.findall(LINE_RE + r"CYCLE +1 (green|red): (.+)$", out, re.M)
    assert cycle and cycle[0][0] == "green", out
    fired = set(re.findall(LINE_RE + r"ALERT +firing +(\w+)", out, re.M)) - {"Watchdog"}
    resolved = set(re.findall(LINE_RE + r"ALERT +resolved +(\w+)", out, re.M))
    assert fired and fired <= resolved, (fired - resolved, out)
    assert re.search(LINE_RE + r"STOP +stopped: ", out, re.M)


def test_demo_stops_everything_on_sigint(demo_factory) -> None:
    demo = demo_factory()
    demo.wait_output(r"^\[ *\d+s\] READY ", timeout=120)
    pids = printed_pids(demo.output())
    assert all(alive(pid) for pid in pids.values())
    demo.proc.send_signal(
        signal.SIGINT
    )  # to the demo only, as `kill -INT`; a terminal's Ctrl-C also reaches its children
    assert demo.proc.wait(60) == 0, demo.output()
    assert [name for name, pid in pids.items() if alive(pid)] == []


def test_demo_stops_everything_when_its_output_goes_away(repo_root: Path, tmp_path: Path) -> None:
    """`make demo | head` or a closed terminal: the next line it writes fails, and the demo must
    still stop every process it started (it once died on the broken pipe and left them running)."""
    argv = [sys.executable, str(repo_root / "scripts" / "demo.py"), "--fast", "--probe-port", "0"]
    proc = subprocess.Popen(
        [*argv, "--workdir", str(tmp_path / "stack")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=repo_root,
        text=True,
    )
    pids: dict[str, int] = {}
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("child PIDs: "):
                pids = printed_pids(line)
                break
        assert set(pids) == CHILDREN, "".join(seen)
        proc.stdout.close()  # the reader goes away; the demo's next line hits a broken pipe
        assert proc.wait(120) == 0
        assert [name for name, pid in pids.items() if alive(pid)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for pid in pids.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
