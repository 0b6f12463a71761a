"""One load path: start-up runs the same load-and-apply as a reload, and each successful load is
one configuration ``Generation``; a bad reload keeps the running generation."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from infrawatch.core.config import Context, from_yaml, load_yaml_file
from infrawatch.core.server import Exporter, _serve, common_flags


@dataclass
class GreetingConfig:
    greeting: str = "hello"


class GreetingExporter(Exporter):
    name = "greeting"
    instances: ClassVar[list[GreetingExporter]] = []

    def __init__(self, args: Any) -> None:
        super().__init__(args)
        self.loads: list[str] = []  # which path asked for each load
        GreetingExporter.instances.append(self)

    def load_config(self, path: str) -> GreetingConfig:
        data, loc = load_yaml_file(path)
        ctx = Context(loc)
        cfg = from_yaml(GreetingConfig, data, ctx)
        ctx.raise_if_problems()
        return cfg

    async def load_and_apply(self) -> tuple[bool, str]:
        self.loads.append("start-up" if self.generation is None else "reload")
        return await super().load_and_apply()

    async def apply_config(self, config: GreetingConfig) -> None:
        self.applied = config.greeting


def _args(config: Path) -> Any:
    return common_flags("greeting", "test", str(config), "127.0.0.1:0").parse_args(
        [f"--config.file={config}", "--web.listen-address=127.0.0.1:0"]
    )


async def test_start_up_and_reload_share_the_load_path(tmp_path: Path) -> None:
    cfg = tmp_path / "greeting.yml"
    cfg.write_text("greeting: one\n")
    GreetingExporter.instances.clear()
    serving = asyncio.create_task(_serve(GreetingExporter, _args(cfg)))
    for _ in range(200):
        if GreetingExporter.instances and GreetingExporter.instances[0].ready:
            break
        await asyncio.sleep(0.02)
    ex = GreetingExporter.instances[0]
    try:
        assert ex.loads == ["start-up"]
        first = ex.generation
        assert first is not None and first.number == 1 and first.config.greeting == "one" and ex.applied == "one"
        assert ex.config is first.config and ex.last_reload_success_ts == first.loaded_at

        cfg.write_text("greeting: two\n")
        assert await ex.reload() == (True, "configuration reloaded")
        assert ex.generation.number == 2 and ex.applied == "two"

        cfg.write_text("greting: three\n")  # typo: the reload fails, generation 2 stays
        ok, problems = await ex.reload()
        assert not ok and "greeting.yml:1: greting: unknown key" in problems
        assert ex.generation.number == 2 and ex.config.greeting == "two" and not ex.last_reload_ok
        assert ex.loads == ["start-up", "reload", "reload"]
    finally:
        signal.raise_signal(signal.SIGTERM)  # _serve's own handler stops it
        assert await asyncio.wait_for(serving, 10) == 0


async def test_a_bad_start_up_config_exits_2_with_located_problems(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "greeting.yml"
    cfg.write_text("greeting: [not, a, string]\n")
    assert await _serve(GreetingExporter, _args(cfg)) == 2
    assert "greeting.yml:1: greeting: expected a string" in capsys.readouterr().err
