"""Results of scheduled probes kept in memory (pre-rendered for /metrics), the recent /probe
calls for the status page, and the text rendering of a single /probe answer."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core.logs import mask_userinfo
from ..core.metrics import MetricFamily, escape_label_value, format_value, render_labels
from .families import RESULT_TIMESTAMP
from .runner import ProbeResult
from .sink import Sample


@dataclass
class ScheduledTarget:
    target: str
    module: str
    service: str
    interval: float
    labels: dict[str, str] = field(default_factory=dict)
    origin: str = "config"  # "config" or the file_sd file it came from

    @property
    def key(self) -> tuple[str, str]:
        return (self.target, self.module)

    def base_labels(self) -> dict[str, str]:
        # A password in the target (``postgres://u:pw@db/``) never becomes a label value.
        return {**self.labels, "target": mask_userinfo(self.target), "module": self.module, "service": self.service}


class ResultStore:
    """Latest result per scheduled (target, module); written by jobs, read by /metrics and /.

    Each result is rendered to exposition lines once, when it arrives: a scrape of 1,000
    targets then only groups pre-rendered lines by metric name instead of formatting ~20,000
    samples (client_python's generic path takes ~200 ms for that on this machine).
    """

    def __init__(self) -> None:
        self.targets: dict[tuple[str, str], ScheduledTarget] = {}
        self.results: dict[tuple[str, str], ProbeResult] = {}
        # per target: family -> that target's exposition lines for it (bytes, "\n"-terminated)
        self.rendered: dict[tuple[str, str], dict[MetricFamily, bytes]] = {}
        # every family seen so far, in first-seen order; each brings its own HELP/TYPE header
        self.families: dict[MetricFamily, None] = {}
        self._body: bytes | None = None

    def set_targets(self, targets: Iterable[ScheduledTarget]) -> None:
        old = self.targets
        self.targets = {t.key: t for t in targets}
        for key in list(self.results):
            if key not in self.targets:
                del self.results[key]
                self.rendered.pop(key, None)
            elif old.get(key) is None or old[key].base_labels() != self.targets[key].base_labels():
                self.rendered[key] = _relabel(old.get(key), self.targets[key], self.rendered.get(key, {}))
        self._body = None

    def put(self, result: ProbeResult) -> None:
        key = (result.target, result.module)
        t = self.targets.get(key)
        if t is not None:  # a job finishing after its target was removed is dropped
            self.rendered[key] = self._render_result(t, result)
            # Keep what the status page shows; samples live on as rendered lines (memory per target).
            self.results[key] = dataclasses.replace(result, samples=[], log_lines=[])
            self._body = None

    def exposition_bytes(self) -> bytes:
        """All scheduled results in the Prometheus text format, one family per metric name."""
        if self._body is None:
            parts: list[bytes] = []
            rendered = list(self.rendered.values())
            for family in self.families:
                chunks = [r[family] for r in rendered if family in r]
                if chunks:
                    parts.append(family.header)
                    parts.extend(chunks)
            self._body = b"".join(parts)
        return self._body

    def exposition(self) -> str:
        return self.exposition_bytes().decode()

    def _render_result(self, t: ScheduledTarget, result: ProbeResult) -> dict[MetricFamily, bytes]:
        base = render_labels(t.base_labels())
        lines: dict[MetricFamily, list[str]] = {}
        families = self.families
        for s in (*result.samples, Sample(RESULT_TIMESTAMP, result.finished_at)):
            family = s.family
            if family not in families:
                families[family] = None
            labels = base + ("," + render_labels(s.labels) if s.labels else "")
            lines.setdefault(family, []).append(f"{family.name}{{{labels}}} {format_value(s.value)}\n")
        return {family: "".join(ls).encode() for family, ls in lines.items()}


def _relabel(
    old: ScheduledTarget | None, new: ScheduledTarget, rendered: dict[MetricFamily, bytes]
) -> dict[MetricFamily, bytes]:
    """Swap the target's label prefix in already rendered lines (labels changed in a reload)."""
    if old is None:
        return {}
    before = ("{" + render_labels(old.base_labels())).encode()
    after = ("{" + render_labels(new.base_labels())).encode()
    return {family: chunk.replace(before, after) for family, chunk in rendered.items()}


class RecentProbes:
    """The last /probe calls; failures are kept longer (4x as many) because they are what a
    person opens the page for."""

    def __init__(self, size: int = 50) -> None:
        self.resize(size)

    def resize(self, size: int) -> None:
        old_ok = list(getattr(self, "ok", []))
        old_failed = list(getattr(self, "failed", []))
        self.ok: collections.deque[ProbeResult] = collections.deque(old_ok, maxlen=max(size, 0) or 1)
        self.failed: collections.deque[ProbeResult] = collections.deque(old_failed, maxlen=max(4 * size, 1))
        self.enabled = size > 0

    def add(self, result: ProbeResult) -> None:
        if self.enabled:
            (self.ok if result.success else self.failed).append(result)

    def newest_first(self) -> list[ProbeResult]:
        return sorted([*self.ok, *self.failed], key=lambda r: r.finished_at, reverse=True)


def render_samples(samples: list[Sample]) -> str:
    """Prometheus text format for one /probe answer (samples grouped by family, first-seen order)."""
    groups: dict[MetricFamily, list[Sample]] = {}
    for s in samples:
        g = groups.get(s.family)
        if g is None:
            groups[s.family] = [s]
        else:
            g.append(s)
    out: list[str] = []
    for family, group in groups.items():
        out.append(family.header_text)
        name = family.name
        for s in group:
            if s.labels:
                labels = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in s.labels.items())
                out.append(f"{name}{{{labels}}} {format_value(s.value)}\n")
            else:
                out.append(f"{name} {format_value(s.value)}\n")
    return "".join(out)
