"""Web configuration in the Prometheus exporter-toolkit format (TLS and basic auth).

tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS12
basic_auth_users:
  alice: $2y$10$...   # bcrypt hash, as htpasswd -B writes it
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import ssl
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import bcrypt

from .config import Context, from_yaml, load_yaml_file

ClientAuth = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]
TLSVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}


@dataclass
class TLSServerConfig:
    cert_file: str = ""
    key_file: str = ""
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: str = ""
    min_version: TLSVersion = "TLS12"
    max_version: TLSVersion = "TLS13"
    # Accepted for exporter-toolkit compatibility; Python's ssl module picks safe defaults.
    cipher_suites: list[str] = field(default_factory=list)
    curve_preferences: list[str] = field(default_factory=list)
    prefer_server_cipher_suites: bool = True

    def validate(self, ctx: Context, path: tuple) -> None:
        if bool(self.cert_file) != bool(self.key_file):
            ctx.error(path, "cert_file and key_file must be given together")
        if (
            self.client_auth_type in ("VerifyClientCertIfGiven", "RequireAndVerifyClientCert")
            and not self.client_ca_file
        ):
            ctx.error((*path, "client_ca_file"), f"required with client_auth_type {self.client_auth_type}")
        for key in ("cert_file", "key_file", "client_ca_file"):
            value = getattr(self, key)
            if value and not ctx.resolve_path(value).is_file():
                ctx.error((*path, key), f"file not found: {value}")
        if TLS_VERSIONS[self.min_version] > TLS_VERSIONS[self.max_version]:
            ctx.error((*path, "min_version"), "min_version is above max_version")


@dataclass
class HTTPServerConfig:
    http2: bool = True
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WebConfig:
    tls_server_config: TLSServerConfig | None = None
    http_server_config: HTTPServerConfig = field(default_factory=HTTPServerConfig)
    basic_auth_users: dict[str, str] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path, metadata={"internal": True})

    def validate(self, ctx: Context, path: tuple) -> None:
        for user, hashed in self.basic_auth_users.items():
            if not hashed.startswith(("$2a$", "$2b$", "$2y$")):
                ctx.error(
                    (*path, "basic_auth_users", user),
                    "expected a bcrypt hash (htpasswd -nBC 10 user), not a plain password",
                )
            if ":" in user:
                ctx.error((*path, "basic_auth_users", user), "user names must not contain ':'")

    def ssl_context(self, ctx: ssl.SSLContext | None = None) -> ssl.SSLContext | None:
        """Build (or refresh in place, for reloads) the server TLS context."""
        t = self.tls_server_config
        if t is None or not t.cert_file:
            return None
        ctx = ctx or ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = TLS_VERSIONS[t.min_version]
        ctx.maximum_version = TLS_VERSIONS[t.max_version]
        ctx.load_cert_chain(self.base_dir / t.cert_file, self.base_dir / t.key_file)
        if t.client_ca_file:
            ctx.load_verify_locations(self.base_dir / t.client_ca_file)
        ctx.verify_mode = {
            "NoClientCert": ssl.CERT_NONE,
            "RequestClientCert": ssl.CERT_OPTIONAL,
            "RequireAnyClientCert": ssl.CERT_REQUIRED,
            "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
            "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
        }[t.client_auth_type]
        return ctx


class AuthBusy(Exception):
    """Too many password checks are waiting: the request is answered 429 without a check."""


# A hash for user names that do not exist, so they cost one bcrypt check as known ones do (made
# once per cost factor, in the worker thread).
_DUMMY_HASHES: dict[bytes, bytes] = {}


def _cost(hashed: bytes) -> bytes:
    """The cost field of ``$2b$10$...`` (``b"10"``); bcrypt's default when unreadable."""
    parts = hashed.split(b"$")
    return parts[2] if len(parts) > 3 and parts[2].isdigit() else b"12"


def _dummy_hash(cost: bytes) -> bytes:
    if cost not in _DUMMY_HASHES:
        _DUMMY_HASHES[cost] = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=int(cost)))
    return _DUMMY_HASHES[cost]


