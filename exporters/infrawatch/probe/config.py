"""The probe exporter's configuration file.

A blackbox.yml (only ``modules:``) is a valid file as it stands.  infrawatch adds:

    allowed_targets: ["*.example.com", "10.0.0.0/8"]   # who /probe may reach (403 otherwise)
    scheduler: {interval: 30s, timeout: 10s, concurrency: 64}
    probe_endpoint: {concurrency: 64, default_timeout: 10s, max_timeout: 120s}
    targets:                                            # probed in the background
      - {target: "https://api.example.com/health", module: http_2xx, service: api, labels: {env: prod}}
    file_sd:                                            # Prometheus file_sd files, re-read on change
      - {files: ["targets/*.json"], module: http_2xx, service: web, refresh_interval: 30s}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.config import Context, Duration, Problem, from_yaml, gc_paused, load_yaml_file, required
from ..core.labels import label_name_problem
from ..core.tlsclient import ClientContexts
from .allowlist import AllowList, TargetError, target_host
from .module import Module, ModuleBase
from .table import RESERVED_LABELS


def label_problem(name: str) -> str | None:
    """Why a target label ``name`` is refused: not a label name, or one the exporter or a probe
    family uses (``RESERVED_LABELS`` is derived from the prober table's families)."""
    problem = label_name_problem(name)
    if problem is None and name in RESERVED_LABELS:
        problem = f"label {name!r} is reserved (the exporter or a probe metric sets it)"
    return problem


def check_labels(labels: dict[str, str], ctx: Context, path: tuple) -> None:
    for name in labels:
        problem = label_problem(name)
        if problem:
            ctx.error((*path, name), problem)


def module_label_names(module: ModuleBase) -> set[str]:
    """Label names a module's own results carry besides the families' (``query_response`` labels)."""
    section = module.section()
    return {lab.name for qr in getattr(section, "query_response", ()) for lab in qr.labels}


@dataclass
class SchedulerConfig:
    interval: Duration = Duration(30)  # default for targets without their own interval
    timeout: Duration = Duration(10)  # default probe timeout when the module has none
    concurrency: int = 64  # scheduled probes running at once
    # A probe still running after this long gives its slot back (hanging targets cannot hold up
    # healthy ones); at most 4 x concurrency such slow probes run besides.
    slow_after: Duration = Duration(1)

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.interval < 1:
            ctx.error((*path, "interval"), "interval must be at least 1s")
        if self.timeout <= 0:
            ctx.error((*path, "timeout"), "timeout must be positive")
        if not 1 <= self.concurrency <= 10000:
            ctx.error((*path, "concurrency"), "concurrency must be between 1 and 10000")


@dataclass
class ProbeEndpointConfig:
    concurrency: int = 64  # /probe requests probing at once; more wait in line
    default_timeout: Duration = Duration(10)  # without X-Prometheus-Scrape-Timeout-Seconds
    max_timeout: Duration = Duration(120)  # upper bound whatever the scrape header says
    history: int = 50  # recent /probe calls on the status page (failures: 4x)

    def validate(self, ctx: Context, path: tuple) -> None:
        if not 1 <= self.concurrency <= 10000:
            ctx.error((*path, "concurrency"), "concurrency must be between 1 and 10000")
        if self.default_timeout <= 0:
            ctx.error((*path, "default_timeout"), "default_timeout must be positive")
        if self.max_timeout < self.default_timeout:
            ctx.error((*path, "max_timeout"), "max_timeout is below default_timeout")
        if not 0 <= self.history <= 10000:
            ctx.error((*path, "history"), "history must be between 0 and 10000")


@dataclass
class TargetConfig:
    target: str = required(default="")
    module: str = required(default="")
    service: str = ""
    interval: Duration | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def validate(self, ctx: Context, path: tuple) -> None:
        check_labels(self.labels, ctx, (*path, "labels"))
        if self.interval is not None and self.interval < 1:
            ctx.error((*path, "interval"), "interval must be at least 1s")


@dataclass
class FileSDConfig:
    """Prometheus file_sd files: ``[{"targets": [...], "labels": {...}}]`` in JSON or YAML.

    A group's labels ``module``, ``service`` and ``interval`` override this section's defaults;
    other labels (not starting with ``__``) become target labels.
    """

    files: list[str] = required(default_factory=list)
    module: str = ""
    service: str = ""
    interval: Duration | None = None
    refresh_interval: Duration = Duration(30)  # mtimes are checked this often
    labels: dict[str, str] = field(default_factory=dict)

    def validate(self, ctx: Context, path: tuple) -> None:
        if not self.files:
            ctx.error((*path, "files"), "at least one file or glob is required")
        for i, pattern in enumerate(self.files):
            if not pattern.endswith((".json", ".yml", ".yaml")):
                ctx.error((*path, "files", i), "file_sd files must end in .json, .yml or .yaml")
            self.files[i] = str(ctx.resolve_path(pattern))
        if self.refresh_interval < 0.1:
            ctx.error((*path, "refresh_interval"), "refresh_interval must be at least 100ms")
        check_labels(self.labels, ctx, (*path, "labels"))


@dataclass
class ProbeConfig:
    modules: dict[str, Module] = field(default_factory=dict)
    allowed_targets: list[str] = field(default_factory=list)
    targets: list[TargetConfig] = field(default_factory=list)
    file_sd: list[FileSDConfig] = field(default_factory=list)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    probe_endpoint: ProbeEndpointConfig = field(default_factory=ProbeEndpointConfig)
    allow: AllowList = field(default_factory=lambda: AllowList([]), metadata={"internal": True})
    # The TLS client contexts of this configuration generation (built on first use, dropped
    # with it: a reload re-reads certificates and CAs).
    tls: ClientContexts = field(default_factory=ClientContexts, metadata={"internal": True})
    warnings: list[Problem] = field(default_factory=list, metadata={"internal": True})
    source: str = field(default="", metadata={"internal": True})

    def validate(self, ctx: Context, path: tuple) -> None:
        for name in self.modules:
            if not re.fullmatch(r"[A-Za-z0-9_.:-]+", name):
                ctx.error(("modules", name), f"invalid module name {name!r}")
        try:
            self.allow = AllowList(self.allowed_targets)
        except ValueError as exc:
            idx = getattr(exc, "index", None)
            ctx.error(("allowed_targets", idx) if idx is not None else ("allowed_targets",), str(exc))
        seen: dict[tuple[str, str], int] = {}
        for i, t in enumerate(self.targets):
            if t.module and t.module not in self.modules:
                ctx.error(("targets", i, "module"), _unknown_module(t.module, self.modules))
            elif t.module:
                for name in sorted(module_label_names(self.modules[t.module]) & set(t.labels)):
                    ctx.error(
                        ("targets", i, "labels", name),
                        f"label {name!r} is also a query_response label of module {t.module!r}",
                    )
            try:
                target_host(t.target)
            except TargetError as exc:
                ctx.error(("targets", i, "target"), str(exc))
            key = (t.target, t.module)
            if key in seen:
                ctx.error(
                    ("targets", i),
                    f"duplicate target {t.target!r} with module {t.module!r} (first at targets[{seen[key]}])",
                )
            seen.setdefault(key, i)
        for i, sd in enumerate(self.file_sd):
            if sd.module and sd.module not in self.modules:
                ctx.error(("file_sd", i, "module"), _unknown_module(sd.module, self.modules))


def _unknown_module(name: str, modules: dict[str, Any]) -> str:
    known = ", ".join(sorted(modules)) or "none defined"
    return f"unknown module {name!r} (modules: {known})"


def load_probe_config(path: str | Path) -> ProbeConfig:
    """Load and validate; raises ``ConfigError`` listing every located problem."""
    with gc_paused():  # parse and convert (see gc_paused)
        data, loc = load_yaml_file(path)
        ctx = Context(loc, base_dir=Path(path).resolve().parent)
        cfg = from_yaml(ProbeConfig, data, ctx)
        del data
    ctx.raise_if_problems()
    cfg.warnings = ctx.warnings
    cfg.source = str(path)
    return cfg
