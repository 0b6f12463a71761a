"""logfmt / JSON logging in the style of Prometheus exporters (``ts=… level=… msg=…``)."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_scrub: set[str] = set()


def register_secrets(values: set[str] | list[str]) -> None:
    """Secret values that must never reach a log line (replaced by ``<secret>``)."""
    _scrub.update(v for v in values if v and len(v) >= 4)


def scrub(text: str) -> str:
    for s in _scrub:
        if s in text:
            text = text.replace(s, "<secret>")
    return text


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
        "level": record.levelname.lower().replace("warning", "warn"),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for k, v in vars(record).items():
        if k not in _RESERVED and not k.startswith("_"):
            out[k] = v
    if record.exc_info:
        out["err"] = logging.Formatter().formatException(record.exc_info).splitlines()[-1]
    return out


def _logfmt_value(v: Any) -> str:
    s = str(v)
    if s == "" or any(c in s for c in ' "=\n\t'):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return s


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(" ".join(f"{k}={_logfmt_value(v)}" for k, v in _fields(record).items()))


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(json.dumps(_fields(record), default=str))


def setup_logging(level: str = "info", fmt: str = "logfmt") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(
        {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}[level]
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
