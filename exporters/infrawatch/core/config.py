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
import gc
import math
import re
import threading
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
    """Maps key paths to line numbers of the YAML source (1-based).

    A loaded file's lines are recorded only when first asked for (a problem or a warning to
    locate): the text is then parsed again, with key paths, which a clean load never pays for.
    """

    def __init__(self, file: str):
        self.file = file
        self._lines: dict[KeyPath, int] | None = {}
        self._text: str | None = None

    def defer(self, text: str) -> None:
        """Record the lines of ``text`` (already loaded once, within the bounds) on first use."""
        self._text, self._lines = text, None

    @property
    def lines(self) -> dict[KeyPath, int]:
        if self._lines is None:
            self._lines = {}
            text, self._text = self._text, None
            with contextlib.suppress(ConfigError):  # it loaded before; at worst lines stay unknown
                _load(text or "", self, _build_recording)
        return self._lines

    def line(self, path: KeyPath) -> int | None:
        # Fall back to the nearest parent that has a position: a missing key is reported
        # at the mapping that should have held it.
        lines = self.lines
        while True:
            if path in lines:
                return lines[path]
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

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C parser when present
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader with a memo of plain scalars' implicit tags: a config repeats the same
    keys and values thousands of times, and the resolver tries its regexps for each."""

    _TAGS_MAX = 100_000

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode:  # no path resolvers: the default tags
            return _MAP_TAG if kind is yaml.MappingNode else _SEQ_TAG
        if not implicit[0]:  # quoted: a string (the safe loader has no path resolvers)
            return _STR_TAG
        tag = self._tags.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._tags) < self._TAGS_MAX:
                self._tags[value] = tag
        return tag


assert not _Loader.yaml_path_resolvers  # what resolve's shortcuts rely on
assert (_Loader.DEFAULT_MAPPING_TAG, _Loader.DEFAULT_SEQUENCE_TAG) == (_MAP_TAG, _SEQ_TAG)

_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a config is loaded: composing and converting build
    hundreds of thousands of objects (no cycles), and each collection they trigger walks them all
    again; on a 5 MB file the collector took more than half of the load time.  The bounds above
    bound what is built meanwhile.  Callers that load and convert a file hold it over both steps
    (re-entrant), so the collection that follows walks only what survives, once."""
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


def _problem(loc: Locator, line: int | None, path: KeyPath, message: str) -> ConfigError:
    return ConfigError([Problem(loc.file, line, path, message)])


class _Again(Exception):
    """The fast build met a problem: build again with key paths, to locate it."""


