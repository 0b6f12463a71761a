"""The page's actions: acknowledge (an Alertmanager silence), incident ticket and IP-pool rotation
(configured hooks), each written to the audit log with who did it and how it went.

Hooks get JSON: a webhook as a POST body (``Authorization: Bearer`` from ``bearer_token_file``), a
command on stdin (plus ``INFRAWATCH_*`` environment variables for shell scripts).  Neither the
hook's URL nor its token is ever rendered on the page or written to the audit log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from .config import Hook

log = logging.getLogger("infrawatch.console.audit")


class ActionError(Exception):
    """The action did not happen (message is safe to show on the page)."""


class AuditLog:
    def __init__(self, path: str):
        self.path = Path(path) if path else None

    def write(self, user: str, action: str, result: str, **details: Any) -> dict[str, Any]:
        entry = {
            "ts": datetime.now(UTC).isoformat(timespec="seconds"),
            "user": user,
            "action": action,
            "result": result,
            **details,
        }
        log.info("console action", extra={k: v for k, v in entry.items() if k != "ts"})
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")
        return entry


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def silence_body(labels: dict[str, str], author: str, comment: str, expiry: float) -> dict[str, Any]:
    """A silence matching exactly this alert (all its labels, equality matchers)."""
    now = datetime.now(UTC)
    return {
        "matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in sorted(labels.items())],
        "startsAt": iso(now),
        "endsAt": iso(now + timedelta(seconds=expiry)),
        "createdBy": author,
        "comment": comment,
    }


async def call_hook(session: aiohttp.ClientSession, hook: Hook, name: str, payload: dict[str, Any]) -> str:
    """Run ``hook`` with ``payload``; returns a short result text, raises ActionError on failure."""
    if not hook.configured:
        raise ActionError(f"no {name} hook is configured")
    body = json.dumps(payload, sort_keys=True).encode()
    if hook.url:
        headers = {"Content-Type": "application/json"}
        if hook.token:
            headers["Authorization"] = f"Bearer {hook.token}"
        try:
            async with session.post(
                hook.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=hook.timeout)
            ) as r:
                if r.status >= 300:
                    raise ActionError(f"the {name} hook answered HTTP {r.status}")
                return f"HTTP {r.status}"
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ActionError(f"the {name} hook is unreachable ({type(exc).__name__})") from None
    env = {
        **os.environ,
        **{f"INFRAWATCH_{k.upper()}": str(v) for k, v in payload.items() if isinstance(v, str | int | float)},
    }
    try:
        proc = await asyncio.create_subprocess_exec(
            *hook.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
    except OSError as exc:
        raise ActionError(f"the {name} hook cannot be started: {exc.strerror}") from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(body), hook.timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ActionError(f"the {name} hook timed out after {hook.timeout:g} s") from None
    text = out.decode(errors="replace").strip()[-500:]
    if proc.returncode != 0:
        raise ActionError(f"the {name} hook failed (exit {proc.returncode}): {text}")
    return text or "exit 0"
