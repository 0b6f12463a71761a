"""Run the reputation exporter as a real process for tests (stopped by PID)."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .procs import Proc


class ReputationExporterProc:
    def __init__(self, workdir: Path, config_text: str, extra_args: list[str] | None = None, name: str = "reputation"):
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / f"{name}.yml"
        self.config_path.write_text(config_text)
        self.extra_args = extra_args or []
        self.name = name
        self.proc: Proc | None = None
        self.url = ""

    def start(self, timeout: float = 30.0) -> ReputationExporterProc:
        self.proc = Proc(
            [
                sys.executable,
                "-m",
                "infrawatch.reputation.main",
                f"--config.file={self.config_path}",
                "--web.listen-address=127.0.0.1:0",
                "--log.level=debug",
                *self.extra_args,
            ],
            self.workdir / f"{self.name}.log",
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.proc.log().splitlines():
                if line.startswith("{") and '"listening"' in line:
                    self.url = json.loads(line)["addresses"][0]
                    return self
            if not self.proc.alive():
                raise RuntimeError(f"exporter exited:\n{self.proc.log()}")
            time.sleep(0.05)
        raise TimeoutError(f"exporter did not start:\n{self.proc.log()}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post(self, path: str) -> tuple[int, str]:
        req = urllib.request.Request(self.url + path, method="POST", data=b"")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def api(self) -> dict:
        return json.loads(self.get("/api/v1/targets")[1])

    def wait_api(self, predicate, timeout: float = 30.0) -> dict:  # type: ignore[no-untyped-def]
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

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


def all_checked(doc: dict) -> bool:
    """Every list has run its test points and every target has a result."""
    return (
        bool(doc.get("lists"))
        and all(li["up"] is not None for li in doc["lists"])
        and all(t["last_checked"] for t in doc["targets"])
    )
