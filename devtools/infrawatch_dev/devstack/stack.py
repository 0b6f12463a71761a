"""The whole alert path on one machine: ``DevStack`` (used by ``scripts/demo.py`` and tests/e2e).

    with DevStack(workdir) as stack:          # starts everything, stops it in reverse order on exit
        stack.set_listed(True)                # the demo IP appears on the major list
        stack.pagerduty.wait_for(lambda r: ...)

What it starts, in this order, on free loopback ports (the probe exporter on ``probe_listen``):

1. fake receivers (threads): PagerDuty Events v2, a Slack webhook, a generic webhook (heartbeat and
   incident log), an SMTP server;
2. rbldnsd serving ``examples/demo-dnsbl/`` plus one extra dataset of the major list
   ``zen.dnsbl.test`` in which ``set_listed()`` lists or delists the demo IP (rewrite + SIGHUP);
3. the application simulator (thread): ``/metrics`` scraped as job ``api-server`` and a JSON
   ``/health`` probed as service ``api`` (the mixin's ``services`` entry ``api``);
4. the probe exporter: ``examples/probe.yml`` with its self-probes moved to the chosen port, plus the
   app's health endpoint with the ``http_health`` module;
5. the reputation exporter: ``examples/reputation.yml`` pointed at that rbldnsd, checking the
   transactional pool (clean in the demo zones, so the first listing page is the scripted one);
6. Alertmanager with the generated routing tree (``render_mixin_config``), every receiver pointed at
   the fakes and short group timings;
7. Prometheus scraping both exporters (jobs ``infrawatch-probe`` / ``infrawatch-reputation``, as
   ``_config.infrawatchSelector`` expects) with the mixin's rules rendered with short ``for:``;
8. the operator console (``infrawatch console``) on Prometheus, Alertmanager and the reputation
   exporter, its ticket and rotation hooks pointed at the fake webhook (``/ticket``, ``/rotation``).

Child processes are stopped by PID, in reverse order, also when starting fails half way.
"""

from __future__ import annotations

import contextlib
import ipaddress
import signal
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import ROOT, require_repo
from .alertmanager import Alertmanager, render_mixin_config
from .appsim import AppSim
from .console import ConsoleProc, console_config
from .exporters import ExporterProc, ReputationExporterProc, all_checked
from .mixin import write_rule_files
from .procs import free_port
from .prometheus import Prometheus
from .rbldnsd import Rbldnsd, Zone, zones_from_datasets
from .receivers import FakePagerDuty, FakeSlack, FakeSMTP, FakeWebhook

# The major list the demo IP gets listed on (spamhaus-zen in examples/reputation.yml, tier major).
DEMO_LIST_ZONE = "zen.dnsbl.test"
# Probe exporter port examples/probe.yml probes itself on (the demo keeps it; tests pick a free one).
EXAMPLE_PROBE_PORT = 9516
# Median request latency of the simulated app while degraded or down (AppSim triples it when
# degraded): its p95 crosses the mixin's 1 s APIHighLatency threshold, so the degraded phase also
# raises a latency warning that ServiceProbeFailing inhibits once the app is down.
SLOW_LATENCY_SECONDS = 0.5
HEALTHY_LATENCY_SECONDS = 0.05
# Demo routing keys and tokens (the receivers are local fakes; nothing here is a real secret).
DEMO_SECRETS = {
    "pagerduty-default.key": "DEMOKEYDEFAULT000000000000000001",
    "pagerduty-platform.key": "DEMOKEYPLATFORM00000000000000002",
    "pagerduty-database.key": "DEMOKEYDATABASE00000000000000003",
    "pagerduty-deliverability.key": "DEMOKEYDELIVERABILITY00000000004",
    "heartbeat-token": "demo-heartbeat-token",
    "incident-log-token": "demo-incident-log-token",
}


