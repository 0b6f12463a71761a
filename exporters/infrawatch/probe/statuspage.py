"""The HTML status page: a traffic-light grid of scheduled targets and the recent /probe calls.

Server-rendered, no JavaScript, refreshes itself every 10 s.  Every value is escaped; the caller
scrubs registered secrets from the whole page as a last line of defence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .. import __version__
from ..core.html import escape as _e
from ..core.html import page
from .results import ScheduledTarget
from .runner import ProbeResult


@dataclass
class StatusView:
    """What the exporter hands the page: no reference back to the exporter itself."""

    targets: list[tuple[ScheduledTarget, ProbeResult | None]] = field(default_factory=list)
    recent: list[ProbeResult] = field(default_factory=list)  # newest first
    reload_error: str = ""  # the last reload's problems; empty when it succeeded
    file_sd_errors: dict[str, str] = field(default_factory=dict)
    shard: tuple[int, int] | None = None
    modules: list[str] = field(default_factory=list)
    base_path: str = ""  # the --web.external-url path the links start with ("" or "/prefix")


_CSS = """
body{background:#f6f7f9;color:#1d2330}
.summary{margin-bottom:.7rem}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
.sub{color:#5b6475;font-size:.9rem}.summary span{display:inline-block;margin-right:1rem;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:.7rem}
.card{background:#fff;border-radius:8px;padding:.7rem .8rem;border-left:8px solid #9aa3b2;
box-shadow:0 1px 2px rgba(0,0,0,.08);overflow-wrap:anywhere}
.card.healthy{border-color:#2e9e4f}.card.degraded{border-color:#e0a100}.card.down{border-color:#d93636}
.dot{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.4rem;vertical-align:-1px;
background:#9aa3b2}.healthy .dot,.dot.healthy{background:#2e9e4f}.degraded .dot,.dot.degraded{background:#e0a100}
.down .dot,.dot.down{background:#d93636}
.svc{font-weight:600}.tgt{font-family:ui-monospace,monospace;font-size:.85rem;margin:.2rem 0}
.meta{color:#5b6475;font-size:.82rem}.reason{color:#b02a2a;font-size:.85rem;margin-top:.25rem}
table{border-collapse:collapse;background:#fff;width:100%;font-size:.88rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e3e6eb}th{background:#eef0f4}
.err{background:#fdecec;border:1px solid #f3b4b4;padding:.5rem .8rem;border-radius:6px;margin:.6rem 0}
a{color:#2456b3}
"""


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago"


def render_status_page(view: StatusView) -> str:
    now = time.time()
    cards: list[str] = []
    counts = {"healthy": 0, "degraded": 0, "down": 0, "pending": 0}
    order = {"down": 0, "degraded": 1, "pending": 2, "healthy": 3}
    entries = []
    for t, r in view.targets:
        state = r.health if r else "pending"
        counts[state] += 1
        entries.append((order[state], t.service, t.target, t, r, state))
    for _, _, _, t, r, state in sorted(entries, key=lambda e: e[:3]):
        meta = [f"module {_e(t.module)}", f"every {t.interval:g}s"]
        if r:
            meta += [f"latency {r.duration * 1000:.0f} ms", f"result {_age(now - r.finished_at)}"]
        else:
            meta.append("not probed yet")
        labels = " ".join(f"{_e(k)}={_e(v)}" for k, v in sorted(t.labels.items()))
        reason = ""
        if r and not r.success:
            reason = f'<div class="reason">{_e(r.failure_reason)}: {_e(r.failure_message)}</div>'
        elif r and state == "degraded":
            reason = '<div class="reason">target reports degraded health</div>'
        cards.append(
            f'<div class="card {state}" data-state="{state}" data-target="{_e(t.target)}">'
            f'<div><span class="dot"></span><span class="svc">{_e(t.service or t.module)}</span> '
            f'<span class="meta">{state}</span></div>'
            f'<div class="tgt">{_e(t.target)}</div><div class="meta">{" · ".join(meta)}</div>'
            + (f'<div class="meta">{labels}</div>' if labels else "")
            + reason
            + "</div>"
        )
    recent_rows = []
    for r in view.recent:
        state = r.health
        recent_rows.append(
            f'<tr data-state="{state}"><td>{_e(time.strftime("%H:%M:%S", time.localtime(r.finished_at)))}</td>'
            f'<td><span class="dot {state}"></span>{"ok" if r.success else "failed"}</td>'
            f'<td class="tgt">{_e(r.target)}</td><td>{_e(r.module)}</td><td>{r.duration * 1000:.0f} ms</td>'
            f"<td>{_e(r.failure_reason + ': ' + r.failure_message) if not r.success else ''}</td></tr>"
        )
    problems = []
    if view.reload_error:
        problems.append(
            f'<div class="err">Last configuration reload failed; the previous configuration '
            f"stays in force.<pre>{_e(view.reload_error)}</pre></div>"
        )
    for path, err in view.file_sd_errors.items():
        problems.append(f'<div class="err">file_sd {_e(path)}: {_e(err)} (previous targets kept)</div>')
    shard = f" · shard {view.shard[0]}/{view.shard[1]}" if view.shard else ""
    summary = "".join(
        f'<span><span class="dot {k}"></span>{v} {k}</span>' for k, v in counts.items() if v or k != "pending"
    )
    grid = (
        "".join(cards)
        or '<p class="sub">No scheduled targets. Add <code>targets:</code> or '
        "<code>file_sd:</code> to the configuration.</p>"
    )
    recent = (
        (
            "<table><thead><tr><th>Time</th><th>Result</th><th>Target</th><th>Module</th><th>Latency</th>"
            "<th>Failure</th></tr></thead><tbody>" + "".join(recent_rows) + "</tbody></table>"
        )
        if recent_rows
        else '<p class="sub">No /probe calls yet.</p>'
    )
    modules = ", ".join(_e(m) for m in view.modules)
    body = f"""<h1>infrawatch service probes</h1>
<div class="sub">version {_e(__version__)}{shard} · modules: {modules} ·
<a href="{_e(view.base_path)}/metrics">metrics</a> · <a href="{_e(view.base_path)}/config">configuration</a> ·
<a href="{_e(view.base_path)}/probe?target=127.0.0.1&amp;module=http_2xx&amp;debug=true">probe example</a></div>
{"".join(problems)}
<h2>Scheduled targets</h2>
<div class="summary">{summary}</div>
<div class="grid" id="targets">{grid}</div>
<h2>Recent /probe calls</h2>
<p class="sub">Failures are kept four times longer than successes.</p>
<div id="recent">{recent}</div>"""
    return page("infrawatch probes", body, _CSS, refresh_seconds=10)
