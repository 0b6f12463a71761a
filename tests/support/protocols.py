"""Helpers for prober tests: load modules from YAML text, run one probe, read its metrics."""

from __future__ import annotations

import textwrap
from pathlib import Path

from infrawatch.core.config import ConfigError
from infrawatch.probe.config import ProbeConfig, load_probe_config
from infrawatch.probe.runner import ProbeResult, run_probe


def load_modules(tmp_path: Path, yaml_text: str, name: str = "probe.yml") -> ProbeConfig:
    """Write a probe config (``modules:`` ...) to ``tmp_path/name`` and load it."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(yaml_text))
    return load_probe_config(path)


def config_errors(tmp_path: Path, yaml_text: str) -> list[str]:
    """The located problems of an invalid config, one string per problem (empty when valid)."""
    try:
        load_modules(tmp_path, yaml_text, name="invalid.yml")
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


async def probe(cfg: ProbeConfig, module: str, target: str, timeout: float = 5.0) -> ProbeResult:
    return await run_probe(target, module, cfg.modules[module], timeout)


def metrics(result: ProbeResult) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in result.samples}