def _checkpw(password: bytes, hashed: bytes | None, cost: bytes) -> bool:
    """One bcrypt check (in a worker thread; bcrypt releases the GIL)."""
    try:
        if hashed is None:
            bcrypt.checkpw(password, _dummy_hash(cost))
            return False
        return bcrypt.checkpw(password, hashed)
    except ValueError:
        return False


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``(user, password)`` from ``Authorization: Basic ...``; the scheme is case-insensitive
    (RFC 7617).  None when the header is missing or malformed."""
    if not header:
        return None
    scheme, _, cred = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(cred.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


class BasicAuth:
    """Checks ``Authorization: Basic`` headers against bcrypt hashes without stalling the loop.

    bcrypt is deliberately slow (tens to hundreds of milliseconds), so:

    - checks run in a small thread pool of their own (``workers``), never on the event loop;
      at most ``max_pending`` distinct checks wait or run at once, more raise ``AuthBusy``;
    - verified *and* failed credentials are cached (at most ``cache_size``, least recently used
      dropped), keyed by an HMAC of user and password under a per-process random key, so the
      cache never holds a password; the same credentials arriving together share one check;
    - an unknown user name costs one bcrypt check at the configured users' cost, as a known one
      does, so user names cannot be told apart by timing.
    """

    def __init__(
        self,
        users: dict[str, str],
        workers: int | None = None,
        max_pending: int = 64,
        cache_size: int = 4096,
    ):
        self.users = dict(users)
        self._hashes = {u: h.replace("$2y$", "$2b$", 1).encode() for u, h in users.items()}
        costs = [_cost(h) for h in self._hashes.values()]
        self._unknown_cost = max(costs, key=int) if costs else b"10"
        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, bool] = OrderedDict()
        self._pending: dict[bytes, asyncio.Future[bool]] = {}
        self.cache_size, self.max_pending = cache_size, max_pending
        self.workers = workers or max(1, min(4, (os.cpu_count() or 2) // 2))
        self._pool: ThreadPoolExecutor | None = None
        self.checks = 0  # bcrypt checks run (tests and the self metrics read it)

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    def _remember(self, token: bytes, ok: bool) -> None:
        self._cache[token] = ok
        self._cache.move_to_end(token)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def check(self, header: str | None) -> bool:
        """True when ``header`` holds a configured user's password (always True without users)."""
        if not self.users:
            return True
        cred = parse_basic(header)
        if cred is None:
            return False
        user, password = cred
        token = hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()
        hit = self._cache.get(token)
        if hit is not None:
            self._cache.move_to_end(token)
            return hit
        pending = self._pending.get(token)
        if pending is not None:
            return await asyncio.shield(pending)
        if len(self._pending) >= self.max_pending:
            raise AuthBusy(f"{len(self._pending)} password checks in progress")
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="bcrypt")
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._pool, _checkpw, password.encode(), self._hashes.get(user), self._unknown_cost)
        self._pending[token] = fut
        try:
            ok = await asyncio.shield(fut)
        finally:
            if fut.done():
                self._pending.pop(token, None)
            else:  # the client went away: keep the result when it arrives
                fut.add_done_callback(lambda f: self._finish(token, f))
        self.checks += 1
        self._remember(token, ok)
        return ok

    def _finish(self, token: bytes, fut: asyncio.Future[bool]) -> None:
        self._pending.pop(token, None)
        if not fut.cancelled() and fut.exception() is None:
            self.checks += 1
            self._remember(token, fut.result())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def load_web_config(path: str | None) -> WebConfig:
    """Load and validate the web config file; raises ``ConfigError`` with located problems."""
    if not path:
        return WebConfig()
    data, loc = load_yaml_file(path)
    ctx = Context(loc, base_dir=Path(path).resolve().parent)
    cfg = from_yaml(WebConfig, data, ctx)
    ctx.raise_if_problems()
    cfg.base_dir = ctx.base_dir
    cfg.ssl_context()  # fail now on unreadable keys rather than on the first connection
    return cfg
