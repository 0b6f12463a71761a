"""Configuration loading with located errors.

Every problem in a configuration file is reported as ``file:line: key.path: message`` so an
operator can jump straight to it.  YAML is composed into nodes (which carry line marks) and
converted into plain Python values while a ``Locator`` remembers where each key path came from.

Schemas are ordinary dataclasses: ``from_yaml(MyConfig, data, ctx)`` walks the type hints,
converts values (durations, lists, nested dataclasses, ``Literal`` choices), fills defaults and
rejects unknown keys.  A dataclass may define ``validate(self, ctx, path)`` for cross-field rules;
it reports problems with ``ctx.error(path + ("key",), "message")``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import functools
import math
import re
import types
import typing
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import yaml

from .logs import mask_userinfo, userinfo_passwords

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """Render a key path as ``modules.http_2xx.http.valid_status_codes[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


@dataclass(frozen=True)
class Problem:
    """One located configuration problem."""

    file: str
    line: int | None
    path: KeyPath
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {format_path(self.path)}: {self.message}"


class ConfigError(Exception):
    """Raised with every problem found; ``str()`` prints one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Locator:
    """Maps key paths to line numbers of the YAML source (1-based)."""

    def __init__(self, file: str):
        self.file = file
        self.lines: dict[KeyPath, int] = {}

    def line(self, path: KeyPath) -> int | None:
        # Fall back to the nearest parent that has a position: a missing key is reported
        # at the mapping that should have held it.
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


# Bounds of what one configuration file may make the loader do (issue 15): a file is read whole,
# so its size bounds the parser; nesting and alias expansion bound what is built from it.
MAX_BYTES = 32 << 20  # 32 MiB
MAX_DEPTH = 100  # nested mappings/sequences (libyaml itself stops at 1000)
ALIAS_FREE = 100_000  # nodes reached through aliases that are always fine ...
ALIAS_RATIO = 4  # ... beyond that, at most this many per node written out in the file
# C0 control characters YAML does not allow (tab, LF and CR are fine), DEL, and the UTF-16
# surrogates and non-characters a str may hold.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C parser when present


def _problem(loc: Locator, line: int | None, path: KeyPath, message: str) -> ConfigError:
    return ConfigError([Problem(loc.file, line, path, message)])


class _Builder:
    """Turns a composed YAML node tree into plain values, recording each key path's line and
    enforcing ``MAX_DEPTH`` and the alias budget (an alias bomb fails at its first alias line)."""

    def __init__(self, loc: Locator, loader: Any):
        self.loc, self.loader = loc, loader
        self.seen: set[int] = set()
        self.own = 0  # nodes written out in the file
        self.via_alias = 0  # nodes reached again through an alias or a merge key
        self.merged: dict[int, int] = {}  # mapping node -> how many leading pairs came from merge keys
        self.scalars: dict[str, Any] = loader.yaml_constructors  # tag -> constructor, for scalars

    def scalar(self, node: yaml.ScalarNode) -> Any:
        ctor = self.scalars.get(node.tag)
        if ctor is None:  # an unknown tag: the constructor's located error
            return self.loader.construct_object(node)
        return ctor(self.loader, node)

    def build(self, node: yaml.Node, path: KeyPath, depth: int = 0, aliased: bool = False) -> Any:
        line = node.start_mark.line + 1
        self.loc.lines.setdefault(path, line)
        if not aliased and id(node) in self.seen:
            aliased = True
        if aliased:
            self.via_alias += 1
            if self.via_alias > ALIAS_FREE and self.via_alias > ALIAS_RATIO * self.own:
                raise _problem(
                    self.loc,
                    line,
                    path,
                    f"YAML aliases expand to more than {self.via_alias} nodes from {self.own} written ones "
                    "(an alias bomb?); write the values out",
                )
        else:
            self.seen.add(id(node))
            self.own += 1
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if depth >= MAX_DEPTH:
            raise _problem(self.loc, line, path, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, (*path, i), depth + 1, aliased) for i, v in enumerate(node.value)]
        if not isinstance(node, yaml.MappingNode):
            raise _problem(self.loc, line, path, f"unsupported YAML node {type(node).__name__}")
        # Merge keys (``<<: *defaults``): flatten_mapping puts the merged pairs first; those may
        # repeat each other and be overridden by the mapping's own, but its own keys are unique.
        merged = self.merged.get(id(node))
        if merged is None:  # first visit; later ones (through aliases) see the flattened node
            own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
            self.loader.flatten_mapping(node)
            merged = self.merged[id(node)] = len(node.value) - own
        out: dict[str, Any] = {}
        own_keys: set[str] = set()
        for n, (key_node, value_node) in enumerate(node.value):
            key_line = key_node.start_mark.line + 1
            key = self.scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | float | bool) or key is None:
                shown = key if key is not None else f"a {key_node.id}"
                raise _problem(self.loc, key_line, path, f"mapping key must be a string, got {shown!r}")
            key = str(key) if not isinstance(key, str) else key
            if n >= merged:
                if key in own_keys:
                    raise _problem(self.loc, key_line, (*path, key), "duplicate key")
                own_keys.add(key)
            self.loc.lines[(*path, key)] = key_line
            out[key] = self.build(value_node, (*path, key), depth + 1, aliased)
        return out


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _check_text(text: str, loc: Locator) -> None:
    if len(text) > MAX_BYTES:
        raise _problem(loc, None, (), f"file is larger than {MAX_BYTES >> 20} MiB")
    bad = _BAD_CHARS.search(text)
    if bad:
        line, col = _line_col(text, bad.start())
        raise _problem(loc, line, (), f"control character U+{ord(bad.group()):04X} at column {col} is not allowed")


@contextlib.contextmanager
def _located_yaml_errors(text: str, loc: Locator) -> Iterator[None]:
    """The parser's errors as located ``ConfigError``s, never a traceback."""
    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(str(exc.problem or exc).split())
        raise _problem(loc, line, (), f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:  # ReaderError and the like: no mark, maybe a position
        position = getattr(exc, "position", None)
        line = _line_col(text, position)[0] if isinstance(position, int) else None
        raise _problem(loc, line, (), f"YAML error: {getattr(exc, 'reason', None) or exc}") from None
    except RecursionError:  # only without libyaml: the pure-Python composer recurses
        raise _problem(loc, None, (), f"nested more than {MAX_DEPTH} levels deep") from None


def load_yaml_text(text: str, file: str) -> tuple[Any, Locator]:
    """Parse YAML text; every problem (syntax, control characters, size, nesting, alias
    expansion, duplicate keys) becomes a located ``ConfigError``, never a traceback."""
    loc = Locator(file)
    _check_text(text, loc)
    loader = _Loader(text)
    try:
        with _located_yaml_errors(text, loc):
            node = loader.get_single_node()
            if node is None:
                return None, loc
            return _Builder(loc, loader).build(node, ()), loc
    finally:
        loader.dispose()


def load_yaml_documents(text: str, file: str) -> Iterator[tuple[yaml.Node, Any, Locator]]:
    """Each document of a multi-document YAML text (``---`` separated, as Kubernetes manifests and
    SLO spec files are), with its node, value and own ``Locator``; the same bounds and located
    errors as ``load_yaml_text``.  Empty documents are skipped."""
    loc = Locator(file)
    _check_text(text, loc)
    loader = _Loader(text)
    try:
        with _located_yaml_errors(text, loc):
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                doc_loc = Locator(file)
                value = _Builder(doc_loc, loader).build(node, ())
                if value is not None:
                    yield node, value, doc_loc
    finally:
        loader.dispose()


def load_yaml_file(path: str | Path) -> tuple[Any, Locator]:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise _problem(Locator(str(p)), None, (), f"file is larger than {MAX_BYTES >> 20} MiB ({size} bytes)")
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(str(p), None, (), f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError([Problem(str(p), line, (), "file is not valid UTF-8")]) from None
    return load_yaml_text(text, str(p))


# --------------------------------------------------------------------------------------------
# Typed conversion


class Duration(float):
    """Seconds, parsed from Prometheus duration strings (``1h30m``, ``500ms``) or numbers.

    As a schema type a duration is finite and positive (``DurationOrZero`` also takes 0, where 0
    means "not set"): ``.nan`` would make a scheduler spin and ``.inf`` would never run it.
    ``parse`` itself accepts 0 (PromQL and Alertmanager durations may be ``0s``).
    """

    _UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    _RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
    MAX = 10 * 31536000.0  # 10y: anything longer is a typo, and would mean "never"
    allow_zero = False

    @classmethod
    def parse(cls, value: Any) -> Duration:
        """A finite duration in ``[0, MAX]``; ``ValueError`` with a message saying why not."""
        if isinstance(value, bool):
            raise ValueError("expected a duration such as 5s, 1m or 1h30m")
        if isinstance(value, int | float):
            total = float(value)
        elif isinstance(value, str):
            text = value.strip()
            pos, total = 0, 0.0
            if text != "0":
                for m in cls._RE.finditer(text):
                    if m.start() != pos:
                        break
                    total += float(m.group(1)) * cls._UNITS[m.group(2)]
                    pos = m.end()
                if pos != len(text) or not text:
                    raise ValueError(f"invalid duration {value!r}; expected e.g. 5s, 1m, 1h30m, 500ms")
        else:
            raise ValueError("expected a duration such as 5s, 1m or 1h30m")
        if not math.isfinite(total):
            raise ValueError(f"duration must be finite, got {value!r}")
        if total < 0:
            raise ValueError(f"duration must not be negative, got {value!r}")
        if total > cls.MAX:
            raise ValueError(f"duration {value!r} is longer than 10y")
        return cls(total)

    @classmethod
    def parse_config(cls, value: Any) -> Duration:
        """``parse``, and positive unless the type allows 0 (``DurationOrZero``)."""
        d = cls.parse(value)
        if d == 0 and not cls.allow_zero:
            raise ValueError(f"duration must be positive, got {value!r}")
        return d

    def __str__(self) -> str:
        s = float(self)
        if s == 0:
            return "0s"
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
            if s >= size and s % size == 0:
                return f"{int(s // size)}{unit}"
        return f"{round(s * 1000)}ms"


class DurationOrZero(Duration):
    """A duration where 0 means "not set" (a module's ``timeout``: the scrape's timeout)."""

    allow_zero = True


def parse_duration_flag(allow_zero: bool = False) -> Callable[[str], float]:
    """An argparse ``type=`` for a duration flag: ``1.5`` (seconds) or ``1m30s``, finite, positive
    (or 0 with ``allow_zero``); a bad value is argparse's usage error, not a traceback."""

    def parse(text: str) -> float:
        value: Any = text
        with contextlib.suppress(ValueError):
            value = float(text)  # plain seconds, as the flag always took them
        try:
            d = (DurationOrZero if allow_zero else Duration).parse_config(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return float(d)

    parse.__name__ = "duration"  # argparse names the type in its error message
    return parse


class Secret(str):
    """A string that must never be printed; ``repr``/``str`` in dumps show ``<secret>``."""

    MASK = "<secret>"

    def __repr__(self) -> str:
        return "Secret('<secret>')"


@dataclass
class Context:
    """Collects problems while converting one file."""

    loc: Locator
    base_dir: Path = field(default_factory=Path)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # Results of expensive checks that many sections repeat (TLS files), for this one load.
    memo: dict[Any, Any] = field(default_factory=dict)

    def error(self, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.loc.file, self.loc.line(path), path, message))

    def warn(self, path: KeyPath, message: str) -> None:
        self.warnings.append(Problem(self.loc.file, self.loc.line(path), path, message))

    def resolve_path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else self.base_dir / p

    def read_secret_file(self, path: KeyPath, value: str) -> Secret | None:
        """Read a ``*_file`` secret; the content is stripped of one trailing newline."""
        try:
            return Secret(self.resolve_path(value).read_text(encoding="utf-8").rstrip("\r\n"))
        except OSError as exc:
            self.error(path, f"cannot read secret file {value!r}: {exc.strerror}")
            return None

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)


_INVALID = object()
T = TypeVar("T")


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, Duration):
        return "a duration (e.g. 5s, 1m)"
    if tp is Secret or tp is str:
        return "a string"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin is list:
        return "a list"
    if origin is dict or (dataclasses.is_dataclass(tp)):
        return "a mapping"
    return getattr(tp, "__name__", str(tp))


def convert(tp: Any, value: Any, ctx: Context, path: KeyPath) -> Any:
    """Convert a YAML value to ``tp``; reports and returns ``_INVALID`` on mismatch."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None:
            return None
        if len(args) == 1:
            return convert(args[0], value, ctx, path)
        for a in args:
            sub = Context(ctx.loc, ctx.base_dir)
            out = convert(a, value, sub, path)
            if out is not _INVALID and not sub.problems:
                return out
        ctx.error(path, f"expected {' or '.join(_type_name(a) for a in args)}, got {value!r}")
        return _INVALID
    if tp is Any:
        return value
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            ctx.error(path, f"expected one of {', '.join(repr(c) for c in choices)}, got {value!r}")
            return _INVALID
        return value
    if isinstance(tp, type) and issubclass(tp, Duration):
        try:
            return tp.parse_config(value)
        except ValueError as exc:
            ctx.error(path, str(exc))
            return _INVALID
    if tp is bool:
        if not isinstance(value, bool):
            ctx.error(path, f"expected true or false, got {value!r}")
            return _INVALID
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            ctx.error(path, f"expected an integer, got {value!r}")
            return _INVALID
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            ctx.error(path, f"expected a number, got {value!r}")
            return _INVALID
        return float(value)
    if tp is bytes:  # YAML !!binary
        if not isinstance(value, bytes):
            ctx.error(path, f"expected !!binary bytes, got {value!r}")
            return _INVALID
        return value
    if tp in (str, Secret):
        if isinstance(value, bool | bytes) or value is None or isinstance(value, list | dict):
            ctx.error(path, f"expected a string, got {value!r}")
            return _INVALID
        if tp is str and isinstance(value, str) and userinfo_passwords(value):
            ctx.warn(
                path,
                "holds a password (URL user:password@ or password=); masked wherever shown, prefer a *_file setting",
            )
        return tp(value)
    if origin is list:
        (item_tp,) = get_args(tp) or (Any,)
        if value is None:
            return []
        if not isinstance(value, list):
            ctx.error(path, f"expected a list, got {type(value).__name__} {value!r}")
            return _INVALID
        out = [convert(item_tp, v, ctx, (*path, i)) for i, v in enumerate(value)]
        return [v for v in out if v is not _INVALID]
    if origin is dict:
        _key_tp, val_tp = get_args(tp) or (str, Any)
        if value is None:
            return {}
        if not isinstance(value, dict):
            ctx.error(path, f"expected a mapping, got {type(value).__name__} {value!r}")
            return _INVALID
        res = {}
        for k, v in value.items():
            cv = convert(val_tp, v, ctx, (*path, k))
            if cv is not _INVALID:
                res[k] = cv
        return res
    if dataclasses.is_dataclass(tp):
        return from_yaml(tp, value, ctx, path)
    raise TypeError(f"unsupported schema type {tp!r} at {format_path(path)}")


def yaml_key(f: dataclasses.Field) -> str:
    return f.metadata.get("key", f.name)


@functools.cache
def _schema(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field]]:
    """A dataclass's type hints and its YAML keys (``get_type_hints`` is slow: once per class)."""
    hints = typing.get_type_hints(cls)
    fields = {yaml_key(f): f for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")}
    return hints, fields


def from_yaml(cls: type[T], data: Any, ctx: Context, path: KeyPath = ()) -> T:
    """Build dataclass ``cls`` from a YAML mapping, reporting unknown/missing/invalid keys."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        ctx.error(path, f"expected a mapping, got {type(data).__name__} {data!r}")
        obj = cls.__new__(cls)
        return obj
    before = len(ctx.problems)
    hints, fields = _schema(cls)
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(sorted(fields))
            ctx.error((*path, key), f"unknown key {key!r} (valid keys: {known}){hint}")
    kwargs: dict[str, Any] = {}
    for key, f in fields.items():
        if key in data:
            v = convert(hints[f.name], data[key], ctx, (*path, key))
            if v is not _INVALID:
                kwargs[f.name] = v
        elif f.metadata.get("required"):
            ctx.error((*path, key), f"missing required key {key!r}")
    try:
        obj = cls(**kwargs)
    except TypeError as exc:  # a required dataclass field without a value
        ctx.error(path, f"incomplete section: {exc}")
        obj = cls.__new__(cls)
    # Cross-field rules run only on a section whose own keys converted cleanly, so one typo
    # does not cascade into follow-up errors.
    validate = getattr(obj, "validate", None)
    if callable(validate) and len(ctx.problems) == before:
        validate(ctx, path)
    return obj


def required(**kw: Any) -> Any:
    """A dataclass field that must be present in YAML (``default`` is only a placeholder)."""
    return field(metadata={"required": True, **kw.pop("metadata", {})}, **kw)


def walk_secrets(obj: Any) -> Iterator[str]:
    """Every ``Secret`` value inside a config object (to scrub logs and pages)."""
    if isinstance(obj, Secret):
        yield str(obj)
    elif isinstance(obj, str):
        for pw in userinfo_passwords(obj):  # proxy_url / DSN passwords written inline
            yield pw
            yield urllib.parse.unquote(pw)  # as it goes on the wire
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from walk_secrets(getattr(obj, f.name, None))
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from walk_secrets(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from walk_secrets(v)


def to_public(obj: Any) -> Any:
    """A plain-data view of a config object with every secret masked (for /config, debug)."""
    if isinstance(obj, Secret):
        return Secret.MASK
    if isinstance(obj, str):
        return mask_userinfo(obj)
    if isinstance(obj, Duration):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for f in dataclasses.fields(obj):
            if f.metadata.get("internal"):
                continue
            v = getattr(obj, f.name, None)
            if f.metadata.get("secret") and v:
                out[yaml_key(f)] = Secret.MASK
            else:
                out[yaml_key(f)] = to_public(v)
        return out
    if isinstance(obj, dict):
        return {str(k): to_public(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_public(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj
