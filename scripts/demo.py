#!/usr/bin/env python3
"""``make demo``: the whole infrawatch value chain on this machine -- probe, listing, alert, page.

Starts ``infrawatch_dev.devstack.stack.DevStack`` (rbldnsd with the demo blacklists, both exporters, a demo
app, Prometheus with the generated rules, Alertmanager with the generated routes and local fake
PagerDuty/Slack/webhook/SMTP receivers), then plays a timeline on it: the demo IP gets listed on a
major blacklist and delisted later, the app's health goes healthy -> degraded -> down -> healthy.  It
prints the URLs, the PIDs it started, and one line per alert change and per notification received.
Ctrl-C (SIGINT) or SIGTERM stops exactly the processes it started.  See docs/demo.md.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infrawatch_dev.devstack.receivers import HTTPRequest, SMTPMessage
from infrawatch_dev.devstack.stack import DEMO_LIST_ZONE, DevStack, Timings

ROOT = Path(__file__).resolve().parent.parent
CYCLE_SECONDS = 300  # the timeline repeats every 5 minutes (every minute with --fast)
FAST_FACTOR = 5


@dataclass(frozen=True)
class Step:
    at: float  # seconds into the cycle
    what: str
    action: Callable[[DevStack], object]


def timeline(stack: DevStack) -> list[Step]:
    ip = stack.demo_target
    return [
        Step(60, f"{ip} gets listed on {DEMO_LIST_ZONE} (spamhaus-zen, a major list)", lambda s: s.set_listed(True)),
        Step(90, "the demo app's health turns degraded (slow RPC dependency)", lambda s: s.set_app_health("degraded")),
        Step(150, "the demo app goes down (database check failing, 503)", lambda s: s.set_app_health("down")),
        Step(210, "the demo app recovers (healthy)", lambda s: s.set_app_health("healthy")),
        Step(240, f"{ip} is delisted from {DEMO_LIST_ZONE}", lambda s: s.set_listed(False)),
    ]


class LiveView:
    """Prints timestamped lines from the main thread and the receivers' threads."""

    def __init__(self, stop: threading.Event) -> None:
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self.heartbeats = 0
        self.stop = stop

    def emit(self, kind: str, text: str) -> None:
        with self._lock:
            try:
                print(f"[{time.monotonic() - self.t0:5.0f}s] {kind:<8} {text}", flush=True)
            except OSError:  # the reader went away (`make demo | head`, a closed terminal): stop cleanly
                output_gone()
                self.stop.set()

    # ---- notifications ------------------------------------------------------------------------
    def pagerduty(self, req: HTTPRequest) -> None:
        ev = req.json if isinstance(req.json, dict) else {}
        payload = ev.get("payload") or {}
        details = payload.get("custom_details") or {}
        parts = [f"{ev.get('event_action', '?'):<8}", payload.get("summary", "?")]
        parts += _links(details.get("description", ""), details.get("runbook_url", ""))
        self.emit("PAGE", "  ".join(parts))

    def slack(self, req: HTTPRequest) -> None:
        msg = req.json if isinstance(req.json, dict) else {}
        att = (msg.get("attachments") or [{}])[0]
        runbook = next((a.get("url", "") for a in att.get("actions", []) if a.get("text") == "Runbook"), "")
        parts = [msg.get("channel", "?"), att.get("title", "?"), *_links(att.get("text", ""), runbook)]
        self.emit("SLACK", "  ".join(parts))

    def mail(self, msg: SMTPMessage) -> None:
        self.emit("MAIL", f"to {', '.join(msg.rcpt_tos)}: {msg.subject}")

    def webhook(self, req: HTTPRequest) -> None:
        if req.path.startswith("/heartbeat"):
            self.heartbeats += 1
            if self.heartbeats == 1:
                self.emit("WEBHOOK", "heartbeat (Watchdog) received: the pipeline works; later heartbeats not shown")
            return
        doc = req.json if isinstance(req.json, dict) else {}
        names = sorted({a.get("labels", {}).get("alertname", "?") for a in doc.get("alerts", [])})
        self.emit("WEBHOOK", f"{req.path} {doc.get('status', '?')}: {', '.join(names)}")