class _FastBuilder:
    """Turns a composed YAML node tree into plain values without recording key paths (the
    ``Locator`` re-parses the text when a problem needs a line).  Enforces the same bounds as
    ``_Builder``, counted the same way, and raises ``_Again`` where that one raises a located
    error.  A node reached again (an alias or a merge key) gives the value built the first time,
    and is charged the size and height of its expansion."""

    def __init__(self, loader: Any):
        self.loader = loader
        self.own = 0
        self.via_alias = 0
        self.scalars: dict[int, Any] = {}  # id(scalar node) -> value
        self.nodes: dict[int, tuple[Any, int, int]] = {}  # id(collection) -> value, expanded size, height
        self.ctors: dict[str, Any] = loader.yaml_constructors

    def charge(self, count: int) -> None:
        self.via_alias += count
        if self.via_alias > ALIAS_FREE and self.via_alias > ALIAS_RATIO * self.own:
            raise _Again

    def leaf(self, node: yaml.ScalarNode) -> Any:
        """A scalar node's value, counted as written or as reached again."""
        nid = id(node)
        scalars = self.scalars
        if nid in scalars:
            self.charge(1)
            return scalars[nid]
        self.own += 1
        value = scalars[nid] = node.value if node.tag == _STR_TAG else self.scalar(node)
        return value

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR_TAG:
            return node.value
        ctor = self.ctors.get(node.tag)
        if ctor is None:
            return self.loader.construct_object(node)  # an unknown tag: its error
        return ctor(self.loader, node)

    def build(self, node: yaml.Node, depth: int = 0) -> tuple[Any, int]:
        """The value and the height of the deepest collection under ``node``."""
        if node.__class__ is yaml.ScalarNode:
            return self.leaf(node), -1
        nid = id(node)
        hit = self.nodes.get(nid)
        if hit is not None:
            value, size, height = hit
            self.charge(size)
            if depth + height >= MAX_DEPTH:
                raise _Again
            return value, height
        if depth >= MAX_DEPTH:
            raise _Again
        self.own += 1
        before = self.own + self.via_alias
        height = 0
        if node.__class__ is yaml.SequenceNode:
            out_list = []
            for item in node.value:
                if item.__class__ is yaml.ScalarNode:  # inlined: most nodes are scalars
                    out_list.append(self.leaf(item))
                    continue
                v, h = self.build(item, depth + 1)
                out_list.append(v)
                if h >= height:
                    height = h + 1
            value: Any = out_list
        elif node.__class__ is yaml.MappingNode:
            pairs = node.value
            merged = 0
            for k, _ in pairs:
                if k.tag == _MERGE_TAG:
                    own = sum(1 for k, _ in pairs if k.tag != _MERGE_TAG)
                    self.loader.flatten_mapping(node)
                    pairs = node.value
                    merged = len(pairs) - own
                    break
            out: dict[str, Any] = {}
            for n, (key_node, value_node) in enumerate(pairs):
                if key_node.__class__ is not yaml.ScalarNode:
                    raise _Again
                key = key_node.value if key_node.tag == _STR_TAG else self.scalar(key_node)
                if key.__class__ is not str:
                    if not isinstance(key, str | int | float | bool) or key is None:
                        raise _Again
                    key = str(key)
                # An own key seen before is a duplicate, unless the earlier one was merged in.
                if (
                    n >= merged
                    and key in out
                    and (merged == 0 or key in {str(self.scalar(k)) for k, _ in pairs[merged:n]})
                ):
                    raise _Again
                if value_node.__class__ is yaml.ScalarNode:
                    out[key] = self.leaf(value_node)
                    continue
                v, h = self.build(value_node, depth + 1)
                out[key] = v
                if h >= height:
                    height = h + 1
            value = out
        else:
            raise _Again
        self.nodes[nid] = (value, self.own + self.via_alias - before + 1, height)
        return value, height


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


def _build_recording(loader: Any, node: yaml.Node, loc: Locator) -> Any:
    return _Builder(loc, loader).build(node, ())


def _build_fast(loader: Any, node: yaml.Node, loc: Locator) -> Any:
    return _FastBuilder(loader).build(node)[0]


def _load(text: str, loc: Locator, build: Callable[[Any, yaml.Node, Locator], Any]) -> Any:
    loader = _Loader(text)
    try:
        with _located_yaml_errors(text, loc), gc_paused():
            node = loader.get_single_node()
            return None if node is None else build(loader, node, loc)
    finally:
        loader.dispose()


def load_yaml_text(text: str, file: str) -> tuple[Any, Locator]:
    """Parse YAML text; every problem (syntax, control characters, size, nesting, alias
    expansion, duplicate keys) becomes a located ``ConfigError``, never a traceback.

    The values are built without key paths; a problem found while building them, or the first
    ``Locator.line`` asked for later, parses the text again with paths (``_Builder``)."""
    loc = Locator(file)
    _check_text(text, loc)
    try:
        value = _load(text, loc, _build_fast)
    except _Again:
        return _load(text, loc, _build_recording), loc  # raises the located problem
    loc.defer(text)
    return value, loc


def load_yaml_documents(text: str, file: str) -> Iterator[tuple[yaml.Node, Any, Locator]]:
    """Each document of a multi-document YAML text (``---`` separated, as Kubernetes manifests and
    SLO spec files are), with its node, value and own ``Locator``; the same bounds and located
    errors as ``load_yaml_text``.  Empty documents are skipped."""
    loc = Locator(file)
    _check_text(text, loc)
    loader = _Loader(text)
    try:
        while True:
            with _located_yaml_errors(text, loc), gc_paused():  # not across the yield
                if not loader.check_node():
                    break
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


