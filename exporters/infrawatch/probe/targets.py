"""Scheduled target lists: static ``targets:``, Prometheus file_sd files, and ``--shard i/N``.

file_sd files are re-read when their modification time or size changes; a file that fails to
parse keeps its previous targets (as Prometheus does) and the error is logged and shown.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field

import yaml

from ..core.config import MAX_BYTES, ConfigError, Duration, load_yaml_text
from .allowlist import TargetError, target_host
from .config import FileSDConfig, ProbeConfig, label_problem, module_label_names
from .results import ScheduledTarget

log = logging.getLogger("infrawatch.probe.file_sd")


def parse_shard(text: str) -> tuple[int, int]:
    """``--shard i/N`` with 0 <= i < N (Prometheus hashmod numbering)."""
    i_s, sep, n_s = text.partition("/")
    if not sep or not i_s.isdigit() or not n_s.isdigit() or not 0 <= int(i_s) < int(n_s):
        raise ValueError(f"invalid shard {text!r}; expected i/N with 0 <= i < N, e.g. 0/3")
    return int(i_s), int(n_s)


def shard_owner(key: str, shards: int) -> int:
    """Rendezvous (highest random weight) hashing: adding a replica moves only 1/N of the targets."""
    return max(range(shards), key=lambda j: hashlib.sha256(f"{j}\x00{key}".encode()).digest())


def in_shard(t: ScheduledTarget, shard: tuple[int, int] | None) -> bool:
    if shard is None or shard[1] == 1:
        return True
    return shard_owner(f"{t.target}\x00{t.module}", shard[1]) == shard[0]


@dataclass
class _FileState:
    stamp: tuple[float, int] = (0.0, -1)
    targets: list[ScheduledTarget] = field(default_factory=list)
    error: str = ""


class FileSD:
    """Reads the file_sd sections of a config; ``refresh()`` returns True when something changed."""

    def __init__(self) -> None:
        self.files: dict[tuple[int, str], _FileState] = {}
        self.sections: list[FileSDConfig] = []
        self.config: ProbeConfig | None = None

    def configure(self, config: ProbeConfig) -> None:
        self.config = config
        self.sections = list(config.file_sd)
        self.files.clear()

    def refresh(self) -> bool:
        changed = False
        live: set[tuple[int, str]] = set()
        for i, sec in enumerate(self.sections):
            for pattern in sec.files:
                for path in sorted(glob.glob(pattern)):
                    key = (i, path)
                    live.add(key)
                    try:
                        st = os.stat(path)
                    except OSError:
                        continue
                    stamp = (st.st_mtime, st.st_size)
                    state = self.files.setdefault(key, _FileState())
                    if state.stamp == stamp:
                        continue
                    state.stamp = stamp
                    try:
                        state.targets = self._read(path, sec)
                        state.error = ""
                        log.info("file_sd file loaded", extra={"file": path, "targets": len(state.targets)})
                    except (OSError, ValueError, RecursionError, yaml.YAMLError, ConfigError) as exc:
                        state.error = str(exc)
                        log.error(
                            "file_sd file invalid, keeping its previous targets", extra={"file": path, "err": str(exc)}
                        )
                    changed = True
        for key in list(self.files):
            if key not in live:
                del self.files[key]
                changed = True
        return changed

    def targets(self) -> list[ScheduledTarget]:
        return [t for state in self.files.values() for t in state.targets]

    def errors(self) -> dict[str, str]:
        return {path: s.error for (_, path), s in self.files.items() if s.error}

    def _read(self, path: str, sec: FileSDConfig) -> list[ScheduledTarget]:
        assert self.config is not None
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # The configuration loader's bounds (size, nesting, aliases) apply to file_sd files too.
        if len(text) > MAX_BYTES:
            raise ValueError(f"file is larger than {MAX_BYTES >> 20} MiB")
        groups = json.loads(text) if path.endswith(".json") else load_yaml_text(text, path)[0]
        if groups is None:
            return []
        if not isinstance(groups, list):
            raise ValueError("expected a list of {targets: [...], labels: {...}} groups")
        out: list[ScheduledTarget] = []
        for gi, group in enumerate(groups):
            if not isinstance(group, dict) or not isinstance(group.get("targets", []), list):
                raise ValueError(f"group {gi}: expected {{targets: [...], labels: {{...}}}}")
            labels = {**sec.labels, **{str(k): str(v) for k, v in (group.get("labels") or {}).items()}}
            module = labels.pop("module", sec.module)
            service = labels.pop("service", sec.service)
            interval_s = labels.pop("interval", None)
            interval = (
                Duration.parse_config(interval_s) if interval_s else (sec.interval or self.config.scheduler.interval)
            )
            if interval < 1:
                raise ValueError(f"group {gi}: interval must be at least 1s, got {interval_s!r}")
            labels = {k: v for k, v in labels.items() if not k.startswith("__")}
            for name in labels:
                if problem := label_problem(name):
                    raise ValueError(f"group {gi}: {problem}")
            if not module:
                raise ValueError(f"group {gi}: no module (set 'module' in the file_sd section or as a label)")
            if module not in self.config.modules:
                raise ValueError(f"group {gi}: unknown module {module!r}")
            for name in sorted(module_label_names(self.config.modules[module]) & set(labels)):
                raise ValueError(f"group {gi}: label {name!r} is also a query_response label of module {module!r}")
            for target in group.get("targets", []):
                try:
                    target_host(str(target))
                except TargetError as exc:
                    raise ValueError(f"group {gi}: {exc}") from None
                out.append(
                    ScheduledTarget(str(target), module, service, max(1.0, float(interval)), dict(labels), origin=path)
                )
        return out


def static_targets(config: ProbeConfig) -> list[ScheduledTarget]:
    return [
        ScheduledTarget(t.target, t.module, t.service, float(t.interval or config.scheduler.interval), dict(t.labels))
        for t in config.targets
    ]
