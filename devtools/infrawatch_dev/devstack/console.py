"""The operator console (``infrawatch console``) as a child process of the dev stack.

``console_config`` writes its YAML (Prometheus, Alertmanager, reputation exporter, the ticket and
rotation hooks pointed at the stack's fake webhook with a token file, an audit log); ``ConsoleProc``
runs ``python -m infrawatch.console.main`` on a free port (read back from its "listening" line) and
stops it by PID.
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from .procs import Proc, wait_listening

CONSOLE_PAGE = "/dashboard/system/infrastructure"


def console_config(
    workdir: Path,
    prometheus_url: str,
    alertmanager_url: str,
    reputation_url: str,
    webhook_url: str,
    refresh: str = "2s",
    extra: dict[str, Any] | None = None,
) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    token = workdir / "hook-token"
    token.write_text("demo-console-hook-token\n")
    cfg: dict[str, Any] = {
        "prometheus_url": prometheus_url,
        "alertmanager_url": alertmanager_url,
        "reputation_url": reputation_url,
        "refresh": refresh,
        "audit_log": str(workdir / "audit.jsonl"),
        "backup_pools": {"transactional": "backup"},
        "hooks": {
            "ticket": {"url": webhook_url + "/ticket", "bearer_token_file": str(token)},
            "rotation": {"url": webhook_url + "/rotation", "bearer_token_file": str(token)},
        },
        **(extra or {}),
    }
    path = workdir / "console.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


class ConsoleProc:
    def __init__(self, config_path: Path, workdir: Path, extra_args: list[str] | None = None):
        self.config_path = config_path
        self.workdir = workdir
        self.extra_args = extra_args or []
        self.proc: Proc | None = None
        self.url = ""

    def start(self, listen_address: str = "127.0.0.1:0") -> ConsoleProc:
        self.proc = Proc(
            [
                sys.executable,
                "-m",
                "infrawatch.console.main",
                f"--config.file={self.config_path}",
                f"--web.listen-address={listen_address}",
                *self.extra_args,
            ],
            self.workdir / "console.log",
        )
        try:
            self.url = wait_listening(self.proc)
        except Exception:
            self.proc.stop()
            raise
        return self

    @property
    def page_url(self) -> str:
        return self.url + CONSOLE_PAGE

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


def render_console_page(prometheus_url: str, alertmanager_url: str, workdir: Path) -> str:
    """Start a console on these upstreams, fetch its page once, stop it (by its PID)."""
    cfg = workdir / "console.yml"
    cfg.write_text(f"prometheus_url: {prometheus_url}\nalertmanager_url: {alertmanager_url}\n")
    console = ConsoleProc(cfg, workdir).start()
    try:
        with urllib.request.urlopen(console.page_url, timeout=30) as r:
            return r.read().decode()
    finally:
        console.stop()
