"""Issue 15: property-based fuzzing (hypothesis) of every configuration loader and of ``/probe``.

No input may produce anything but the loader's own located error (``ConfigError``; located problems
for SLO specs), take longer than a bound, or, for alias-heavy documents, grow memory past a bound.
Inputs: documents built from the loaders' own key names with hostile values (``.nan``, huge
numbers, control characters, deep lists), mutations of the bundled example files, and random
text.  ``/probe`` gets random ``target``/``module``/``debug`` values and raw query strings on a
real exporter process: only 200, 400 and 403 answers, each within its timeout.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrawatch.console.config import load_console_config
from infrawatch.core import config
from infrawatch.core.config import ConfigError, load_yaml_text
from infrawatch.core.webconfig import load_web_config
from infrawatch.probe.config import load_probe_config
from infrawatch.reputation.config import load_config_text
from infrawatch_dev.slo_import import import_specs
from support.probeutil import ExporterProc

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {
    "probe": [ROOT / "examples" / "probe.yml", ROOT / "examples" / "blackbox-compat.yml"],
    "reputation": [ROOT / "examples" / "reputation.yml"],
    "console": [ROOT / "examples" / "console.yml"],
    "web": [],
    "slo": sorted((ROOT / "tests" / "slo" / "specs").glob("*.yaml")),
}
FUZZ = settings(
    max_examples=40,
    deadline=5000,  # ms per example: a hang or a blow-up shows as a deadline failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    database=None,
)


def _keys(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            out.add(str(k))
            _keys(v, out)
    elif isinstance(node, list):
        for v in node:
            _keys(v, out)
    return out


VOCABULARY = sorted(
    _keys([list(yaml.safe_load_all(p.read_text())) for files in EXAMPLES.values() for p in files], set())
    | {"modules", "prober", "http", "tcp", "dns", "timeout", "interval", "targets", "target", "module"}
    | {"tls_server_config", "basic_auth_users", "cert_file", "http_server_config", "headers", "lists", "zone"}
)
HOSTILE = st.one_of(
    st.sampled_from(
        [".nan", ".inf", "-.inf", "0", "-1", "1e400", "1.0e+400", "99999999999999999999y", "~", "", "*", "[]", "{}"]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["5s", "1m", "http_2xx", "127.0.0.1", "http://u:p@h/", "$2y$04$abc", "TLS12", "ip4"]),
)
DOCS = st.recursive(
    HOSTILE,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6), st.dictionaries(st.sampled_from(VOCABULARY), inner, max_size=8)
    ),
    max_leaves=60,
)


def _mutate(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["insert", "delete", "dup"]))
        if action == "insert":
            text = text[:pos] + data.draw(st.text(max_size=8)) + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + data.draw(st.integers(1, 40)) :]
        else:
            text = text[:pos] + text[max(0, pos - 200) : pos] + text[pos:]
    return text


def _via_file(load: Callable[[str], Any]) -> Callable[[str], Any]:
    def run(text: str) -> Any:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "c.yml"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            return load(str(path))

    return run


def _slo(text: str) -> Any:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spec.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        # The importer collects located problems per SLO instead of raising: any exception fails.
        result = import_specs([path], Path(d))
        assert all(p.file == "spec.yaml" for p in result.problems), result.problems
        return result


LOADERS: dict[str, tuple[Callable[[str], Any], tuple[type[Exception], ...]]] = {
    "probe": (_via_file(load_probe_config), (ConfigError,)),
    "reputation": (lambda text: load_config_text(text, "r.yml", base_dir=Path(tempfile.gettempdir())), (ConfigError,)),
    "web": (_via_file(load_web_config), (ConfigError,)),
    "console": (_via_file(load_console_config), (ConfigError,)),
    "slo": (_slo, ()),
}


def _load(kind: str, text: str) -> None:
    load, allowed = LOADERS[kind]
    t0 = time.monotonic()
    with contextlib.suppress(*allowed):  # the loader's own, located error is fine; anything else fails
        load(text)
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("kind", sorted(LOADERS))
@FUZZ
@given(doc=DOCS)
def test_structured_documents(kind: str, doc: Any) -> None:
    _load(kind, yaml.safe_dump(doc, allow_unicode=False))


@pytest.mark.parametrize("kind", sorted(k for k in LOADERS if EXAMPLES[k]))
@FUZZ
@given(data=st.data())
def test_mutated_examples(kind: str, data: st.DataObject) -> None:
    example = data.draw(st.sampled_from(EXAMPLES[kind]))
    _load(kind, _mutate(example.read_text(), data))


@pytest.mark.parametrize("kind", sorted(LOADERS))
@FUZZ
@given(text=st.text(max_size=400))
def test_random_text(kind: str, text: str) -> None:
    _load(kind, text)


@settings(max_examples=40, deadline=None, database=None)
@given(levels=st.integers(1, 14), fanout=st.integers(1, 12), merge=st.booleans())
def test_alias_documents_stay_bounded(levels: int, fanout: int, merge: bool) -> None:
    """Time-bounded here; the memory bound of the same documents is measured in a child process
    (``test_yaml_bounds``: tracemalloc would slow this down five-fold)."""
    lines = ["modules: {}", "a0: &a0 {k: v}" if merge else "a0: &a0 [v]"]
    for i in range(1, levels):
        if merge:
            body = ", ".join(f"k{j}: *a{i - 1}" for j in range(fanout))
            lines.append(f"a{i}: &a{i} {{<<: *a{i - 1}, {body}}}")
        else:
            lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fanout) + "]")
    t0 = time.monotonic()
    try:
        load_yaml_text("\n".join(lines) + "\n", "bomb.yml")
    except ConfigError as exc:
        assert "bomb.yml:" in str(exc) and "aliases expand" in str(exc), str(exc)
    assert time.monotonic() - t0 < 5


# ---- /probe query strings ------------------------------------------------------------------


@pytest.fixture(scope="module")
def exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExporterProc]:
    d = tmp_path_factory.mktemp("fuzz-probe")
    cfg = d / "probe.yml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "modules": {
                    "http_2xx": {"prober": "http", "timeout": "1s"},
                    "tcp": {"prober": "tcp", "timeout": "1s"},
                    "dns": {"prober": "dns", "timeout": "1s", "dns": {"query_name": "example.com"}},
                },
                "allowed_targets": ["127.0.0.1", "::1", "localhost"],
            }
        )
    )
    e = ExporterProc(cfg, d)
    try:
        yield e
    finally:
        e.stop()


def _get(url: str) -> tuple[int, float]:
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, time.monotonic() - t0


TARGETS = st.one_of(
    st.text(max_size=60),
    st.builds(
        "{}://{}:{}{}".format,
        st.sampled_from(["http", "https", "tcp", "HTTP", "gopher", ""]),
        st.sampled_from(
            ["127.0.0.1", "[::1]", "localhost", "2130706433", "0x7f.1", "evil.example", "user:pw@127.0.0.1"]
        ),
        st.integers(0, 70000),
        st.text(max_size=10),
    ),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(
    target=TARGETS,
    module=st.one_of(st.sampled_from(["http_2xx", "tcp", "dns"]), st.text(max_size=12)),
    debug=st.sampled_from(["", "true", "1", "TRUE", "no", "\x00"]),
)
def test_probe_query_strings(exporter: ExporterProc, target: str, module: str, debug: str) -> None:
    q = urllib.parse.urlencode({"target": target, "module": module, "debug": debug})
    status, secs = _get(f"{exporter.url}/probe?{q}")
    assert status in (200, 400, 403), (status, target, module)
    assert secs < 3, secs


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(raw=st.binary(max_size=200))
def test_raw_probe_query_strings(exporter: ExporterProc, raw: bytes) -> None:
    status, secs = _get(f"{exporter.url}/probe?" + urllib.parse.quote(raw, safe="=&%+"))
    assert status in (200, 400, 403), (status, raw)
    assert secs < 3, secs


# ---- the fast builder against the recording one ------------------------------------------------
# ``load_yaml_text`` builds values without key paths and parses again with paths only when a
# problem needs a line.  Both builders must agree: the same value, or the same located error
# (the fast one hands every problem to the recording one).


def _outcome(text: str, build: Any) -> tuple[str, str]:
    loc = config.Locator("f.yml")
    try:
        config._check_text(text, loc)
        return "value", repr(config._load(text, loc, build))
    except config._Again:
        return "again", ""
    except ConfigError as exc:
        return "error", str(exc)


def _same_outcome(text: str) -> None:
    fast = _outcome(text, config._build_fast)
    slow = _outcome(text, config._build_recording)
    if fast[0] == "again":
        assert slow[0] == "error" and "f.yml:" in slow[1], (text, slow)
    else:
        assert fast == slow, text


def _alias_text(levels: int, fanout: int, merge: bool, dup: bool) -> str:
    lines = ["a0: &a0 {k: v}" if merge else "a0: &a0 [v]"]
    for i in range(1, levels):
        if merge:
            body = ", ".join(f"k{j}: *a{i - 1}" for j in range(fanout)) + (", k0: x" if dup else "")
            lines.append(f"a{i}: &a{i} {{<<: *a{i - 1}, {body}}}")
        else:
            lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fanout) + "]")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, database=None)
@given(levels=st.integers(1, 9), fanout=st.integers(1, 12), merge=st.booleans(), dup=st.booleans())
def test_fast_builder_agrees_on_alias_documents(levels: int, fanout: int, merge: bool, dup: bool) -> None:
    _same_outcome(_alias_text(levels, fanout, merge, dup))


@pytest.mark.parametrize("kind", sorted(k for k in LOADERS if EXAMPLES[k]))
@FUZZ
@given(data=st.data())
def test_fast_builder_agrees_on_mutated_examples(kind: str, data: st.DataObject) -> None:
    _same_outcome(_mutate(data.draw(st.sampled_from(EXAMPLES[kind])).read_text(), data))


@FUZZ
@given(doc=DOCS, deep=st.integers(0, 120))
def test_fast_builder_agrees_on_structured_documents(doc: Any, deep: int) -> None:
    # ``deep`` nests the document under an anchor used again one level deeper than written.
    text = yaml.safe_dump(doc, allow_unicode=False)
    nested = "x: &x " + "[" * deep + "1" + "]" * deep + "\ny: [*x]\n"
    _same_outcome(text)
    _same_outcome(nested)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",
        "d: &d {a: 1}\ne: {<<: *d, a: 2}\n",
        "d: &d {a: 1}\ne: {<<: *d, a: 2, a: 3}\n",
        "d: &d {a: 1, b: 2}\ne: &e {<<: *d, c: 3}\nf: {<<: [*e, *d], a: 9, x: *e}\n",
        "1: a\n'1': b\n",
        "? [a]\n: 1\n",
        "a: !!binary aGVsbG8=\nb: !!int '3'\nc: 2001-12-14\n",
        "a: !foo x\n",
        "s: &s text\nt: [*s, *s]\n",
        # written within MAX_DEPTH, deeper through the alias (or not) at the edge
        *("x: &x " + "[" * n + "1" + "]" * n + "\ny: [*x]\n" for n in (98, 99, 100)),
        *("x: &x " + "{a: " * n + "1" + "}" * n + "\ny: {b: *x}\n" for n in (98, 99, 100)),
    ],
)
def test_fast_builder_agrees_on_edge_cases(text: str) -> None:
    _same_outcome(text)


def test_lines_are_recorded_only_when_asked() -> None:
    text = "modules:\n  a:\n    prober: http\n\n  b: {prober: tcp}\n"
    data, loc = load_yaml_text(text, "m.yml")
    assert data == {"modules": {"a": {"prober": "http"}, "b": {"prober": "tcp"}}}
    assert loc._lines is None  # a clean load never walked the key paths
    assert loc.line(("modules", "b", "prober")) == 5
    assert loc.line(("modules", "a", "timeout")) == 2  # a missing key: at its mapping
