"""Service cards, read from the mixin's generated overview dashboard (``dashboards/infrawatch-overview.json``).

The services are declared once, in ``jsonnet/config.libsonnet``; ``make build`` turns them into the
dashboard's Service Health Grid (a traffic-light stat per service on ``infrawatch:service_status``
and the detail stats stacked beneath it).  This adapter is the only place that knows that layout, so
a change of the mixin's panel structure is fixed here and nowhere else:

- a card is a ``stat`` panel whose query reads ``infrawatch:service_status{service="<name>"}``;
- its details are the ``stat`` panels in the same column below it, up to the next row, titled
  ``"<card title>: <detail>"``; their unit and colour thresholds come along.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATUS_RE = re.compile(r'infrawatch:service_status\{[^}]*\bservice="([^"]+)"')
# Grafana's interval variables, and label matchers on dashboard variables (`cluster=~"$cluster"`):
# the console has no variable picker, so a matcher on a variable matches everything.
INTERVAL_RE = re.compile(r"\$(?:__rate_interval|__interval|__range)\b|\$\{(?:__rate_interval|__interval|__range)\}")
VARIABLE_MATCHER_RE = re.compile(r'(\w+)\s*(=~|=|!~|!=)\s*"\$\{?\w+\}?"')


@dataclass(frozen=True)
class Detail:
    title: str
    expr: str
    unit: str = "none"
    # (lower bound or None, colour) steps, as Grafana's absolute thresholds
    thresholds: tuple[tuple[float | None, str], ...] = ()

    def colour(self, value: float | None) -> str:
        if value is None or not self.thresholds:
            return ""
        colour = ""
        for bound, c in self.thresholds:
            if bound is None or value >= bound:
                colour = c
        return colour


@dataclass(frozen=True)
class ServiceCard:
    name: str
    title: str
    status_expr: str
    details: tuple[Detail, ...] = field(default_factory=tuple)


class DashboardLayoutError(ValueError):
    """The dashboard does not hold a service grid this adapter understands."""


def _expr(panel: dict[str, Any]) -> str:
    targets = panel.get("targets") or []
    return str(targets[0].get("expr", "")) if targets else ""


def _thresholds(panel: dict[str, Any]) -> tuple[tuple[float | None, str], ...]:
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps") or []
    out = tuple((s.get("value"), str(s.get("color", ""))) for s in steps)
    # a single unconditional step is Grafana's "no thresholds" default
    return () if len(out) <= 1 else out


def resolve_variables(expr: str, rate_interval: str) -> str:
    """A dashboard query without Grafana variables: intervals become ``rate_interval``, matchers on
    variables match anything."""
    expr = INTERVAL_RE.sub(rate_interval, expr)
    expr = VARIABLE_MATCHER_RE.sub(lambda m: f'{m.group(1)}=~".*"', expr)
    return expr.strip()


def cards_from_dashboard(doc: dict[str, Any], rate_interval: str = "5m") -> list[ServiceCard]:
    panels = doc.get("panels") or []
    cards: list[ServiceCard] = []
    for i, p in enumerate(panels):
        if p.get("type") != "stat":
            continue
        m = STATUS_RE.search(_expr(p))
        if not m:
            continue
        title, x, y = str(p.get("title", m.group(1))), p["gridPos"]["x"], p["gridPos"]["y"]
        details = []
        for q in panels[i + 1 :]:
            if q.get("type") == "row":
                break
            pos = q.get("gridPos", {})
            if q.get("type") != "stat" or pos.get("x") != x or pos.get("y", 0) <= y:
                continue
            label = str(q.get("title", ""))
            label = label[len(title) + 2 :] if label.startswith(title + ": ") else label
            details.append(
                Detail(
                    label,
                    resolve_variables(_expr(q), rate_interval),
                    str(q.get("fieldConfig", {}).get("defaults", {}).get("unit", "none")),
                    _thresholds(q),
                )
            )
        cards.append(ServiceCard(m.group(1), title, resolve_variables(_expr(p), rate_interval), tuple(details)))
    if not cards:
        raise DashboardLayoutError("no service cards (stat panels on infrawatch:service_status) in the dashboard")
    return cards


def load_cards(path: str | Path, rate_interval: str = "5m") -> list[ServiceCard]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DashboardLayoutError(f"{path}: cannot read the overview dashboard: {exc}") from None
    try:
        return cards_from_dashboard(doc, rate_interval)
    except (KeyError, TypeError) as exc:
        raise DashboardLayoutError(f"{path}: unexpected panel layout: {exc}") from None
    except DashboardLayoutError as exc:
        raise DashboardLayoutError(f"{path}: {exc}") from None