@dataclass(frozen=True)
class Timings:
    """Intervals of the stack (Prometheus duration strings).  ``alert_for`` replaces every ``for:`` knob."""

    scrape: str = "1s"
    evaluation: str = "1s"
    probe_interval: str = "1s"
    reputation_interval: str = "10s"  # the reputation exporter's minimum
    alert_for: str = "5s"
    group_wait: str = "1s"
    group_interval: str = "2s"
    repeat_interval: str = "1h"
    # Range selectors of the non-SLO rules (mixin.with_rate_window); "" keeps the mixin's 5m.
    rate_window: str = ""

    @classmethod
    def demo(cls, fast: bool = False) -> Timings:
        """``make demo``: slow enough to watch an alert go pending -> firing -> notified, with rate
        windows short enough that every alert of the story resolves within its 5 minute cycle.
        ``fast``: the e2e test's timings (1 s steps, 5 s pending) and 10 s rate windows."""
        if fast:
            return cls(rate_window="10s")
        return cls(
            scrape="2s",
            evaluation="2s",
            probe_interval="2s",
            reputation_interval="15s",
            alert_for="20s",
            group_wait="5s",
            group_interval="10s",
            rate_window="40s",
        )

    def rule_overrides(self) -> str:
        """Jsonnet merged onto the mixin: every pending duration (``for:``) set to ``alert_for``.

        The DNSBL lookup/list alerts keep their 30m: they are about lists failing for a long time.
        """
        f = self.alert_for
        return f"""{{ _config+:: {{
  scrapeInterval: '{self.scrape}',
  probeFailingFor: '{f}', serviceDegradedFor: '{f}', downFor: '{f}', exporterDownFor: '{f}',
  highErrorRateFor: '{f}', apiLatencyFor: '{f}',
  alertFor: {{ [k]: '{f}' for k in std.objectFields(super.alertFor) }},
}} }}"""


def loopback_alertmanager_override(
    secrets_dir: Path,
    timings: Timings,
    pagerduty: FakePagerDuty,
    webhook: FakeWebhook,
    smtp: FakeSMTP,
    *,
    smtp_user: str = "",
    mail_domain: str = "demo.invalid",
    heartbeat_interval: str = "1m",
    heartbeat_repeat: str = "1m",
) -> dict[str, Any]:
    """``_config`` override pointing every receiver of the generated routing tree at local fakes.

    ``smtp_user``: empty for an SMTP server without AUTH (the demo's); the live Alertmanager tests
    log in.  ``heartbeat_*``: the Watchdog route's group interval and repeat interval.
    """
    return {
        "alertmanager": {
            "secretsDir": str(secrets_dir),
            "groupWait": timings.group_wait,
            "groupInterval": timings.group_interval,
            "repeatInterval": timings.repeat_interval,
            "heartbeat": {
                "url": webhook.url + "/heartbeat",
                "credentialsFile": "heartbeat-token",
                "groupWait": "0s",
                "groupInterval": heartbeat_interval,
                "repeatInterval": heartbeat_repeat,
            },
            "pagerduty": {"url": pagerduty.events_url, "routingKeyFile": "pagerduty-default.key"},
            "email": {
                "enabled": True,
                "smarthost": smtp.smarthost,
                "from": f"alertmanager@{mail_domain}",
                "authUsername": smtp_user,
                "authPasswordFile": "smtp-password",
                "requireTLS": False,
                "oncall": f"oncall@{mail_domain}",
            },
            "webhooks": [
                {
                    "name": "incident-log",
                    "url": webhook.url + "/incident-log",
                    "credentialsFile": "incident-log-token",
                    "matchers": ['severity="critical"'],
                }
            ],
            # Warnings are muted outside business hours by default; the demo must show them any time.
            "warningMuteIntervals": [],
        }
    }


# Prometheus' alerts page: /alerts in the upstream React UI (2.x, 3.x); Debian's 2.x package ships
# only the classic UI, whose page is /classic/alerts (/alerts answers 404 there).
PROMETHEUS_ALERT_PAGES = ("/alerts", "/classic/alerts")
# Debian's Alertmanager package has no web UI: its / is a page saying so, and /#/alerts shows that.
ALERTMANAGER_NO_UI = "does not include a web application"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def first_answering(base: str, paths: tuple[str, ...]) -> str:
    """``base`` + the first of ``paths`` that answers 200 (the last one when none does)."""
    for path in paths:
        if _get(base + path)[0] == 200:
            return base + path
    return base + paths[-1]


