#!/usr/bin/env python3
"""``make demo``: the whole infrawatch value chain on this machine -- probe, listing, alert, page.

Starts ``infrawatch_dev.devstack.stack.DevStack`` (rbldnsd with the demo blacklists, both exporters, a demo
app, Prometheus with the generated rules, Alertmanager with the generated routes and local fake
PagerDuty/Slack/webhook/SMTP receivers), then plays a timeline on it: the demo IP gets listed on a
major blacklist and delisted later, the app's health goes healthy -> degraded -> down -> healthy.  It
prints the URLs, the PIDs it started, and one line per alert change and per notification received.
Each cycle tells one story and ends green: every story step names the notification it causes (the
latency from the change to that notification is measured and printed), only receivers' POSTs count
as notifications, the SLO burn-rate alerts (windows of hours) are printed apart as ``SLO`` lines, and
the ``CYCLE`` line at the end of each cycle says whether every story alert has resolved.
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

import yaml

from infrawatch_dev.devstack.mixin import is_slo_area
from infrawatch_dev.devstack.receivers import HTTPRequest, SMTPMessage
from infrawatch_dev.devstack.stack import DEMO_LIST_ZONE, DevStack, Timings

ROOT = Path(__file__).resolve().parent.parent
CYCLE_SECONDS = 300  # the timeline repeats every 5 minutes (every minute with --fast)
FAST_FACTOR = 5


@dataclass(frozen=True)
class Expect:
    """The notification a step causes: ``PAGE trigger IPListedOnMajorBlacklist``."""

    kind: str  # PAGE (PagerDuty) | SLACK
    action: str  # PagerDuty event_action (trigger|resolve) or Slack status (firing|resolved)
    alert: str

    def __str__(self) -> str:
        return f"{self.kind} {self.action} {self.alert}"


@dataclass(frozen=True)
class Step:
    at: float  # seconds into the cycle
    what: str
    action: Callable[[DevStack], object]
    expect: Expect


def timeline(stack: DevStack) -> list[Step]:
    """One cycle's story (docs/demo.md's timeline table is checked against it by tests/e2e)."""
    ip = stack.demo_target
    return [
        Step(
            30,
            f"{ip} gets listed on {DEMO_LIST_ZONE} (spamhaus-zen, a major list)",
            lambda s: s.set_listed(True),
            Expect("PAGE", "trigger", "IPListedOnMajorBlacklist"),
        ),
        Step(
            60,
            "the demo app's health turns degraded (slow RPC dependency)",
            lambda s: s.set_app_health("degraded"),
            Expect("SLACK", "firing", "ServiceDegraded"),
        ),
        Step(
            120,
            "the demo app goes down (database check failing, 503)",
            lambda s: s.set_app_health("down"),
            Expect("PAGE", "trigger", "ServiceProbeFailing"),
        ),
        Step(
            180,
            "the demo app recovers (healthy)",
            lambda s: s.set_app_health("healthy"),
            Expect("PAGE", "resolve", "ServiceProbeFailing"),
        ),
        Step(
            200,
            f"{ip} is delisted from {DEMO_LIST_ZONE}",
            lambda s: s.set_listed(False),
            Expect("PAGE", "resolve", "IPListedOnMajorBlacklist"),
        ),
    ]


@dataclass(frozen=True)
class Note:
    """One notification a fake receiver got (a POST), normalised for the story."""

    kind: str  # PAGE | SLACK | MAIL | WEBHOOK
    action: str  # trigger|resolve (PagerDuty), firing|resolved (the others)
    alerts: tuple[str, ...]
    received_at: float


TITLE_RE = re.compile(r"^\[(FIRING|RESOLVED)(?::\d+)?\] (\S+)")


def slo_alert_names(rule_files: list[Path]) -> set[str]:
    """Alert names of the SLO rule areas (``slo-*.yaml``): the burn-rate alerts shown apart."""
    names = set()
    for path in rule_files:
        if is_slo_area(path.stem):
            doc = yaml.safe_load(path.read_text()) or {}
            names |= {r["alert"] for g in doc.get("groups", []) for r in g.get("rules", []) if "alert" in r}
    return names


class Story:
    """Matches the notifications against the steps of the running cycle; measures the latencies."""

    def __init__(self, steps: list[Step], view: LiveView) -> None:
        self.steps = steps
        self.view = view
        self._lock = threading.Lock()
        self.cycle = 0
        self.done: dict[int, float] = {}  # step index -> time.time() the change was made
        self.latencies: dict[int, float] = {}  # step index -> seconds change -> notification

    def new_cycle(self, cycle: int) -> None:
        with self._lock:
            self.cycle, self.done, self.latencies = cycle, {}, {}

    def step_done(self, index: int, at: float) -> None:
        with self._lock:
            self.done[index] = at

    def notified(self, note: Note) -> None:
        with self._lock:
            for i, changed_at in self.done.items():
                e = self.steps[i].expect
                if i in self.latencies or note.received_at < changed_at:
                    continue
                if note.kind == e.kind and note.action == e.action and e.alert in note.alerts:
                    self.latencies[i] = note.received_at - changed_at
                    self.view.emit("LATENCY", f"{self.steps[i].what} -> {e}: {self.latencies[i]:.1f} s")

    def missing(self) -> list[Step]:
        with self._lock:
            return [s for i, s in enumerate(self.steps) if i not in self.latencies]


class LiveView:
    """Prints timestamped lines from the main thread and the receivers' threads.

    Only what a receiver got by POST is a notification (the fakes do not even record a GET).  A
    notification about SLO burn-rate alerts is printed as ``SLO`` and left out of the story.
    """

    def __init__(self, stop: threading.Event) -> None:
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self.heartbeats = 0
        self.stop = stop
        self.story: Story | None = None
        self.slo_alerts: set[str] = set()
        self.pd_classes: dict[str, str] = {}  # dedup_key -> alertname of its trigger

    def emit(self, kind: str, text: str) -> None:
        with self._lock:
            try:
                print(f"[{time.monotonic() - self.t0:5.0f}s] {kind:<8} {text}", flush=True)
            except OSError:  # the reader went away (`make demo | head`, a closed terminal): stop cleanly
                output_gone()
                self.stop.set()

    def notification(self, note: Note, text: str) -> None:
        """Print one notification; SLO ones apart; the story's ones also go to the story tracker."""
        if self.slo_alerts & set(note.alerts):
            self.emit("SLO", f"{note.kind.lower()}: {text}")
            return
        self.emit(note.kind, text)
        if self.story is not None:
            self.story.notified(note)

    # ---- notifications ------------------------------------------------------------------------
    def pagerduty(self, req: HTTPRequest) -> None:
        if req.method != "POST":
            return
        ev = req.json if isinstance(req.json, dict) else {}
        payload = ev.get("payload") or {}
        details = payload.get("custom_details") or {}
        action = str(ev.get("event_action", "?"))
        dedup = str(ev.get("dedup_key", ""))
        alertname = str(payload.get("class") or self.pd_classes.get(dedup, "?"))
        if action == "trigger":
            self.pd_classes[dedup] = alertname
        parts = [f"{action:<8}", payload.get("summary", "?")]
        parts += _links(details.get("description", ""), details.get("runbook_url", ""))
        self.notification(Note("PAGE", action, (alertname,), req.received_at), "  ".join(parts))

    def slack(self, req: HTTPRequest) -> None:
        if req.method != "POST":
            return
        msg = req.json if isinstance(req.json, dict) else {}
        att = (msg.get("attachments") or [{}])[0]
        runbook = next((a.get("url", "") for a in att.get("actions", []) if a.get("text") == "Runbook"), "")
        title = str(att.get("title", "?"))
        m = TITLE_RE.match(title)
        note = Note("SLACK", m.group(1).lower() if m else "?", (m.group(2),) if m else (), req.received_at)
        parts = [msg.get("channel", "?"), title, *_links(att.get("text", ""), runbook)]
        self.notification(note, "  ".join(parts))

    def mail(self, msg: SMTPMessage) -> None:
        m = TITLE_RE.match(msg.subject)
        note = Note("MAIL", m.group(1).lower() if m else "?", (m.group(2),) if m else (), msg.received_at)
        self.notification(note, f"to {', '.join(msg.rcpt_tos)}: {msg.subject}")

    def webhook(self, req: HTTPRequest) -> None:
        if req.method != "POST":
            return
        if req.path.startswith("/heartbeat"):
            self.heartbeats += 1
            if self.heartbeats == 1:
                self.emit("WEBHOOK", "heartbeat (Watchdog) received: the pipeline works; later heartbeats not shown")
            return
        doc = req.json if isinstance(req.json, dict) else {}
        names = tuple(sorted({a.get("labels", {}).get("alertname", "?") for a in doc.get("alerts", [])}))
        status = str(doc.get("status", "?"))
        self.notification(Note("WEBHOOK", status, names, req.received_at), f"{req.path} {status}: {', '.join(names)}")


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
    """Polls Prometheus (pending rules) and Alertmanager (firing, inhibited, resolved); prints changes.

    ``story_active()`` is every active alert but the always-firing Watchdog and the SLO burn-rate
    alerts (shown apart).
    """

    def __init__(self, stack: DevStack, view: LiveView, slo_alerts: set[str]):
        self.stack = stack
        self.view = view
        self.slo_alerts = slo_alerts
        self.pending: set[tuple] = set()
        self.alerts: dict[str, tuple[str, dict[str, str]]] = {}

    def _emit(self, labels: dict[str, str], kind: str, text: str) -> None:
        """One line per change of a story alert; the SLO alerts' changes are not printed (a dozen
        burn-rate tiers): their notifications are, as ``SLO`` lines, and the ``CYCLE`` line names them."""
        if labels.get("alertname") not in self.slo_alerts:
            self.view.emit(kind, text)

    def poll(self) -> None:
        try:
            rules = self.stack.prometheus.api("alerts")["alerts"]
            alerts = self.stack.alertmanager.alerts()
        except OSError:  # a server stopping (Ctrl-C reaches the whole process group)
            return
        pending = {tuple(sorted(a["labels"].items())) for a in rules if a["state"] == "pending"}
        for key in sorted(pending - self.pending):
            labels = dict(key)
            self._emit(labels, "RULE", f"pending  {_describe(labels)} (waits its for: {self.stack.timings.alert_for})")
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
                self._emit(a["labels"], "ALERT", f"inhibited {_describe(a['labels'])} (by {by})")
            elif state == "active":
                self._emit(a["labels"], "ALERT", f"{'firing' if not before else 'active'}   {_describe(a['labels'])}")
        for fp in self.alerts.keys() - seen.keys():
            labels = self.alerts[fp][1]
            self._emit(labels, "ALERT", f"resolved {_describe(labels)}")
        self.alerts = seen

    def story_active(self) -> list[str]:
        """Active (or inhibited) alerts of the story: all but Watchdog and the SLO alerts."""
        return sorted(
            _describe(labels)
            for _, labels in self.alerts.values()
            if labels.get("alertname") not in self.slo_alerts | {"Watchdog"}
        )

    def slo_active(self) -> list[str]:
        return sorted({labels.get("alertname", "?") for _, labels in self.alerts.values()} & self.slo_alerts)


