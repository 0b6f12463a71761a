"""Metric families declared once: name, help, type and label names.

Every metric either exporter writes is a ``MetricFamily`` constant declared next to the code that
owns it (a prober's own families at the top of its file, the shared probe families in
``probe/families.py``, reputation's in ``reputation/families.py``, the ``infrawatch_*`` self
metrics in ``core/selfmetrics.py``).  The exposition header, the label names a sample must carry
and the client_python family built for a collector all come from that one declaration, so a HELP
text cannot differ between two places and the label names a target may not use can be derived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .labels import LABEL_NAME

MetricType = Literal["gauge", "counter"]


@dataclass(frozen=True, eq=False)
class MetricFamily:
    """One metric name.  ``labels`` are the label names every sample carries, in order.

    ``dynamic_labels``: the label names come from the configuration (``probe_expect_info`` takes
    the ``query_response`` label names); ``labels`` is then empty and the sink checks the names
    against the reserved ones at load time instead.
    """

    name: str
    help: str
    type: MetricType = "gauge"
    labels: tuple[str, ...] = ()
    dynamic_labels: bool = False
    header_text: str = field(init=False, repr=False)
    header: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # "# HELP"/"# TYPE" lines, rendered once; counters expose ``<name>_total`` samples.
        text = f"# HELP {self.name} {escape_help(self.help)}\n# TYPE {self.name} {self.type}\n"
        object.__setattr__(self, "header_text", text)
        object.__setattr__(self, "header", text.encode())

    @property
    def sample_name(self) -> str:
        return self.name + "_total" if self.type == "counter" else self.name

    def client(self, labels: Sequence[str] | None = None, value: float | None = None):
        """A client_python family for a custom collector (``labels`` defaults to the declared ones)."""
        names = list(self.labels if labels is None else labels)
        if self.type == "counter":
            return CounterMetricFamily(self.name, self.help, value=value, labels=None if value is not None else names)
        return GaugeMetricFamily(self.name, self.help, value=value, labels=None if value is not None else names)


def check_families(families: Sequence[MetricFamily]) -> list[str]:
    """Problems with a table of families: bad names, duplicate names with different declarations."""
    problems: list[str] = []
    seen: dict[str, MetricFamily] = {}
    for fam in families:
        if not fam.name.replace("_", "a").isalnum() or not fam.name[0].isalpha() or fam.name != fam.name.lower():
            problems.append(f"{fam.name!r}: metric names are lower-case letters, digits and '_'")
        if not fam.help.strip():
            problems.append(f"{fam.name}: empty help")
        for label in fam.labels:
            if not LABEL_NAME.match(label) or label.startswith("__"):
                problems.append(f"{fam.name}: invalid label name {label!r}")
        if len(set(fam.labels)) != len(fam.labels):
            problems.append(f"{fam.name}: repeated label name")
        other = seen.get(fam.name)
        if other is not None and other is not fam:
            problems.append(f"{fam.name}: declared twice ({other.help!r} and {fam.help!r})")
        seen[fam.name] = fam
    return problems


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def escape_label_value(v: str) -> str:
    if "\\" not in v and "\n" not in v and '"' not in v:
        return v  # nearly every value: no copies
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_labels(labels: Mapping[str, str]) -> str:
    """``a="1",b="2"`` (no braces), values escaped."""
    return ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels.items())


def format_value(v: float) -> str:
    """Sample value as Prometheus parses it (Python's shortest repr; +Inf/-Inf/NaN spelled out)."""
    if v - v == 0:  # finite (inf - inf and NaN - NaN are NaN): the common case, one comparison
        return repr(v)
    if v != v:
        return "NaN"
    return "+Inf" if v > 0 else "-Inf"
