"""A real Alertmanager (Debian package ``prometheus-alertmanager``) for the tests and the demo.

Started on a free loopback port with gossip off (``--cluster.listen-address=``) and fresh storage in
its work directory; stopped by PID.  Alerts are posted through the v2 API, the same API Prometheus
uses.  ``render_mixin_config`` evaluates the mixin with an overridden ``_config`` and writes
alertmanager.yml plus templates, so a test can point the receivers at loopback fakes and temp secret
files without touching the committed config.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import ROOT, require_repo
from .procs import Proc, free_port, require_binary, wait_http


def alertmanager_binary() -> str:
    import shutil

    return shutil.which("prometheus-alertmanager") or require_binary("alertmanager")


def render_mixin_config(workdir: Path, config_override: dict[str, Any] | None = None, root: Path = ROOT) -> Path:
    """Write ``alertmanager.yml`` + ``templates/`` generated from the mixin into ``workdir``.

    ``config_override`` is merged into ``_config`` with Jsonnet's ``+:`` at the top level of each key
    (``{"alertmanager": {...}}`` overrides single knobs of ``_config.alertmanager``; lists are replaced).
    """
    from infrawatch_dev import build

    require_repo(root)
    override = dict(config_override or {})
    # The same _config as `make build` (build.jsonnet adds the SLO specs of slos/ as sloImported).
    if hasattr(build, "load_slo_specs") and "sloImported" not in override:
        override["sloImported"] = build.load_slo_specs(root)
    patch = ", ".join(
        f"{json.dumps(k)}+: {json.dumps(v)}" if isinstance(v, dict) else f"{json.dumps(k)}: {json.dumps(v)}"
        for k, v in override.items()
    )
    snippet = (
        "local m = (import 'mixin.libsonnet') + { _config+:: { " + patch + " } };\n"
        "{ config: m.alertmanagerConfig, templates: m.alertmanagerTemplates }"
    )
    out = build.evaluate_snippet(root, snippet)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "templates").mkdir(exist_ok=True)
    for name, text in out["templates"].items():
        (workdir / "templates" / name).write_text(text)
    path = workdir / "alertmanager.yml"
    path.write_text(build.render("alertmanager.yml", out["config"]))
    return path


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Alertmanager:
    """One Alertmanager process.  ``url`` is also its ``--web.external-url``."""

    def __init__(self, workdir: Path, config_path: Path, extra_args: list[str] | None = None):
        self.binary = alertmanager_binary()
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = config_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = extra_args or []
        self.proc: Proc | None = None

    def start(self) -> Alertmanager:
        storage = self.workdir / "data"
        storage.mkdir(exist_ok=True)
        self.proc = Proc(
            [
                self.binary,
                f"--config.file={self.config_path}",
                f"--storage.path={storage}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                f"--web.external-url={self.url}",
                "--cluster.listen-address=",  # gossip off: a single, isolated instance
                "--log.level=debug",
                *self.extra_args,
            ],
            self.workdir / "alertmanager.log",
        )
        try:
            wait_http(self.url + "/-/ready", timeout=60, proc=self.proc.proc)
        except Exception as exc:
            raise RuntimeError(f"alertmanager did not start: {exc}\n{self.proc.log()}") from exc
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()

    def log(self) -> str:
        return self.proc.log() if self.proc else ""

    # --- HTTP API v2 -------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from e
        return json.loads(raw) if raw else None

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Post alerts ({labels, annotations, startsAt?, endsAt?}); startsAt defaults to now."""
        now = datetime.now(UTC)
        payload = []
        for a in alerts:
            item = {
                "labels": a["labels"],
                "annotations": a.get("annotations", {}),
                "startsAt": a.get("startsAt", iso(now)),
                "generatorURL": a.get("generatorURL", "http://prometheus.test/graph"),
            }
            if "endsAt" in a:
                item["endsAt"] = a["endsAt"]
            payload.append(item)
        self._request("POST", "/api/v2/alerts", payload)

    def resolve_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Post the same alerts with endsAt in the past: Alertmanager resolves them at once."""
        now = datetime.now(UTC)
        self.post_alerts(
            [
                {
                    **a,
                    "startsAt": a.get("startsAt", iso(now - timedelta(minutes=1))),
                    "endsAt": iso(now - timedelta(seconds=1)),
                }
                for a in alerts
            ]
        )

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode(
            [("filter", f'{k}="{v}"') for k, v in filters.items()]
            + [("silenced", "true"), ("inhibited", "true"), ("active", "true")]
        )
        return self._request("GET", f"/api/v2/alerts?{query}")

    def silences(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/v2/silences")

    def add_silence(
        self, matchers: dict[str, str], comment: str, created_by: str = "test", duration: timedelta = timedelta(hours=1)
    ) -> str:
        now = datetime.now(UTC)
        body = {
            "matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in matchers.items()],
            "startsAt": iso(now),
            "endsAt": iso(now + duration),
            "createdBy": created_by,
            "comment": comment,
        }
        return self._request("POST", "/api/v2/silences", body)["silenceID"]

    def metrics(self) -> str:
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            return r.read().decode()

    def metric_values(self, name: str) -> dict[str, float]:
        """``{'{labels}': value}`` of one metric from /metrics."""
        out: dict[str, float] = {}
        for line in self.metrics().splitlines():
            m = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})?\s+(\S+)$", line)
            if m:
                out[m.group(1) or ""] = float(m.group(2))
        return out

    def wait_alert(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0, **filters: str
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            seen = self.alerts(**filters)
            for a in seen:
                if predicate(a):
                    return a
            time.sleep(0.2)
        raise TimeoutError(f"no alert matching predicate after {timeout}s; last: {seen}")
