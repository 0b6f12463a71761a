"""logfmt/JSON log formats and secret scrubbing."""

from __future__ import annotations

import json
import logging

from infrawatch.core.logs import JSONFormatter, LogfmtFormatter, register_secrets


def record(msg: str, **extra: object) -> logging.LogRecord:
    r = logging.LogRecord("infrawatch", logging.WARNING, __file__, 1, msg, (), None)
    for k, v in extra.items():
        setattr(r, k, v)
    return r


def test_logfmt_quotes_values_with_spaces() -> None:
    line = LogfmtFormatter().format(record("config loaded", file="my file.yml", n=3))
    assert "level=warn" in line
    assert 'msg="config loaded"' in line
    assert 'file="my file.yml"' in line and "n=3" in line
    assert line.startswith("ts=")


def test_json_format_is_parseable() -> None:
    doc = json.loads(JSONFormatter().format(record("hello", target="a")))
    assert doc["msg"] == "hello" and doc["target"] == "a" and doc["level"] == "warn"


def test_registered_secret_never_logged() -> None:
    register_secrets({"pa55word-xyz"})
    line = LogfmtFormatter().format(record("auth failed for pa55word-xyz", dsn="postgres://u:pa55word-xyz@h"))
    assert "pa55word-xyz" not in line
    assert "<secret>" in line
