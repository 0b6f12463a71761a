"""RE2 (Go) semantics for every configured regexp (core/regexp.py), including where Python's
``re`` would give the opposite verdict."""

from __future__ import annotations

import asyncio

import pytest

from infrawatch.core.regexp import RegexpError, compile_pattern, expand
from infrawatch.probe.runner import run_probe
from support.probeutil import Targets, module, probe


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        # blackbox's pop3s_banner: an error in Python's re; in Go/RE2 "(^)+OK", so it needs "OK" at the
        # start and does NOT match a real "+OK" banner (the differential suite shows blackbox agrees).
        ("^+OK", "+OK POP3 ready", False),
        ("^+OK", "OK POP3 ready", True),
        ("OK$", "OK\n", False),  # Python's $ matches before a final newline; Go's does not
        ("[[:digit:]]", "7", True),  # POSIX class in RE2; a character set in Python
        ("[[:digit:]]", "d", False),
        ("x{,3}", "x{,3}", True),  # a literal in RE2; a repetition in Python 3.11+
        ("x{,3}", "xx", False),
        (r"\pL+", "é", True),
        ("(?i)ok", "OK", True),
    ],
)
def test_go_semantics(pattern: str, text: str, matches: bool) -> None:
    assert (compile_pattern(pattern).search(text) is not None) is matches


@pytest.mark.parametrize("pattern", ["a(?=b)", r"(a)\1", r"\Z", "(?<!a)b"])
def test_patterns_re2_rejects(pattern: str) -> None:
    with pytest.raises(RegexpError):
        compile_pattern(pattern)


def test_expand_like_go() -> None:
    m = compile_pattern("(?P<host>[a-z]+) ([0-9]+)").search("mx 25")
    assert m is not None
    assert expand("${1}:$2 $host ${host}x $$ $9 $", m) == "mx:25 mx mxx $  $"
    assert expand("$1x", m) == ""  # Go: the name is "1x", no such group


def test_body_regexp_end_anchor_as_blackbox(targets: Targets) -> None:
    """/ok answers "hello from the target\\n": ``target$`` matches in Python, not in Go."""
    r = probe(targets.http(), {"fail_if_body_not_matches_regexp": ["target$"], "preferred_ip_protocol": "ip4"})
    assert not r.success and r.value("probe_failed_due_to_regex") == 1
    r = probe(targets.http(), {"fail_if_body_not_matches_regexp": ["(?m)target$"], "preferred_ip_protocol": "ip4"})
    assert r.success and r.value("probe_failed_due_to_regex") == 0


def test_pop3_banner_example_gives_gos_verdict(targets: Targets) -> None:
    async def pop3(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"+OK POP3 ready\r\n")
        await writer.drain()
        writer.close()

    port = targets.servers.serve_stream(pop3)
    mod = module({"query_response": [{"expect": "^+OK"}], "preferred_ip_protocol": "ip4"}, prober="tcp")
    r = asyncio.run(run_probe(f"127.0.0.1:{port}", "m", mod, 3.0))
    assert not r.success, r.log_lines  # loads (Python's re refused it) and fails as blackbox does
    assert r.value("probe_failed_due_to_regex") == 1
