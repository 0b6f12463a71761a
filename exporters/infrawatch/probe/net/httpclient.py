"""The Prometheus ``http_config`` keys of blackbox's ``http:`` section: credentials, headers, proxy.

blackbox embeds prometheus/common's ``HTTPClientConfig`` in its http module, so a module may say
``authorization``, ``oauth2``, ``http_headers``, ``proxy_url``, ``no_proxy``,
``proxy_from_environment`` and ``proxy_connect_header``.  As there, every ``*_file`` is read when a
request is made (a rotated secret is picked up without a reload) and a file missing at load is a
warning, not an error: the probe fails with reason ``config`` until it exists.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from ...core.config import Context, Secret, required
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext


class FileProblem(Exception):
    """A credential or header file cannot be read now (reason ``config``)."""


def note_file(ctx: Context, path: tuple, value: str) -> str:
    """Resolve a ``*_file`` path against the config file; warn (not fail) when it is not there."""
    resolved = str(ctx.resolve_path(value))
    if not os.path.isfile(resolved):
        ctx.warn(path, f"file not found: {value}; probes using it fail until it exists")
    return resolved


def read_file(key: str, path: str) -> Secret:
    """The content of a secret file, without its trailing newline (as prometheus/common)."""
    try:
        with open(path, encoding="utf-8") as f:
            return Secret(f.read().rstrip("\r\n"))
    except OSError as exc:
        raise FileProblem(f"cannot read {key} {path}: {exc.strerror}") from None


def _inline_or_file(ctx: Context, path: tuple, inline: Secret | None, file: str, inline_key: str, file_key: str) -> str:
    if inline and file:
        ctx.error((*path, file_key), f"at most one of {inline_key} and {file_key} must be configured")
        return ""
    return note_file(ctx, (*path, file_key), file) if file else ""


@dataclass
class BasicAuth:
    username: str = ""
    username_file: str = ""
    # Inline passwords are blackbox-compatible but discouraged: masked everywhere and warned about.
    password: Secret | None = None
    password_file: str = ""

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.username and self.username_file:
            ctx.error((*path, "username_file"), "at most one of username and username_file must be configured")
        elif self.username_file:
            self.username_file = note_file(ctx, (*path, "username_file"), self.username_file)
        self.password_file = _inline_or_file(ctx, path, self.password, self.password_file, "password", "password_file")
        if self.password:
            ctx.warn((*path, "password"), "inline password; prefer password_file")

    def header(self) -> str:
        user = read_file("basic_auth.username_file", self.username_file) if self.username_file else self.username
        pw = read_file("basic_auth.password_file", self.password_file) if self.password_file else self.password or ""
        return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


@dataclass
class Authorization:
    type: str = "Bearer"
    credentials: Secret | None = None
    credentials_file: str = ""

    def validate(self, ctx: Context, path: tuple) -> None:
        if self.type.strip().lower() == "basic":
            ctx.error((*path, "type"), "authorization type cannot be set to 'basic', use 'basic_auth' instead")
        self.credentials_file = _inline_or_file(
            ctx, path, self.credentials, self.credentials_file, "credentials", "credentials_file"
        )

    def header(self) -> str:
        creds = (
            read_file("authorization.credentials_file", self.credentials_file)
            if self.credentials_file
            else self.credentials or ""
        )
        return f"{self.type.strip() or 'Bearer'} {creds}"


@dataclass
class HTTPHeader:
    """One ``http_headers`` entry: values, secrets and files, all sent (in that order)."""

    values: list[str] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def validate(self, ctx: Context, path: tuple) -> None:
        self.files = [note_file(ctx, (*path, "files", i), f) for i, f in enumerate(self.files)]

    def all_values(self, name: str) -> list[str]:
        out = [*self.values, *self.secrets]
        for f in self.files:
            out.append(read_file(f"http_headers.{name} file", f))
        return out


# Headers prometheus/common refuses in http_headers (the client sets them itself).
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "Authorization",
        "Host",
        "Content-Encoding",
        "Content-Length",
        "Content-Type",
        "User-Agent",
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Www-Authenticate",
        "Accept-Encoding",
        "X-Prometheus-Remote-Write-Version",
        "X-Prometheus-Remote-Read-Version",
        "X-Prometheus-Scrape-Timeout-Seconds",
        "X-Amz-Date",
        "X-Amz-Security-Token",
        "X-Amz-Content-Sha256",
    )
)


def check_http_headers(headers: dict[str, HTTPHeader], ctx: Context, path: tuple) -> None:
    for name in headers:
        if name.lower() in RESERVED_HEADERS:
            ctx.error((*path, name), f"setting header {name!r} is not allowed")


@dataclass
class OAuth2:
    """OAuth 2.0 client credentials flow: a token from ``token_url`` for each probe (as blackbox,
    which builds a new client per probe)."""

    client_id: str = ""
    client_secret: Secret | None = None
    client_secret_file: str = ""
    scopes: list[str] = field(default_factory=list)
    token_url: str = required(default="")
    endpoint_params: dict[str, str] = field(default_factory=dict)
    tls_config: TLSConfig = field(default_factory=TLSConfig)
    proxy_url: str = ""
    no_proxy: str = ""
    proxy_from_environment: bool = False
    proxy_connect_header: dict[str, list[Secret]] = field(default_factory=dict)

    def validate(self, ctx: Context, path: tuple) -> None:
        self.client_secret_file = _inline_or_file(
            ctx, path, self.client_secret, self.client_secret_file, "client_secret", "client_secret_file"
        )
        u = urlsplit(self.token_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            ctx.error((*path, "token_url"), f"expected an http(s):// URL, got {self.token_url!r}")
        if self.proxy_url:
            ctx.warn((*path, "proxy_url"), "the token request does not go through a proxy in infrawatch")

    async def fetch_token(self, ctx: ProbeContext) -> str:
        """``Authorization`` header value from a client credentials token; ``FileProblem`` or
        ``TokenError`` when it cannot be had."""
        import aiohttp

        secret = (
            read_file("oauth2.client_secret_file", self.client_secret_file)
            if self.client_secret_file
            else self.client_secret or ""
        )
        form = {"grant_type": "client_credentials", **self.endpoint_params}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        auth = base64.b64encode(f"{_form_escape(self.client_id)}:{_form_escape(secret)}".encode()).decode()
        sslctx: ssl.SSLContext | bool = ctx.tls.get(self.tls_config) if self.token_url.startswith("https") else False
        t0 = time.monotonic()
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=max(0.05, ctx.remaining))) as session,
                session.post(
                    self.token_url,
                    data=urlencode(form),
                    headers={"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"},
                    ssl=sslctx,
                ) as resp,
            ):
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TokenError(f"oauth2 token request to {self.token_url} failed: {exc or type(exc).__name__}") from None
        ctx.log("oauth2 token request", status=status, seconds=round(time.monotonic() - t0, 6))
        if status != 200:
            raise TokenError(f"oauth2 token endpoint answered {status}")
        try:
            doc = json.loads(text)
            token, kind = doc["access_token"], doc.get("token_type") or "Bearer"
        except (ValueError, KeyError, TypeError):
            raise TokenError("oauth2 token endpoint did not return an access_token") from None
        # Go's oauth2 package sends "Bearer" whatever case the server used for the type.
        return f"{'Bearer' if kind.lower() == 'bearer' else kind} {token}"


class TokenError(Exception):
    """The OAuth 2.0 token request failed."""


def _form_escape(s: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(s)


@dataclass
class ProxySettings:
    """Which proxy a URL goes through: ``proxy_url`` + ``no_proxy``, or the environment."""

    proxy_url: str
    no_proxy: str
    from_environment: bool

    def proxy_for(self, scheme: str, host: str) -> str:
        if self.from_environment:
            url = os.environ.get(f"{scheme}_proxy") or os.environ.get(f"{scheme.upper()}_PROXY") or ""
            no = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
        else:
            url, no = self.proxy_url, self.no_proxy
        if not url or _no_proxy_matches(no, host):
            return ""
        return url


def _no_proxy_matches(no_proxy: str, host: str) -> bool:
    """Go's ``httpproxy`` rules, simplified: ``*``, exact host, ``.suffix``/``suffix`` domain, IP/CIDR."""
    import ipaddress

    host = host.lower().strip("[]")
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        try:
            net = ipaddress.ip_network(entry, strict=False)
            try:
                if ipaddress.ip_address(host) in net:
                    return True
            except ValueError:
                pass
            continue
        except ValueError:
            pass
        entry = entry.split(":")[0] if entry.count(":") == 1 else entry
        if host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")):
            return True
    return False
