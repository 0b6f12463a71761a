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

import base64
import hashlib
import hmac
import ssl
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


class BasicAuth:
    """Checks ``Authorization: Basic`` headers against bcrypt hashes.

    bcrypt is deliberately slow (tens of milliseconds), so verified credentials are cached as
    an HMAC of the presented password; the cache is dropped when the user table changes.
    """

    def __init__(self, users: dict[str, str]):
        self.users = users
        self._key = hashlib.sha256(repr(sorted(users.items())).encode()).digest()
        self._ok: set[bytes] = set()

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    def check(self, header: str | None) -> bool:
        if not self.users:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        hashed = self.users.get(user)
        if hashed is None:
            return False
        token = hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()
        if token in self._ok:
            return True
        try:
            ok = bcrypt.checkpw(password.encode(), hashed.replace("$2y$", "$2b$", 1).encode())
        except ValueError:
            return False
        if ok:
            if len(self._ok) > 1024:
                self._ok.clear()
            self._ok.add(token)
        return ok


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
