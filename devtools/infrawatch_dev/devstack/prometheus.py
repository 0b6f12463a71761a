"""A real Prometheus server (Debian package ``prometheus``) on a free loopback port, stopped by PID."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from .procs import Proc, free_port, require_binary, wait_http


class Prometheus:
    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any],
        rule_files: list[str] | None = None,
        extra_args: list[str] | None = None,
    ):
        self.binary = require_binary("prometheus")
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = dict(config)
        config.setdefault("global", {}).setdefault("scrape_interval", "1s")
        config["global"].setdefault("evaluation_interval", "1s")
        if rule_files:
            config["rule_files"] = rule_files
        self.config_path = workdir / "prometheus.yml"
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        self.extra_args = extra_args or []
        self.proc: Proc | None = None

    def start(self) -> Prometheus:
        self.proc = Proc(
            [
                self.binary,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                "--log.level=warn",
                *self.extra_args,
            ],
            self.workdir / "prometheus.log",
        )
        try:
            wait_http(self.url + "/-/ready", timeout=60, proc=self.proc.proc)
        except Exception as exc:
            raise RuntimeError(f"prometheus did not start: {exc}\n{self.proc.log()}") from exc
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise RuntimeError(f"prometheus API error: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.api("query", query=expr)["result"]

    def wait_for(self, expr: str, timeout: float = 60.0, predicate=None) -> list[dict[str, Any]]:
        """Poll ``expr`` until it returns a non-empty result (that satisfies ``predicate``)."""
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            result = self.query(expr)
            if result and (predicate is None or predicate(result)):
                return result
            time.sleep(0.5)
        raise TimeoutError(f"{expr!r} still {result!r} after {timeout}s\n{self.proc.log() if self.proc else ''}")

    def targets(self) -> list[dict[str, Any]]:
        return self.api("targets")["activeTargets"]
