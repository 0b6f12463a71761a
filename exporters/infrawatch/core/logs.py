"""logfmt / JSON logging in the style of Prometheus exporters (``ts=… level=… msg=…``)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_scrub: set[str] = set()


# ``scheme://user:password@host``: the password (up to the last ``@`` before the path) ...
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@?#]*):(?P<pw>[^/\s?#]*)@")
# ... and ``password=...`` in a libpq key/value DSN (``host=db user=u password=x``).
_DSN_PASSWORD = re.compile(r"(?P<head>(?:^|[\s?&;])password=)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s&;]+)", re.IGNORECASE)
MASK = "<secret>"


def userinfo_passwords(text: str) -> list[str]:
    """The passwords in URL userinfo and DSN ``password=`` parts of ``text`` (to register them)."""
    if "@" not in text and "password=" not in text.lower():  # most strings: no regexp run
        return []
    return [m.group("pw") for rx in (_USERINFO, _DSN_PASSWORD) for m in rx.finditer(text) if m.group("pw")]


def mask_userinfo(text: str) -> str:
    """``text`` with every URL userinfo password (``http://u:<secret>@host``) and DSN
    ``password=`` value masked; the user name stays, so a reader can tell which account."""
    if "@" in text:
        text = _USERINFO.sub(lambda m: f"{m.group('head')}:{MASK}@" if m.group("pw") else m.group(0), text)
    if "password=" in text.lower():
        text = _DSN_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return text


def register_secrets(values: set[str] | list[str]) -> None:
    """Secret values that must never reach a log line (replaced by ``<secret>``)."""
    _scrub.update(v for v in values if v and len(v) >= 4)


def scrub(text: str) -> str:
    """``text`` without registered secrets and URL/DSN passwords (logs, pages, debug output)."""
    for s in _scrub:
        if s in text:
            text = text.replace(s, MASK)
    return mask_userinfo(text)


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
