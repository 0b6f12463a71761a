"""The shared config loader: YAML positions, typed conversion, located errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from infrawatch.core.config import (
    ConfigError,
    Context,
    Duration,
    Secret,
    from_yaml,
    load_yaml_text,
    required,
    to_public,
    walk_secrets,
)


@dataclass
class Inner:
    port: int = 80
    mode: Literal["fast", "slow"] = "fast"
    timeout: Duration = Duration(5)


@dataclass
class Outer:
    name: str = required(default="")
    inner: Inner = field(default_factory=Inner)
    items: list[Inner] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    password: Secret | None = field(default=None, metadata={"secret": True})
    ratio: float = 0.5

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.ratio > 1:
            ctx.error((*path, "ratio"), "must be at most 1")


def load(text: str) -> Outer:
    data, loc = load_yaml_text(text, "cfg.yml")
    ctx = Context(loc)
    out = from_yaml(Outer, data, ctx)
    ctx.raise_if_problems()
    return out


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load(text)
    return [str(p) for p in exc.value.problems]


def test_valid_config_converts_types_and_defaults() -> None:
    cfg = load("name: x\ninner:\n  port: 8080\n  timeout: 1m30s\nitems:\n  - mode: slow\n")
    assert cfg.inner.port == 8080
    assert cfg.inner.timeout == 90.0
    assert cfg.items[0].mode == "slow" and cfg.items[0].port == 80
    assert cfg.ratio == 0.5


def test_unknown_key_is_located_and_suggests() -> None:
    (msg,) = problems("name: x\ninner:\n  prot: 1\n")
    assert msg.startswith("cfg.yml:3: inner.prot: unknown key 'prot'")
    assert "did you mean 'port'" in msg


def test_wrong_type_in_list_item_names_index() -> None:
    (msg,) = problems("name: x\nitems:\n  - port: 1\n  - port: abc\n")
    assert msg == "cfg.yml:4: items[1].port: expected an integer, got 'abc'"


def test_missing_required_key_reported_at_parent() -> None:
    (msg,) = problems("inner: {}\n")
    assert "name: missing required key 'name'" in msg


def test_several_problems_all_reported() -> None:
    msgs = problems("name: x\ninner:\n  mode: medium\n  timeout: 5 seconds\nratio: true\n")
    assert len(msgs) == 3
    assert any("inner.mode: expected one of 'fast', 'slow'" in m for m in msgs)
    assert any("cfg.yml:4: inner.timeout: invalid duration" in m for m in msgs)
    assert any("ratio: expected a number" in m for m in msgs)


def test_cross_field_validation_runs_after_types() -> None:
    (msg,) = problems("name: x\nratio: 2\n")
    assert msg == "cfg.yml:2: ratio: must be at most 1"


def test_yaml_syntax_error_has_line() -> None:
    (msg,) = problems("name: x\ninner: [1, 2\nfoo: bar\n")
    assert msg.startswith("cfg.yml:") and "YAML syntax error" in msg


def test_duplicate_key_is_an_error() -> None:
    (msg,) = problems("name: x\nname: y\n")
    assert msg == "cfg.yml:2: name: duplicate key"


def test_top_level_not_a_mapping() -> None:
    (msg,) = problems("- a\n- b\n")
    assert "expected a mapping" in msg


@pytest.mark.parametrize(
    ("text", "seconds"), [("5s", 5), ("1m", 60), ("1h30m", 5400), ("500ms", 0.5), ("2d", 172800), (10, 10), ("0", 0)]
)
def test_duration_parse(text: object, seconds: float) -> None:
    assert Duration.parse(text) == seconds


@pytest.mark.parametrize("text", ["5", "1x", "m5", "-1s", "", "1h 30m", True])
def test_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError):
        Duration.parse(text)


def test_duration_str_roundtrip() -> None:
    for s in ("5s", "2m", "3h", "1d", "250ms"):
        assert str(Duration.parse(s)) == s


def test_secrets_masked_in_public_view() -> None:
    cfg = load("name: x\npassword: hunter22\n")
    assert to_public(cfg)["password"] == "<secret>"
    assert "hunter22" not in repr(to_public(cfg))
    assert list(walk_secrets(cfg)) == ["hunter22"]
    assert "hunter22" not in repr(cfg.password)


def test_secret_file_read_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    _data, loc = load_yaml_text("x: 1\n", "c.yml")
    ctx = Context(loc, base_dir=tmp_path)
    assert ctx.read_secret_file(("x",), "pw") == "s3cret"
    assert ctx.read_secret_file(("x",), "missing") is None
    assert "c.yml:1: x: cannot read secret file 'missing'" in str(ctx.problems[0])