def service_light(stack: DevStack, service: str = "api") -> str:
    """The traffic light of the demo app (``infrawatch:service_status``: 2 green, 1 yellow, 0 red)."""
    try:
        result = stack.prometheus.query(f'infrawatch:service_status{{service="{service}"}}')
    except OSError:
        return "unknown"
    if not result:
        return "unknown"
    return {2: "green", 1: "yellow", 0: "red"}.get(int(float(result[0]["value"][1])), "unknown")


def end_of_cycle(cycle: int, story: Story, watcher: AlertWatcher, stack: DevStack, view: LiveView) -> bool:
    """Print the ``CYCLE`` line: green when every expected notification came, no story alert is
    active and the app's traffic light is green.  Returns whether it is green."""
    watcher.poll()
    active, missing, light = watcher.story_active(), story.missing(), service_light(stack)
    measured = ", ".join(f"{story.steps[i].expect}: {t:.1f} s" for i, t in sorted(story.latencies.items()))
    slo = watcher.slo_active()
    apart = f"; SLO alerts active (shown apart): {', '.join(slo)}" if slo else ""
    green = not active and not missing and light == "green"
    if green:
        view.emit("CYCLE", f"{cycle} green: every story alert resolved, api light green; latencies {measured}{apart}")
    else:
        problems = [f"still active: {'; '.join(active)}"] if active else []
        problems += [f"not seen: {', '.join(str(s.expect) for s in missing)}"] if missing else []
        problems += [f"api light {light}"] if light != "green" else []
        view.emit("CYCLE", f"{cycle} red: {'; '.join(problems)}; latencies {measured}{apart}")
    return green


