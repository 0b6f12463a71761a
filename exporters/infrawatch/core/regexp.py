"""Regular expressions with Go/RE2 semantics: the one place a configured pattern is compiled.

blackbox_exporter compiles every regexp a module names (body, header, tcp ``expect``, dns
``validate_*``) with Go's ``regexp`` package, which is RE2.  Python's ``re`` differs in ways that
change verdicts, not only syntax: ``OK$`` matches ``"OK\\n"`` in Python and not in Go, ``^+OK``
(blackbox's own POP3 example) is an error in Python, ``[[:digit:]]`` is a character set of
``[:digt`` in Python and a digit class in RE2, ``x{,3}`` is a repetition in Python 3.11+ and a
literal in RE2.  So patterns run on the ``google-re2`` bindings of the RE2 library itself instead
of being translated.

``compile_pattern`` raises ``RegexpError`` with RE2's own message; ``check`` reports it as a
located configuration error.  Both str and bytes patterns are taken (an HTTP body is matched as
bytes, as Go matches ``[]byte``).
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import re2

from .config import Context

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error is reported to the operator, located; not on stderr


class RegexpError(ValueError):
    """RE2 refused the pattern; ``str()`` is RE2's message."""


class Match(Protocol):
    def group(self, *args: int | str) -> Any: ...
    def groups(self) -> tuple[Any, ...]: ...
    def start(self, group: int = 0) -> int: ...


class Pattern(Protocol):
    pattern: Any

    def search(self, text: Any) -> Match | None: ...


@functools.lru_cache(maxsize=4096)
def compile_pattern(pattern: str | bytes) -> Pattern:
    """Compile with RE2 (Go's syntax and semantics); ``RegexpError`` when RE2 rejects it.

    Compiled patterns are immutable, so one per pattern is kept (a module file repeats the same
    patterns in many modules)."""
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        msg = exc.args[0] if exc.args else str(exc)
        if isinstance(msg, bytes):
            msg = msg.decode("utf-8", "replace")
        raise RegexpError(str(msg)) from None


def check(pattern: str, ctx: Context, path: tuple, *, as_bytes: bool = False) -> Pattern | None:
    """Compile a configured pattern; on failure report ``file:line: key.path: ...`` and return None."""
    try:
        return compile_pattern(pattern.encode() if as_bytes else pattern)
    except RegexpError as exc:
        ctx.error(path, f"invalid regular expression {pattern!r} (RE2 syntax, as blackbox): {exc}")
        return None


def expand(template: str, m: Match) -> str:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``; an unknown group
    expands to ''.  In ``$name`` the name is the longest run of letters, digits and ``_``."""
    out: list[str] = []
    i, n = 0, len(template)
    while i < n:
        c = template[i]
        if c != "$" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        nxt = template[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            end = template.find("}", i + 2)
            name = template[i + 2 : end] if end > 0 else ""
            if not name or not _is_name(name):
                out.append(c)
                i += 1
                continue
            i = end + 1
        else:
            j = i + 1
            while j < n and (template[j].isalnum() or template[j] == "_") and template[j].isascii():
                j += 1
            name = template[i + 1 : j]
            if not name:
                out.append(c)
                i += 1
                continue
            i = j
        out.append(_group(m, name))
    return "".join(out)


def _is_name(s: str) -> bool:
    return all((ch.isalnum() or ch == "_") and ch.isascii() for ch in s)


def _group(m: Match, name: str) -> str:
    try:
        value = m.group(int(name)) if name.isdigit() else m.group(name)
    except (IndexError, KeyError, ValueError, TypeError):
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""