def alertmanager_alerts_url(base: str) -> str:
    """The web UI's alert list where there is a UI, else the v2 API's alert list (JSON)."""
    status, body = _get(base + "/")
    if status == 200 and ALERTMANAGER_NO_UI not in " ".join(body.split()):
        return base + "/#/alerts"
    return base + "/api/v2/alerts"


def reverse_name(target: str, zone: str) -> str:
    """DNSBL query name of an IPv4 address or a domain (``5.100.51.198.zen.dnsbl.test``)."""
    try:
        ip = ipaddress.ip_address(target)
    except ValueError:
        return f"{target}.{zone}"
    return ip.reverse_pointer.replace(".in-addr.arpa", "").replace(".ip6.arpa", "") + "." + zone


class DevStack:
    """Start with ``start()`` or ``with DevStack(...) as stack``; ``stop()`` stops what was started."""

    def __init__(
        self,
        workdir: Path,
        timings: Timings | None = None,
        probe_listen: str = "127.0.0.1:0",
        cluster: str = "demo",
        root: Path = ROOT,
    ):
        self.root = require_repo(root)
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.timings = timings or Timings()
        self.probe_listen = probe_listen
        self.cluster = cluster
        self._exit = contextlib.ExitStack()
        # The transactional pool of examples/reputation.yml: clean in the demo zones.
        example = yaml.safe_load((self.root / "examples" / "reputation.yml").read_text())
        self.reputation_targets = [t for t in example["targets"] if t.get("pool") == "transactional"]
        self.demo_target = next(t["ip"] for t in self.reputation_targets if "ip" in t)
        self.listed = False
        # Set by start():
        self.pagerduty: FakePagerDuty
        self.slack: FakeSlack
        self.webhook: FakeWebhook
        self.smtp: FakeSMTP
        self.rbldnsd: Rbldnsd
        self.app: AppSim
        self.probe_exporter: ExporterProc
        self.reputation_exporter: ReputationExporterProc
        self.alertmanager: Alertmanager
        self.prometheus: Prometheus
        self.console: ConsoleProc

    # ---- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> DevStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything started so far, last started first (each stop runs even if one fails)."""
        self._exit.close()

    def _start(self) -> None:
        self.pagerduty = self._started(FakePagerDuty().start())
        self.slack = self._started(FakeSlack().start())
        self.webhook = self._started(FakeWebhook().start())
        self.smtp = self._started(FakeSMTP().start())

        self.rbldnsd = Rbldnsd(self.workdir / "rbldnsd", self._zones())
        self._exit.callback(self.rbldnsd.cleanup)
        self.rbldnsd.start()

        ips = [t["ip"] for t in self.reputation_targets if "ip" in t]
        self.app = self._started(
            AppSim(seed=1, error_ratio=0.0, latency_seconds=HEALTHY_LATENCY_SECONDS, sending_ips=ips).start()
        )
        self.probe_exporter = self._start_probe_exporter()
        self._exit.callback(self.probe_exporter.stop)
        self.reputation_exporter = ReputationExporterProc(self.workdir / "reputation", self._reputation_config())
        self._exit.callback(self.reputation_exporter.stop)
        self.reputation_exporter.start()

        self.alertmanager = Alertmanager(self.workdir / "alertmanager", self._alertmanager_config())
        self._exit.callback(self.alertmanager.stop)
        self.alertmanager.start()

        rules = write_rule_files(
            self.workdir / "rules", self.timings.rule_overrides(), self.root, rate_window=self.timings.rate_window
        )
        self.rule_files = rules
        self.prometheus = Prometheus(self.workdir / "prometheus", self._prometheus_config(), [str(p) for p in rules])
        self.prometheus.extra_args += [
            # Alert "Source" links in notifications then point at this Prometheus, not at the host name.
            f"--web.external-url={self.prometheus.url}",
            # Prometheus learns the Alertmanager address ~5 s after start (discovery updates are
            # throttled) and drops what fired before; the default 1m resend would delay those alerts
            # (the Watchdog) by a minute.
            "--rules.alert.resend-delay=5s",
        ]
        self._exit.callback(self.prometheus.stop)
        self.prometheus.start()

        self.console = ConsoleProc(
            console_config(
                self.workdir / "console",
                self.prometheus.url,
                self.alertmanager.url,
                self.reputation_exporter.url,
                self.webhook.url,
            ),
            self.workdir / "console",
        )
        self._exit.callback(self.console.stop)
        self.console.start()

    def _started(self, component: Any) -> Any:
        self._exit.callback(component.stop)
        return component

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every scrape target is up and the reputation exporter has checked every target once."""
        deadline = time.monotonic() + timeout
        self.reputation_exporter.wait_api(all_checked, timeout)
        jobs = {"infrawatch-probe", "infrawatch-reputation", "api-server", "alertmanager"}
        while True:
            targets = self.prometheus.targets()
            up = {t["labels"]["job"] for t in targets if t["health"] == "up"}
            if up >= jobs and len(up) == len({t["labels"]["job"] for t in targets}):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"scrape targets not all up after {timeout}s: {targets}")
            time.sleep(0.2)
        # The app's health is probed and its first sample is in Prometheus: scenarios start from "healthy".
        self.prometheus.wait_for('probe_health_status{service="api"} == 1', max(1.0, deadline - time.monotonic()))
        # The always-firing Watchdog has gone Prometheus -> Alertmanager: the alert path works.
        self.alertmanager.wait_alert(lambda a: True, max(1.0, deadline - time.monotonic()), alertname="Watchdog")

    # ---- what is running -------------------------------------------------------------------------
    def urls(self) -> dict[str, str]:
        """What a person opens, each checked to answer with the binaries installed here."""
        return {
            "console (Infrastructure Monitoring)": self.console.page_url,
            "probe exporter (status page)": self.probe_exporter.url + "/",
            "reputation exporter (status page)": self.reputation_exporter.url + "/",
            "Prometheus (alerts)": first_answering(self.prometheus.url, PROMETHEUS_ALERT_PAGES),
            "Alertmanager (alerts)": alertmanager_alerts_url(self.alertmanager.url),
            "demo app health (JSON)": self.app.url + "/health",
            "demo app knobs (POST /-/sim)": self.app.url + "/-/sim",
            "fake PagerDuty (Events API v2)": self.pagerduty.events_url,
            "fake Slack (incoming webhook)": self.slack.webhook_url,
            "fake webhook (heartbeat, incident log)": self.webhook.url,
            "fake SMTP": f"smtp://{self.smtp.smarthost}",
        }

    def pids(self) -> dict[str, int]:
        """PIDs of the child processes (the receivers and the app are threads of this process)."""
        procs = {
            "rbldnsd": self.rbldnsd.proc,
            "probe-exporter": self.probe_exporter.proc,
            "reputation-exporter": self.reputation_exporter.proc,
            "alertmanager": self.alertmanager.proc,
            "prometheus": self.prometheus.proc,
            "console": self.console.proc,
        }
        return {name: p.pid for name, p in procs.items() if p is not None}

    # ---- changes a demo or test makes -------------------------------------------------------------
    def set_listed(self, listed: bool, timeout: float = 10.0) -> float:
        """List (or delist) the demo IP on the major list; returns when rbldnsd answers accordingly."""
        self.listed = listed
        self.rbldnsd.update(self._zones())
        deadline = time.monotonic() + timeout
        while self._dnsbl_answers_listed() != listed:
            if time.monotonic() > deadline:
                raise TimeoutError(f"rbldnsd still answers listed={not listed} for {self.demo_target}")
            time.sleep(0.05)
        return time.time()

    def set_app_health(self, state: str) -> float:
        """Switch the app's health (healthy|degraded|down); degraded and down also make requests slow."""
        latency = HEALTHY_LATENCY_SECONDS if state == "healthy" else SLOW_LATENCY_SECONDS
        self.app.set(health=state, latency_seconds=latency)
        return time.time()

    def kill_exporter(self, name: str) -> float:
        """SIGKILL the probe or reputation exporter (by its PID), as a crash would; returns the time."""
        exporter = {"probe": self.probe_exporter, "reputation": self.reputation_exporter}[name]
        assert exporter.proc is not None
        exporter.proc.signal(signal.SIGKILL)
        exporter.proc.proc.wait(10)
        return time.time()

    # ---- configuration ------------------------------------------------------------------------------
    def _zones(self) -> list[Zone]:
        """The demo zones plus the dataset holding (or not) the demo IP's listing."""
        line = f"{self.demo_target} :127.0.0.2:Listed in the SBL (infrawatch demo), see https://check.spamhaus.org/"
        listing = [line] if self.listed else ["# the demo IP is not listed right now"]
        return [
            *zones_from_datasets(self.root / "examples" / "demo-dnsbl"),
            Zone(DEMO_LIST_ZONE, "ip4set", listing, soa=False),
        ]

    def _dnsbl_answers_listed(self) -> bool:
        import dns.exception
        import dns.message
        import dns.query
        import dns.rcode

        query = dns.message.make_query(reverse_name(self.demo_target, DEMO_LIST_ZONE), "A")
        try:
            answer = dns.query.udp(query, self.rbldnsd.host, port=self.rbldnsd.port, timeout=1)
        except dns.exception.Timeout:
            return not self.listed  # not answering yet: "not as asked", so set_listed keeps waiting
        return answer.rcode() == dns.rcode.NOERROR and bool(answer.answer)

    def _reputation_config(self) -> str:
        """examples/reputation.yml, pointed at our rbldnsd, checking only its transactional pool."""
        cfg = yaml.safe_load((self.root / "examples" / "reputation.yml").read_text())
        cfg["resolver"]["nameservers"] = [self.rbldnsd.address]
        cfg["interval"] = self.timings.reputation_interval
        cfg["state_file"] = str(self.workdir / "reputation" / "state.json")
        cfg["targets"] = self.reputation_targets
        return yaml.safe_dump(cfg, sort_keys=False)

    def _start_probe_exporter(self) -> ExporterProc:
        """examples/probe.yml: its self-probes on our port, minus targets down by design, plus the app."""
        host, _, port = self.probe_listen.rpartition(":")
        listen = f"{host}:{port if port != '0' else free_port(host)}"
        cfg = yaml.safe_load((self.root / "examples" / "probe.yml").read_text())
        example = f"127.0.0.1:{EXAMPLE_PROBE_PORT}"
        # The example's "nothing listens here" target would page at once and hide the scripted story.
        targets = [
            dict(t, target=t["target"].replace(example, listen)) for t in cfg["targets"] if example in t["target"]
        ]
        targets.append(
            {
                "target": self.app.url + "/health",
                "module": "http_health",
                "service": "api",
                "interval": self.timings.probe_interval,
                "labels": {"env": "demo"},
            }
        )
        cfg["targets"] = targets
        cfg["scheduler"]["interval"] = self.timings.probe_interval
        path = self.workdir / "probe.yml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        return ExporterProc(path, self.workdir, ["--log.level=info"], listen_address=listen)

    def _alertmanager_config(self) -> Path:
        secrets = self.workdir / "secrets"
        secrets.mkdir(exist_ok=True)
        for name, value in DEMO_SECRETS.items():
            (secrets / name).write_text(value + "\n")
        (secrets / "slack-webhook-url").write_text(self.slack.webhook_url + "\n")
        override = loopback_alertmanager_override(secrets, self.timings, self.pagerduty, self.webhook, self.smtp)
        return render_mixin_config(self.workdir / "alertmanager-config", override, self.root)

    def _prometheus_config(self) -> dict[str, Any]:
        def job(name: str, url: str) -> dict[str, Any]:
            return {"job_name": name, "static_configs": [{"targets": [url.split("://", 1)[1].rstrip("/")]}]}

        return {
            "global": {
                "scrape_interval": self.timings.scrape,
                "evaluation_interval": self.timings.evaluation,
                "external_labels": {"cluster": self.cluster},
            },
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{self.alertmanager.port}"]}]}]},
            "scrape_configs": [
                job("infrawatch-probe", self.probe_exporter.url),
                job("infrawatch-reputation", self.reputation_exporter.url),
                job("api-server", self.app.url),
                job("alertmanager", self.alertmanager.url),
            ],
        }