def print_banner(stack: DevStack, steps: list[Step], scale: float, workdir: Path) -> None:
    print("infrawatch demo: everything runs on loopback; logs and configs in", workdir)
    for name, url in stack.urls().items():
        print(f"  {name:<40} {url}")
    pids = " ".join(f"{k}={v}" for k, v in stack.pids().items())
    print(f"child PIDs: {pids}")
    print(f"timeline (repeats every {CYCLE_SECONDS * scale:.0f}s):")
    for s in steps:
        print(f"  t+{s.at * scale:4.0f}s  {s.what}  ->  {s.expect}")
    print(f"  t+{CYCLE_SECONDS * scale:4.0f}s  end of the cycle: every story alert resolved  ->  CYCLE green")
    print("Ctrl-C stops the demo and every process it started.", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0].replace("``", ""))
    p.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0 = until Ctrl-C)")
    p.add_argument("--cycles", type=int, default=0, help="stop after this many cycles (0 = until Ctrl-C)")
    p.add_argument(
        "--fast",
        action="store_true",
        help=f"timeline {FAST_FACTOR}x faster, 5 s alert pending times, 10 s rate windows",
    )
    p.add_argument("--probe-port", type=int, default=9516, help="probe exporter port (examples/probe.yml: 9516; 0=any)")
    p.add_argument("--workdir", type=Path, default=None, help="configs, data and logs (default .demo/<time>)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()
    status = 0

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    # SIGHUP: the terminal closed.  All three end the demo through the same path, which stops the
    # processes it started before anything else.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    scale = 1 / FAST_FACTOR if args.fast else 1.0
    workdir = args.workdir or ROOT / ".demo" / time.strftime("%Y%m%d-%H%M%S")
    view = LiveView(stop)
    stack = DevStack(workdir, Timings.demo(fast=args.fast), probe_listen=f"127.0.0.1:{args.probe_port}")
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
        view.slo_alerts = slo_alert_names(stack.rule_files)
        story = view.story = Story(steps, view)
        stack.pagerduty.subscribe(view.pagerduty)
        stack.slack.subscribe(view.slack)
        stack.smtp.subscribe(view.mail)
        stack.webhook.subscribe(view.webhook)
        watcher = AlertWatcher(stack, view, view.slo_alerts)
        if not stop.is_set():
            stack.wait_ready()
            view.emit("READY", "all targets scraped; the timeline starts now")
        start = time.monotonic()
        done = 0  # steps run in the current cycle
        cycle = 0
        cycle_seconds = CYCLE_SECONDS * scale
        while not stop.is_set():
            elapsed = time.monotonic() - start
            if args.duration and time.monotonic() - view.t0 >= args.duration:
                view.emit("DONE", f"--duration {args.duration:g}s reached")
                break
            cycle_now = int(elapsed // cycle_seconds)
            if cycle_now != cycle:
                green = end_of_cycle(cycle + 1, story, watcher, stack, view)
                if args.cycles and cycle_now >= args.cycles:
                    view.emit("DONE", f"--cycles {args.cycles} reached")
                    status = 0 if green else 3
                    break
                cycle, done = cycle_now, 0
                story.new_cycle(cycle)
            while done < len(steps) and elapsed - cycle * cycle_seconds >= steps[done].at * scale:
                view.emit("STEP", f"{steps[done].what} (expect {steps[done].expect})")
                steps[done].action(stack)
                story.step_done(done, time.time())
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
    return status


if __name__ == "__main__":
    sys.exit(main())