def output_gone() -> None:
    """Point stdout at /dev/null, so the shutdown path and the interpreter's exit never write to a
    broken pipe again (which would raise before the processes are stopped)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _links(text: str, runbook: str) -> list[str]:
    """The delisting link (from a reputation alert's description) and the runbook URL."""
    out = []
    delist = re.search(r"Delisting: (\S+)", text)
    if delist:
        out.append(f"delist: {delist.group(1)}")
    if runbook:
        out.append(f"runbook: {runbook}")
    return out


def _describe(labels: dict[str, str]) -> str:
    keys = ("service", "target", "list", "sloth_slo", "slo_burn_tier", "job", "instance")
    extra = " ".join(f"{k}={labels[k]}" for k in keys if k in labels)
    return f"{labels.get('alertname', '?')} {labels.get('severity', '')} {extra}".strip()


class AlertWatcher:
    """Polls Prometheus (pending rules) and Alertmanager (firing, inhibited, resolved); prints changes."""

    def __init__(self, stack: DevStack, view: LiveView):
        self.stack = stack
        self.view = view
        self.pending: set[tuple] = set()
        self.alerts: dict[str, tuple[str, dict[str, str]]] = {}

    def poll(self) -> None:
        try:
            rules = self.stack.prometheus.api("alerts")["alerts"]
            alerts = self.stack.alertmanager.alerts()
        except OSError:  # a server stopping (Ctrl-C reaches the whole process group)
            return
        pending = {tuple(sorted(a["labels"].items())) for a in rules if a["state"] == "pending"}
        for key in sorted(pending - self.pending):
            self.view.emit("RULE", f"pending  {_describe(dict(key))} (waits its for: {self.stack.timings.alert_for})")
        self.pending = pending
        names = {a["fingerprint"]: a["labels"].get("alertname", "?") for a in alerts}
        seen = {}
        for a in alerts:
            fp, state = a["fingerprint"], a["status"]["state"]
            seen[fp] = (state, a["labels"])
            before = self.alerts.get(fp, ("", {}))[0]
            if state == before:
                continue
            if state == "suppressed" and a["status"].get("inhibitedBy"):
                by = ", ".join(sorted({names.get(f, f) for f in a["status"]["inhibitedBy"]}))
                self.view.emit("ALERT", f"inhibited {_describe(a['labels'])} (by {by})")
            elif state == "active":
                self.view.emit("ALERT", f"{'firing' if not before else 'active'}   {_describe(a['labels'])}")
        for fp in self.alerts.keys() - seen.keys():
            self.view.emit("ALERT", f"resolved {_describe(self.alerts[fp][1])}")
        self.alerts = seen


def print_banner(stack: DevStack, steps: list[Step], scale: float, workdir: Path) -> None:
    print("infrawatch demo: everything runs on loopback; logs and configs in", workdir)
    for name, url in stack.urls().items():
        print(f"  {name:<40} {url}")
    pids = " ".join(f"{k}={v}" for k, v in stack.pids().items())
    print(f"child PIDs: {pids}")
    print(f"timeline (repeats every {CYCLE_SECONDS * scale:.0f}s):")
    for s in steps:
        print(f"  t+{s.at * scale:4.0f}s  {s.what}")
    print("Ctrl-C stops the demo and every process it started.", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0].replace("``", ""))
    p.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0 = until Ctrl-C)")
    p.add_argument("--fast", action="store_true", help=f"timeline {FAST_FACTOR}x faster, 5 s alert pending times")
    p.add_argument("--probe-port", type=int, default=9516, help="probe exporter port (examples/probe.yml: 9516; 0=any)")
    p.add_argument("--workdir", type=Path, default=None, help="configs, data and logs (default .demo/<time>)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    # SIGHUP: the terminal closed.  All three end the demo through the same path, which stops the
    # processes it started before anything else.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    scale = 1 / FAST_FACTOR if args.fast else 1.0
    workdir = args.workdir or ROOT / ".demo" / time.strftime("%Y%m%d-%H%M%S")
    view = LiveView(stop)
    stack = DevStack(workdir, Timings() if args.fast else Timings.demo(), probe_listen=f"127.0.0.1:{args.probe_port}")
    print("infrawatch demo: starting (first start renders the mixin; takes ~10 s) ...", flush=True)
    try:
        stack.start()
    except Exception as exc:  # stack.start() has stopped whatever it had started
        print(f"infrawatch demo: could not start: {exc}", file=sys.stderr)
        if args.probe_port and "address already in use" in str(exc).lower():
            print(f"port {args.probe_port} is taken: try --probe-port 0", file=sys.stderr)
        print(f"logs: {workdir}", file=sys.stderr)
        return 1
    try:
        steps = timeline(stack)
        try:
            print_banner(stack, steps, scale, workdir)
        except OSError:
            output_gone()
            stop.set()
        stack.pagerduty.subscribe(view.pagerduty)
        stack.slack.subscribe(view.slack)
        stack.smtp.subscribe(view.mail)
        stack.webhook.subscribe(view.webhook)
        watcher = AlertWatcher(stack, view)
        if not stop.is_set():
            stack.wait_ready()
            view.emit("READY", "all targets scraped; the timeline starts now")
        start = time.monotonic()
        done = 0  # steps run in the current cycle
        cycle = 0
        while not stop.is_set():
            elapsed = time.monotonic() - start
            if args.duration and time.monotonic() - view.t0 >= args.duration:
                view.emit("DONE", f"--duration {args.duration:g}s reached")
                break
            cycle_now = int(elapsed // (CYCLE_SECONDS * scale))
            if cycle_now != cycle:
                cycle, done = cycle_now, 0
            while done < len(steps) and elapsed - cycle * CYCLE_SECONDS * scale >= steps[done].at * scale:
                view.emit("STEP", steps[done].what)
                steps[done].action(stack)
                done += 1
            watcher.poll()
            stop.wait(1.0)
    except Exception as exc:
        if not stop.is_set():  # errors while shutting down on Ctrl-C are expected
            print(f"infrawatch demo: {type(exc).__name__}: {exc}", file=sys.stderr)
            raise
    finally:
        pids = stack.pids()
        try:
            view.emit("STOP", "stopping every process the demo started ...")
        finally:
            stack.stop()
        view.emit("STOP", f"stopped: {' '.join(f'{k}={v}' for k, v in pids.items())}; logs in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
