"""The two infrawatch exporters as real child processes (``python -m infrawatch.<exporter>.main``).

Both listen on ``--web.listen-address`` (default ``127.0.0.1:0``: the port the kernel picks, read
back from the exporter's JSON "listening" log line) and are stopped by PID.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .procs import Proc, wait_listening


class _ExporterProcess:
    """HTTP helpers shared by both exporter processes (``url`` is set once the exporter listens)."""

    proc: Proc | None
    url: str

    def get(self, path: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, str]:
        req = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post(self, path: str) -> tuple[int, str]:
        req = urllib.request.Request(self.url + path, data=b"", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metric(self, name: str, **labels: str) -> float | None:
        """First sample of ``name`` on /metrics whose labels include ``labels``."""
        from prometheus_client.parser import text_string_to_metric_families

        _, text = self.get("/metrics")
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
        return None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


class ExporterProc(_ExporterProcess):
    """``infrawatch-probe-exporter`` as a subprocess, started by the constructor (stopped by PID)."""

    def __init__(
        self,
        config_path: Path,
        workdir: Path,
        extra_args: list[str] | None = None,
        listen_address: str = "127.0.0.1:0",
    ):
        self.config_path = config_path
        argv = [
            sys.executable,
            "-m",
            "infrawatch.probe.main",
            f"--config.file={config_path}",
            f"--web.listen-address={listen_address}",
            *(extra_args or []),
        ]
        self.proc = Proc(argv, workdir / f"exporter-{time.monotonic_ns()}.log")
        try:
            self.url = wait_listening(self.proc)
        except Exception:
            self.proc.stop()
            raise
        self.port = int(self.url.rsplit(":", 1)[1])


class ReputationExporterProc(_ExporterProcess):
    """``infrawatch-reputation-exporter`` with ``config_text`` written to ``workdir``; ``start()`` runs it."""

    def __init__(
        self,
        workdir: Path,
        config_text: str,
        extra_args: list[str] | None = None,
        name: str = "reputation",
        listen_address: str = "127.0.0.1:0",
    ):
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / f"{name}.yml"
        self.config_path.write_text(config_text)
        self.extra_args = extra_args or []
        self.name = name
        self.listen_address = listen_address
        self.proc = None
        self.url = ""

    def start(self, timeout: float = 30.0) -> ReputationExporterProc:
        self.proc = Proc(
            [
                sys.executable,
                "-m",
                "infrawatch.reputation.main",
                f"--config.file={self.config_path}",
                f"--web.listen-address={self.listen_address}",
                "--log.level=debug",
                *self.extra_args,
            ],
            self.workdir / f"{self.name}.log",
        )
        try:
            self.url = wait_listening(self.proc, timeout)
        except Exception:
            self.proc.stop()
            raise
        return self

    def api(self) -> dict:
        return json.loads(self.get("/api/v1/targets")[1])

    def wait_api(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        doc: dict = {}
        while time.monotonic() < deadline:
            doc = self.api()
            if predicate(doc):
                return doc
            time.sleep(0.1)
        raise TimeoutError(
            f"condition not met; last document: {json.dumps(doc)[:2000]}\n{self.proc.log() if self.proc else ''}"
        )


def all_checked(doc: dict) -> bool:
    """Every list has run its test points and every target has a result."""
    return (
        bool(doc.get("lists"))
        and all(li["up"] is not None for li in doc["lists"])
        and all(t["last_checked"] for t in doc["targets"])
    )
