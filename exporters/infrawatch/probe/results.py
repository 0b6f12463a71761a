"""Results of scheduled probes kept in memory (pre-rendered for /metrics), the recent /probe
calls for the status page, and the text rendering of a single /probe answer."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from .probers.base import Sample
from .runner import ProbeResult


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
        return {**self.labels, "target": self.target, "module": self.module, "service": self.service}


class ResultStore:
    """Latest result per scheduled (target, module); written by jobs, read by /metrics and /.

    Each result is rendered to exposition lines once, when it arrives: a scrape of 1,000
    targets then only groups pre-rendered lines by metric name instead of formatting ~20,000
    samples (client_python's generic path takes ~200 ms for that on this machine).
    """

    def __init__(self) -> None:
        self.targets: dict[tuple[str, str], ScheduledTarget] = {}
        self.results: dict[tuple[str, str], ProbeResult] = {}
        # per target: metric name -> that target's exposition lines for it (bytes, "\n"-terminated)
        self.rendered: dict[tuple[str, str], dict[str, bytes]] = {}
        self.families: dict[str, bytes] = {}  # metric name -> "# HELP ...\n# TYPE ...\n"
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
            for name, header in self.families.items():
                chunks = [r[name] for r in rendered if name in r]
                if chunks:
                    parts.append(header)
                    parts.extend(chunks)
            self._body = b"".join(parts)
        return self._body

    def exposition(self) -> str:
        return self.exposition_bytes().decode()

    def _render_result(self, t: ScheduledTarget, result: ProbeResult) -> dict[str, bytes]:
        base = _labels(t.base_labels())
        lines: dict[str, list[str]] = {}
        samples = [
            *result.samples,
            Sample(
                "probe_result_timestamp_seconds",
                "When the scheduled probe's result was taken (Unix time)",
                result.finished_at,
            ),
        ]
        for s in samples:
            if s.name not in self.families:
                self.families[s.name] = f"# HELP {s.name} {_escape_help(s.help)}\n# TYPE {s.name} {s.type}\n".encode()
            labels = base + ("," + _labels(s.labels) if s.labels else "")
            lines.setdefault(s.name, []).append(f"{s.name}{{{labels}}} {format_value(s.value)}\n")
        return {name: "".join(ls).encode() for name, ls in lines.items()}


def _relabel(old: ScheduledTarget | None, new: ScheduledTarget, rendered: dict[str, bytes]) -> dict[str, bytes]:
    """Swap the target's label prefix in already rendered lines (labels changed in a reload)."""
    if old is None:
        return {}
    before = ("{" + _labels(old.base_labels())).encode()
    after = ("{" + _labels(new.base_labels())).encode()
    return {name: chunk.replace(before, after) for name, chunk in rendered.items()}


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels.items())


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


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


def _escape_label(v: str) -> str:
    if "\\" not in v and "\n" not in v and '"' not in v:
        return v  # nearly every value: no copies
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


_HEADERS: dict[tuple[str, str, str], str] = {}


def _header(name: str, help_text: str, typ: str) -> str:
    """``# HELP``/``# TYPE`` lines, cached: the same few dozen families are rendered per probe."""
    key = (name, help_text, typ)
    h = _HEADERS.get(key)
    if h is None:
        if len(_HEADERS) > 4096:
            _HEADERS.clear()
        h = _HEADERS[key] = f"# HELP {name} {_escape_help(help_text)}\n# TYPE {name} {typ}\n"
    return h


def format_value(v: float) -> str:
    """Sample value as Prometheus parses it (Python's shortest repr; +Inf/-Inf/NaN spelled out)."""
    if v - v == 0:  # finite (inf - inf and NaN - NaN are NaN): the common case, one comparison
        return repr(v)
    if v != v:
        return "NaN"
    return "+Inf" if v > 0 else "-Inf"


_INF = float("inf")


def render_samples(samples: list[Sample]) -> str:
    """Prometheus text format for one /probe answer (samples grouped by name, first-seen order)."""
    groups: dict[str, list[Sample]] = {}
    for s in samples:
        g = groups.get(s.name)
        if g is None:
            groups[s.name] = [s]
        else:
            g.append(s)
    out: list[str] = []
    for name, group in groups.items():
        out.append(_header(name, group[0].help, group[0].type))
        for s in group:
            if s.labels:
                labels = ",".join(f'{k}="{_escape_label(v)}"' for k, v in s.labels.items())
                out.append(f"{name}{{{labels}}} {format_value(s.value)}\n")
            else:
                out.append(f"{name} {format_value(s.value)}\n")
    return "".join(out)
