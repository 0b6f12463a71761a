"""The status page ``/``: the seed's "IP Reputation Monitor" table plus the health of every list.

Server-rendered HTML (no JavaScript needed), every value escaped; it refreshes itself every 30 s.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from ..core.html import escape as _e
from ..core.html import page
from .api import duration_text

# Listed targets first (critical, then warning), then unknown, then good.
_ORDER = {"critical": 0, "warning": 1, "unknown": 2, "good": 3}

_CSS = """
body{color:#1d2327}
table{border-collapse:collapse;margin-bottom:2rem;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f5f7}
.status{font-weight:600;padding:.1rem .5rem;border-radius:.6rem}
.good{background:#d7f5dd;color:#14632b}.warning{background:#fff1c2;color:#7a5b00}
.critical{background:#ffd6d6;color:#8a1010}.unknown{background:#e6e6e6;color:#444}
.reason{color:#555;font-size:.9em}.muted{color:#777}
"""


def _listing(li: dict[str, Any]) -> str:
    reasons = "".join(f'<div class="reason">{_e(r)}</div>' for r in li["reasons"])
    link = (
        f' <a class="delist" href="{_e(li["delist_url"])}" rel="noopener noreferrer">delisting</a>'
        if li["delist_url"]
        else ""
    )
    cats = ", ".join(li["categories"])
    since = ""
    if li.get("listed_since"):
        since = (
            f' <span class="since">listed since {_e(li["listed_since"])} '
            f"(for {_e(duration_text(li['listed_for_seconds']))})</span>"
        )
    return (
        f'<li data-list="{_e(li["list"])}"><strong>{_e(li["list"])}</strong> '
        f'<span class="muted">({_e(cats)}; {_e(", ".join(li["codes"]))})</span>{link}{since}{reasons}</li>'
    )


def render(doc: dict[str, Any], title: str, base_path: str = "") -> str:
    """``base_path``: the --web.external-url path the links start with ("" or "/prefix")."""
    base = _e(base_path)
    rows = []
    targets = sorted(doc["targets"], key=lambda t: (not t["listings"], _ORDER.get(t["status"], 9)))
    for t in targets:
        listings = "".join(_listing(li) for li in t["listings"])
        blacklists = f"<ul>{listings}</ul>" if listings else '<span class="muted">none</span>'
        if t["errors"]:
            blacklists += (
                f'<div class="muted unknown-on">unknown on {len(t["errors"])} list(s): '
                + _e(", ".join(f"{e['list']} ({e['reason']})" if e.get("reason") else e["list"] for e in t["errors"]))
                + "</div>"
            )
        score = "-" if t["score"] is None else f"{t['score']:.0f}"
        via = f'<div class="muted host">via {_e(t["host"])}</div>' if t.get("host") else ""
        if doc.get("history_export"):
            href = f"{base}/export?{urllib.parse.urlencode({'target': t['target']})}"
            via += f'<div class="muted"><a class="history" href="{_e(href)}">history (CSV)</a></div>'
        volume_cell = ""
        if doc.get("volume_column"):
            v = t.get("daily_volume")
            volume_cell = f'<td class="volume">{"-" if v is None else f"{v:,.0f}"}</td>'
        age = ""
        if t["restored"] and t["result_age_seconds"] is not None:
            age = f' <span class="muted">(restored, {t["result_age_seconds"]:.0f}s old)</span>'
        rows.append(
            f'<tr data-target="{_e(t["target"])}"><td>{_e(t["target"])}{via}</td><td>{_e(t["provider"])}</td>'
            f'<td>{_e(t["pool"])}</td>{volume_cell}<td class="score">{score}</td>'
            f'<td class="blacklists">{blacklists}</td>'
            f'<td><span class="status {_e(t["status"])}">{_e(t["status"].capitalize())}</span></td>'
            f"<td>{_e(t['last_checked'] or 'never')}{age}"
            f'<div class="muted">coverage {t["lists_answered"]}/{t["lists_applicable"]}</div></td></tr>'
        )
    list_rows = []
    for li in doc["lists"]:
        state = "not checked yet" if li["up"] is None else ("up" if li["up"] else "down")
        cls = "unknown" if li["up"] is None else ("good" if li["up"] else "critical")
        budget = ""
        if li["daily_query_budget"]:
            budget = f"{li['projected_daily_queries']:,} / {li['daily_query_budget']:,}"
        list_rows.append(
            f'<tr data-list="{_e(li["name"])}"><td>{_e(li["name"])}</td><td>{_e(li["zone"])}</td>'
            f"<td>{_e(li['kind'])}</td><td>{_e(li['tier'])}</td><td>{li['weight']:g}</td>"
            f'<td><span class="status {cls}">{state}</span> <span class="reason">{_e(li["reason"])}</span></td>'
            f"<td>{_e(li['checked_at'] or '')}</td><td>{_e(budget)}</td></tr>"
        )
    volume_head = "<th>Daily volume</th>" if doc.get("volume_column") else ""
    history_note = "each row's <em>history (CSV)</em> link, or" if doc.get("history_export") else "run"
    state = doc.get("state_file")
    state_note = ""
    if state and state["last_write_ok"] is False:
        state_note = (
            f'<p class="status critical" id="state-file">State file not written ({state["write_failures"]} '
            f"failure(s)): {_e(state['last_error'])}</p>"
        )
    body = f"""<h1>IP Reputation Monitor</h1>{state_note}
<p class="muted">Generated {_e(doc["generated_at"])} · <a href="{base}/api/v1/targets">JSON</a> ·
<a href="{base}/metrics">metrics</a> · <a href="{base}/config">configuration</a></p>
<table id="targets"><thead><tr><th>IP / domain</th><th>Provider</th><th>Pool</th>{volume_head}<th>Score</th>
<th>Blacklists</th><th>Status</th><th>Last checked</th></tr></thead>
<tbody>{"".join(rows) or '<tr><td colspan="8">no targets configured</td></tr>'}</tbody></table>
<p class="muted" id="history">History for a report or a delisting request: {history_note}
<code>infrawatch reputation export --prometheus URL --since 90d --target IP -o history.csv</code>
(any range and step; see docs/reputation.md).</p>
<h2>Blacklists</h2>
<table id="lists"><thead><tr><th>List</th><th>Zone</th><th>Kind</th><th>Tier</th><th>Weight</th>
<th>Health</th><th>Last test</th><th>Queries/day (projected / budget)</th></tr></thead>
<tbody>{"".join(list_rows)}</tbody></table>"""
    return page(title, body, _CSS, refresh_seconds=30)
