"""TLS client configuration (blackbox's / Prometheus common ``tls_config``) and the client
contexts built from it, owned by one loaded configuration generation.

A ``ClientContexts`` is created with each loaded configuration and dropped with it: building a
context reads the CA and key files, so contexts are cached (a few ms each), but only within one
generation.  A reload makes a new generation and so re-reads rotated certificates and CAs; a
process-wide cache keyed on the config value would keep serving the old CA for ever.
"""

from __future__ import annotations

import dataclasses
import functools
import ssl
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from .config import Context
from .webconfig import TLS_VERSIONS, TLSVersion


@dataclass(frozen=True)
class TLSConfig:
    """blackbox_exporter / Prometheus common ``tls_config``."""

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name: str = ""
    insecure_skip_verify: bool = False
    min_version: TLSVersion | None = None
    max_version: TLSVersion | None = None

    def validate(self, ctx: Context, path: tuple) -> None:
        before = len(ctx.problems)
        if bool(self.cert_file) != bool(self.key_file):
            ctx.error(
                (*path, "cert_file" if not self.cert_file else "key_file"),
                "cert_file and key_file must be given together",
            )
        missing = False
        for key in ("ca_file", "cert_file", "key_file"):
            value = getattr(self, key)
            if value and not ctx.resolve_path(value).is_file():
                # As blackbox: a CA or certificate mounted later must not stop the exporter from
                # starting.  Warned here; the probes of the module fail until the file exists.
                ctx.warn((*path, key), f"file not found: {value}; probes using it fail until it exists")
                missing = True
        if self.min_version and self.max_version and TLS_VERSIONS[self.min_version] > TLS_VERSIONS[self.max_version]:
            ctx.error((*path, "min_version"), "min_version is above max_version")
        # Resolve relative paths once, against the config file's folder.
        for key in ("ca_file", "cert_file", "key_file"):
            value = getattr(self, key)
            if value:
                object.__setattr__(self, key, str(ctx.resolve_path(value)))
        if len(ctx.problems) == before and not missing:
            self.validate_loadable(ctx, path)

    def files(self) -> list[tuple[str, str]]:
        """``(key, path)`` of every file this section names (paths resolved at load)."""
        return [(k, getattr(self, k)) for k in ("ca_file", "cert_file", "key_file") if getattr(self, k)]

    def validate_loadable(self, ctx: Context, path: tuple) -> bool:
        """Build the context once at load time so a bad PEM is a config error, not a probe error.

        Only the files can fail to load, so a section without any is not built (that read the
        system CA store, ~20 ms, per module), and the same files are tried once per load.
        """
        files = (self.ca_file, self.cert_file, self.key_file)
        if not any(files):
            return True
        key = ("tls_files", files)
        if key not in ctx.memo:
            try:
                build_client_context(TLSConfig(*files))
                ctx.memo[key] = ""
            except (ssl.SSLError, OSError, ValueError) as exc:
                ctx.memo[key] = f"cannot load TLS files: {exc}"
        if ctx.memo[key]:
            ctx.error(path, ctx.memo[key])
            return False
        return True


def tls_files(obj: object, path: tuple = ()) -> list[tuple[str, str]]:
    """Every TLS file named anywhere inside a config object: ``(key.path, file)``."""
    out: list[tuple[str, str]] = []
    if isinstance(obj, TLSConfig):
        prefix = ".".join(str(p) for p in path)
        return [(f"{prefix}.{k}" if prefix else k, v) for k, v in obj.files()]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for name in _tls_fields(type(obj)):  # only the fields whose type can hold a section
            out += tls_files(getattr(obj, name, None), (*path, name))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            out += tls_files(v, (*path, i))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out += tls_files(v, (*path, k))
    return out


@functools.cache
def _tls_fields(cls: type) -> tuple[str, ...]:
    """The non-internal fields of dataclass ``cls`` whose declared type may hold a ``TLSConfig``."""
    hints = typing.get_type_hints(cls)
    return tuple(
        f.name
        for f in dataclasses.fields(cls)
        if not f.metadata.get("internal") and _may_hold_tls(hints.get(f.name, Any), frozenset())
    )


def _may_hold_tls(tp: Any, seen: frozenset) -> bool:
    if tp is TLSConfig or tp is Any or tp is object:
        return True
    if get_origin(tp) is Literal or tp in seen:
        return False
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return any(_may_hold_tls(hints.get(f.name, Any), seen | {tp}) for f in dataclasses.fields(tp))
    return any(_may_hold_tls(a, seen) for a in get_args(tp))


def build_client_context(
    cfg: TLSConfig | None = None, verify: bool = True, alpn: tuple[str, ...] = ()
) -> ssl.SSLContext:
    """A new client ``SSLContext`` for ``cfg`` (reads the files now).

    ``verify=False`` gives the same context without certificate or hostname checks; probers use
    it for the second handshake that reads the chain after a verification failure.
    """
    cfg = cfg or TLSConfig()
    # Without a cafile this already loads the system CA store; loading it a second time kept the
    # same 144 certificates and cost ~0.8 MB of RSS and ~50 ms per context.
    ctx = ssl.create_default_context(cafile=cfg.ca_file or None)
    if cfg.cert_file:
        ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
    if cfg.min_version:
        ctx.minimum_version = TLS_VERSIONS[cfg.min_version]
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # Go's default client minimum
    if cfg.max_version:
        ctx.maximum_version = TLS_VERSIONS[cfg.max_version]
    if cfg.insecure_skip_verify or not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


class ClientContexts:
    """The client contexts of one configuration generation, built on first use."""

    MAX = 256  # distinct (tls_config, verify, alpn) combinations kept; more are built each time

    def __init__(self) -> None:
        self._cache: dict[tuple, ssl.SSLContext] = {}

    def get(self, cfg: TLSConfig | None = None, verify: bool = True, alpn: tuple[str, ...] = ()) -> ssl.SSLContext:
        key = (cfg or TLSConfig(), verify, alpn)
        ctx = self._cache.get(key)
        if ctx is None:
            ctx = build_client_context(*key)
            if len(self._cache) < self.MAX:
                self._cache[key] = ctx
        return ctx

    def custom(self, key: tuple, build: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        """A context a prober builds itself (PostgreSQL's name-substituting one), cached the same way."""
        ctx = self._cache.get(key)
        if ctx is None:
            ctx = build()
            if len(self._cache) < self.MAX:
                self._cache[key] = ctx
        return ctx

    def __len__(self) -> int:
        return len(self._cache)
