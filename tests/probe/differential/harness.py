"""Run Debian's blackbox_exporter and infrawatch side by side on one module file and compare.

``Pair`` starts both exporters (by PID, stopped by PID) on the same module file; ``compare``
takes the two ``/probe`` answers of one scenario and lists every difference that is not in the
table of intended differences (``INTENDED``).  A scenario passes when ``probe_success``, the set of
blackbox metric names and the key values agree.
"""

from __future__ import annotations

import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from infrawatch_dev.devstack.exporters import ExporterProc
from infrawatch_dev.devstack.procs import Proc, free_port, require_binary, wait_http

BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"

# Names infrawatch writes and blackbox does not, each with its reason. Nothing else may differ.
INTENDED: dict[str, str] = {
    "probe_failure_info": "infrawatch addition: the failure reason as a label (blackbox only logs it)",
    "probe_tls_verified": "infrawatch addition: 1 when the chain was verified, 0 when read after a failed check",
}

# On a certificate verification failure infrawatch reads the chain again without verifying, so
# the expiry of a bad (expired, self-signed, wrong-name) certificate stays visible; blackbox
# records no TLS metric then.  Scenarios whose verification fails allow these.
TLS_KEPT_ON_FAILURE: dict[str, str] = {
    name: "infrawatch addition: certificate metrics kept when verification fails (see docs/migrating-from-blackbox.md)"
    for name in (
        "probe_ssl_earliest_cert_expiry",
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "probe_ssl_last_chain_info",
        "probe_tls_version_info",
    )
}

# Timings differ between any two runs; compared by presence and labels, never by value.
TIMING = frozenset(
    {
        "probe_duration_seconds",
        "probe_http_duration_seconds",
        "probe_dns_lookup_time_seconds",
        "probe_dns_duration_seconds",
        "probe_icmp_duration_seconds",
        "probe_grpc_duration_seconds",
    }
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def names(samples: Samples) -> set[str]:
    return {n for n, _ in samples}


@dataclass
class Comparison:
    blackbox: Samples
    infrawatch: Samples
    problems: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.problems


def compare(bb: Samples, iw: Samples, allowed: dict[str, str] | None = None) -> Comparison:
    """Every difference between two ``/probe`` answers except the intended ones."""
    allowed = {**INTENDED, **(allowed or {})}
    c = Comparison(bb, iw)
    s_bb, s_iw = bb.get(("probe_success", ())), iw.get(("probe_success", ()))
    if s_bb != s_iw and "probe_success" not in allowed:
        c.problems.append(f"probe_success: blackbox {s_bb}, infrawatch {s_iw}")
    only_bb = names(bb) - names(iw) - set(allowed)
    only_iw = names(iw) - names(bb) - set(allowed)
    if only_bb:
        c.problems.append(f"only blackbox has {sorted(only_bb)}")
    if only_iw:
        c.problems.append(f"only infrawatch has {sorted(only_iw)}")
    for name in sorted((names(bb) & names(iw)) - set(allowed)):
        lb = {labels for n, labels in bb if n == name}
        li = {labels for n, labels in iw if n == name}
        if lb != li:
            c.problems.append(f"{name} labels: blackbox {sorted(lb)}, infrawatch {sorted(li)}")
            continue
        if name in TIMING:
            continue
        for labels in sorted(lb):
            vb, vi = bb[(name, labels)], iw[(name, labels)]
            if not (vb == vi or (math.isnan(vb) and math.isnan(vi))):
                c.problems.append(f"{name}{dict(labels) or ''}: blackbox {vb}, infrawatch {vi}")
    return c


def _get(base: str, module: str, target: str, timeout: float, params: dict[str, str] | None = None) -> str:
    q = urllib.parse.urlencode({"module": module, "target": target, **(params or {})})
    req = urllib.request.Request(f"{base}/probe?{q}", headers={"X-Prometheus-Scrape-Timeout-Seconds": str(timeout)})
    try:
        with urllib.request.urlopen(req, timeout=timeout + 15) as r:
            return r.read().decode()
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{base} answered {exc.code}: {exc.read().decode()[:300]}") from None


def debug_text(base: str, module: str, target: str) -> str:
    """The ``debug=true`` answer of ``/probe``."""
    return _get(base, module, target, 5.0, {"debug": "true"})


class Blackbox:
    """Debian's /usr/bin/prometheus-blackbox-exporter on a free loopback port."""

    def __init__(self, config: Path, workdir: Path):
        require_binary(BLACKBOX)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = Proc(
            [BLACKBOX, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}", "--log.level=debug"],
            workdir / f"blackbox-{port}.log",
        )
        try:
            wait_http(self.url + "/-/healthy", proc=self.proc.proc)
        except Exception:
            self.proc.stop()
            raise

    def probe(self, module: str, target: str, timeout: float = 5.0, params: dict[str, str] | None = None) -> Samples:
        return parse(_get(self.url, module, target, timeout, params))

    def stop(self) -> None:
        self.proc.stop()


class Infrawatch:
    """infrawatch's probe exporter on the same, unchanged module file (targets allowed by flag)."""

    def __init__(self, config: Path, workdir: Path):
        self.exp = ExporterProc(config, workdir, ["--probe.allowed-targets=*"])
        self.url = self.exp.url

    def probe(self, module: str, target: str, timeout: float = 5.0, params: dict[str, str] | None = None) -> Samples:
        return parse(_get(self.url, module, target, timeout, params))

    def stop(self) -> None:
        self.exp.stop()