Converter = Callable[[Any, "Context", KeyPath], Any]


def convert(tp: Any, value: Any, ctx: Context, path: KeyPath) -> Any:
    """Convert a YAML value to ``tp``; reports and returns ``_INVALID`` on mismatch."""
    return _converter(tp)(value, ctx, path)


@functools.cache
def _converter(tp: Any) -> Converter:
    """The conversion function of schema type ``tp``, made once per type: converting a value
    then runs no chain of type tests."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return _union_converter(tuple(a for a in get_args(tp) if a is not type(None)))
    if tp is Any:
        return lambda value, ctx, path: value
    if origin is Literal:
        choices = get_args(tp)
        shown = ", ".join(repr(c) for c in choices)

        def literal(value: Any, ctx: Context, path: KeyPath) -> Any:
            if value not in choices:
                ctx.error(path, f"expected one of {shown}, got {value!r}")
                return _INVALID
            return value

        return literal
    if isinstance(tp, type) and issubclass(tp, Duration):

        def duration(value: Any, ctx: Context, path: KeyPath) -> Any:
            try:
                return tp.parse_config(value)
            except ValueError as exc:
                ctx.error(path, str(exc))
                return _INVALID

        return duration
    if tp in _SCALARS:
        return _SCALARS[tp]
    if origin is list:
        (item_tp,) = get_args(tp) or (Any,)
        return _list_converter(item_tp)
    if origin is dict:
        _key_tp, val_tp = get_args(tp) or (str, Any)
        return _dict_converter(val_tp)
    if dataclasses.is_dataclass(tp):
        return lambda value, ctx, path: from_yaml(tp, value, ctx, path)
    raise TypeError(f"unsupported schema type {tp!r}")


def _union_converter(args: tuple[Any, ...]) -> Converter:
    if len(args) == 1:
        inner = _converter(args[0])
        return lambda value, ctx, path: None if value is None else inner(value, ctx, path)
    convs = [_converter(a) for a in args]
    names = " or ".join(_type_name(a) for a in args)

    def union(value: Any, ctx: Context, path: KeyPath) -> Any:
        if value is None:
            return None
        for conv in convs:
            # A trial: its problems are only counted, so they need no lines.
            sub = Context(Locator(ctx.loc.file), ctx.base_dir)
            out = conv(value, sub, path)
            if out is not _INVALID and not sub.problems:
                return out
        ctx.error(path, f"expected {names}, got {value!r}")
        return _INVALID

    return union


def _list_converter(item_tp: Any) -> Converter:
    item = _converter(item_tp)

    def convert_list(value: Any, ctx: Context, path: KeyPath) -> Any:
        if value is None:
            return []
        if value.__class__ is not list:
            ctx.error(path, f"expected a list, got {type(value).__name__} {value!r}")
            return _INVALID
        out = [item(v, ctx, (*path, i)) for i, v in enumerate(value)]
        return [v for v in out if v is not _INVALID]

    return convert_list


def _dict_converter(val_tp: Any) -> Converter:
    item = _converter(val_tp)

    def convert_dict(value: Any, ctx: Context, path: KeyPath) -> Any:
        if value is None:
            return {}
        if value.__class__ is not dict:
            ctx.error(path, f"expected a mapping, got {type(value).__name__} {value!r}")
            return _INVALID
        res = {}
        for k, v in value.items():
            cv = item(v, ctx, (*path, k))
            if cv is not _INVALID:
                res[k] = cv
        return res

    return convert_dict


def _to_bool(value: Any, ctx: Context, path: KeyPath) -> Any:
    if value.__class__ is not bool:
        ctx.error(path, f"expected true or false, got {value!r}")
        return _INVALID
    return value


def _to_int(value: Any, ctx: Context, path: KeyPath) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        ctx.error(path, f"expected an integer, got {value!r}")
        return _INVALID
    return value


def _to_float(value: Any, ctx: Context, path: KeyPath) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        ctx.error(path, f"expected a number, got {value!r}")
        return _INVALID
    return float(value)


def _to_bytes(value: Any, ctx: Context, path: KeyPath) -> Any:  # YAML !!binary
    if not isinstance(value, bytes):
        ctx.error(path, f"expected !!binary bytes, got {value!r}")
        return _INVALID
    return value


def _not_a_string(value: Any) -> bool:
    return isinstance(value, bool | bytes) or value is None or isinstance(value, list | dict)


def _to_str(value: Any, ctx: Context, path: KeyPath) -> Any:
    if value.__class__ is str:
        if userinfo_passwords(value):
            ctx.warn(
                path,
                "holds a password (URL user:password@ or password=); masked wherever shown, prefer a *_file setting",
            )
        return value
    if _not_a_string(value):
        ctx.error(path, f"expected a string, got {value!r}")
        return _INVALID
    return str(value)


def _to_secret(value: Any, ctx: Context, path: KeyPath) -> Any:
    if _not_a_string(value):
        ctx.error(path, f"expected a string, got {value!r}")
        return _INVALID
    return Secret(value)


_SCALARS: dict[Any, Converter] = {
    bool: _to_bool,
    int: _to_int,
    float: _to_float,
    bytes: _to_bytes,
    str: _to_str,
    Secret: _to_secret,
}


def yaml_key(f: dataclasses.Field) -> str:
    return f.metadata.get("key", f.name)


@dataclass(frozen=True)
class _Field:
    name: str  # the dataclass field's
    convert: Converter
    required: bool


@functools.cache
def _schema(cls: type) -> tuple[dict[str, _Field], str, Any]:
    """A dataclass's YAML keys with their converters, the keys as listed in an error, and its
    ``validate`` (``get_type_hints`` is slow: all of it once per class)."""
    hints = typing.get_type_hints(cls)
    fields = {
        yaml_key(f): _Field(f.name, _converter(hints[f.name]), bool(f.metadata.get("required")))
        for f in dataclasses.fields(cls)
        if f.init and not f.metadata.get("internal")
    }
    validate = getattr(cls, "validate", None)
    return fields, ", ".join(sorted(fields)), validate if callable(validate) else None


def from_yaml(cls: type[T], data: Any, ctx: Context, path: KeyPath = ()) -> T:
    """Build dataclass ``cls`` from a YAML mapping, reporting unknown/missing/invalid keys."""
    if path:
        return _from_yaml(cls, data, ctx, path)
    with gc_paused():  # a whole file: see gc_paused
        return _from_yaml(cls, data, ctx, path)


def _from_yaml(cls: type[T], data: Any, ctx: Context, path: KeyPath) -> T:
    if data is None:
        data = {}
    if data.__class__ is not dict:
        ctx.error(path, f"expected a mapping, got {type(data).__name__} {data!r}")
        obj = cls.__new__(cls)
        return obj
    before = len(ctx.problems)
    fields, known, validate = _schema(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        f = fields.get(key)
        if f is None:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            ctx.error((*path, key), f"unknown key {key!r} (valid keys: {known}){hint}")
            continue
        v = f.convert(value, ctx, (*path, key))
        if v is not _INVALID:
            kwargs[f.name] = v
    if len(kwargs) < len(fields):
        for key, f in fields.items():
            if f.required and key not in data:
                ctx.error((*path, key), f"missing required key {key!r}")
    try:
        obj = cls(**kwargs)
    except TypeError as exc:  # a required dataclass field without a value
        ctx.error(path, f"incomplete section: {exc}")
        obj = cls.__new__(cls)
    # Cross-field rules run only on a section whose own keys converted cleanly, so one typo
    # does not cascade into follow-up errors.
    if validate is not None and len(ctx.problems) == before:
        validate(obj, ctx, path)
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
