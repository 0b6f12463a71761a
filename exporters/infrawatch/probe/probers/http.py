"""HTTP(S) prober: blackbox_exporter's ``http`` module on a small asyncio HTTP/1.1 client.

A hand-rolled client rather than aiohttp's because blackbox's phases need to be told apart
(resolve, connect, tls, processing = request sent -> first response byte, transfer) and because a
probe is one short-lived connection: no pools or sessions to set up and tear down per probe.
Over TLS, HTTP/2 is offered by ALPN as blackbox does (``enable_http2``, default true) and spoken
through ``net/http2.py`` when the server picks it; plain http and servers without h2 get HTTP/1.1.
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
import time
import zlib
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urljoin, urlsplit

from ... import __version__
from ...core import regexp
from ...core.config import Context, Secret
from ...core.metrics import MetricFamily
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext
from ..failures import classify_os_error, extend_reasons
from ..families import FAILED_DUE_TO_REGEX, HTTP_STATUS_CODE
from ..net import health, http2, resolve, tls
from ..net.health import HealthParseError, parse_health_body, record_health
from ..net.httpclient import (
    Authorization,
    BasicAuth,
    FileProblem,
    HTTPHeader,
    OAuth2,
    ProxySettings,
    TokenError,
    check_http_headers,
    note_file,
    read_file,
)
from ..net.resolve import IPProtocol
from ..net.tls import inspect_unverified, record_tls, server_hostname, verify_error_text
from ..spec import ProberSpec

HTTP_DURATION = MetricFamily(
    "probe_http_duration_seconds", "Duration of http request by phase, summed over all redirects", labels=("phase",)
)
HTTP_REDIRECTS = MetricFamily("probe_http_redirects", "The number of redirects")
HTTP_SSL = MetricFamily("probe_http_ssl", "Indicates if SSL was used for the final redirect")
HTTP_CONTENT_LENGTH = MetricFamily("probe_http_content_length", "Length of http content response")
HTTP_UNCOMPRESSED_BODY_LENGTH = MetricFamily(
    "probe_http_uncompressed_body_length", "Length of uncompressed response body"
)
HTTP_VERSION = MetricFamily("probe_http_version", "Returns the version of HTTP of the probe response")
HTTP_LAST_MODIFIED = MetricFamily(
    "probe_http_last_modified_timestamp_seconds", "Returns the Last-Modified HTTP response header in unixtime"
)
FAILED_DUE_TO_CEL = MetricFamily(
    "probe_failed_due_to_cel", "Indicates if probe failed due to CEL expression not matching"
)
FAMILIES = (
    HTTP_DURATION,
    FAILED_DUE_TO_CEL,
    HTTP_REDIRECTS,
    HTTP_SSL,
    HTTP_STATUS_CODE,
    HTTP_CONTENT_LENGTH,
    HTTP_UNCOMPRESSED_BODY_LENGTH,
    HTTP_VERSION,
    HTTP_LAST_MODIFIED,
    FAILED_DUE_TO_REGEX,
    *resolve.FAMILIES,
    *tls.FAMILIES,
    *health.FAMILIES,
)
HTTPFailure = extend_reasons(
    "HTTPFailure",
    "status_code",  # HTTP status not in valid_status_codes
    "http_version",  # HTTP version not in valid_http_versions
    "body_regex",  # fail_if_body_(not_)matches_regexp / header regexps
    "body_size",  # body larger than body_size_limit
    "redirect",  # too many redirects
    "redirect_not_allowed",  # a redirect to a host outside allowed_targets (/probe only)
    "health_check",  # the JSON health document says down (or degraded with fail_on: degraded)
)

MAX_REDIRECTS = 10  # Go's net/http limit, which blackbox inherits
PHASES = ("resolve", "connect", "tls", "processing", "transfer")
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1 << 10,
    "mb": 1 << 20,
    "gb": 1 << 30,
    "tb": 1 << 40,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "tib": 1 << 40,
}


def parse_size(value: int | str) -> int:
    """``body_size_limit``: bytes, or blackbox's base-2 units (``10KB`` = 10240, ``1MiB``)."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError("size must not be negative")
        return value
    m = _SIZE_RE.match(value)
    if not m:
        raise ValueError(f"invalid size {value!r}; expected e.g. 1048576, 512KB or 10MB")
    return int(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()]


@dataclass
class HeaderMatch:
    header: str = ""
    regexp: str = ""
    allow_missing: bool = False
    compiled: regexp.Pattern | None = field(default=None, metadata={"internal": True})

    def validate(self, ctx: Context, path: tuple) -> None:
        if not self.header:
            ctx.error((*path, "header"), "missing required key 'header'")
        if not self.regexp:  # blackbox: "regexp must be set for HTTP header matchers"
            ctx.error((*path, "regexp"), "regexp must be set for HTTP header matchers")
            return
        self.compiled = regexp.check(self.regexp, ctx, (*path, "regexp"))


@dataclass
class HealthCheck:
    """infrawatch extension: parse the body as a JSON health document."""

    enabled: bool = True
    # down: only a "down" document fails the probe; degraded: "degraded" fails it too.
    fail_on: Literal["down", "degraded"] = "down"


@dataclass
class HTTPProbe:
    """blackbox_exporter's ``http:`` module section (plus ``health``)."""

    valid_status_codes: list[int] = field(default_factory=list)  # empty: 2xx
    valid_http_versions: list[str] = field(default_factory=list)
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    body_file: str = ""
    compression: Literal["", "identity", "gzip", "deflate", "br"] = ""
    follow_redirects: bool = True
    no_follow_redirects: bool | None = None  # blackbox's older spelling
    fail_if_ssl: bool = False
    fail_if_not_ssl: bool = False
    fail_if_body_matches_regexp: list[str] = field(default_factory=list)
    fail_if_body_not_matches_regexp: list[str] = field(default_factory=list)
    fail_if_header_matches: list[HeaderMatch] = field(default_factory=list)
    fail_if_header_not_matches: list[HeaderMatch] = field(default_factory=list)
    tls_config: TLSConfig = field(default_factory=TLSConfig)
    basic_auth: BasicAuth | None = None
    bearer_token: Secret | None = None
    bearer_token_file: str = ""
    authorization: Authorization | None = None
    oauth2: OAuth2 | None = None
    http_headers: dict[str, HTTPHeader] = field(default_factory=dict)
    proxy_url: str = ""
    no_proxy: str = ""
    proxy_from_environment: bool = False
    proxy_connect_header: dict[str, list[Secret]] = field(default_factory=dict)
    skip_resolve_phase_with_proxy: bool = False
    fail_if_body_json_matches_cel: str = ""
    fail_if_body_json_not_matches_cel: str = ""
    enable_http3: bool = False  # blackbox 0.27+; accepted, its probes fail (no HTTP/3 client here)
    preferred_ip_protocol: IPProtocol = "ip6"
    ip_protocol_fallback: bool = True
    body_size_limit: int | str = 0
    enable_http2: bool = True  # as blackbox (prometheus/common): offer h2 over TLS (ALPN)
    health: HealthCheck | None = None
    # Resolved at load time (never shown by /config: internal fields are skipped).
    limit: int = field(default=0, metadata={"internal": True})
    request_body: bytes = field(default=b"", metadata={"internal": True})
    token: Secret | None = field(default=None, metadata={"internal": True})
    cel: list[tuple[str, str, object]] = field(default_factory=list, metadata={"internal": True})
    unsupported: str = field(default="", metadata={"internal": True})
    body_re: list[regexp.Pattern] = field(default_factory=list, metadata={"internal": True})
    body_not_re: list[regexp.Pattern] = field(default_factory=list, metadata={"internal": True})

    def validate(self, ctx: Context, path: tuple) -> None:
        for i, code in enumerate(self.valid_status_codes):
            if not 100 <= code <= 599:
                ctx.error((*path, "valid_status_codes", i), f"{code} is not an HTTP status code")
        for i, v in enumerate(self.valid_http_versions):
            if v not in ("HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/2", "HTTP/3.0"):
                ctx.error(
                    (*path, "valid_http_versions", i),
                    f"unknown HTTP version {v!r}; expected HTTP/1.0, HTTP/1.1 or HTTP/2.0",
                )
        if not re.fullmatch(r"[A-Za-z]+", self.method):
            ctx.error((*path, "method"), f"invalid HTTP method {self.method!r}")
        for name in self.headers:
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
                ctx.error((*path, "headers", name), f"invalid header name {name!r}")
        if self.body and self.body_file:
            ctx.error((*path, "body_file"), "setting body and body_file both are not allowed")
        elif self.body_file:  # read for each probe, as blackbox; a missing file is a warning
            self.body_file = note_file(ctx, (*path, "body_file"), self.body_file)
        else:
            self.request_body = self.body.encode()
        self._validate_client(ctx, path)
        if self.no_follow_redirects is not None:
            self.follow_redirects = not self.no_follow_redirects
        if self.fail_if_ssl and self.fail_if_not_ssl:
            ctx.error((*path, "fail_if_ssl"), "fail_if_ssl and fail_if_not_ssl cannot both be true")
        for key, out in (
            ("fail_if_body_matches_regexp", self.body_re),
            ("fail_if_body_not_matches_regexp", self.body_not_re),
        ):
            for i, rx in enumerate(getattr(self, key)):
                compiled = regexp.check(rx, ctx, (*path, key, i), as_bytes=True)
                if compiled is not None:
                    out.append(compiled)
        try:
            self.limit = parse_size(self.body_size_limit)
        except ValueError as exc:
            ctx.error((*path, "body_size_limit"), str(exc))
        if self.enable_http3:
            self.unsupported = "enable_http3 (blackbox 0.27+) is not supported: infrawatch has no HTTP/3 client"
            ctx.warn((*path, "enable_http3"), self.unsupported + "; probes of this module fail")
        for key in ("fail_if_body_json_matches_cel", "fail_if_body_json_not_matches_cel"):
            expr = getattr(self, key)
            if expr:
                program = compile_cel(expr, ctx, (*path, key))
                if program is not None:
                    self.cel.append((key, expr, program))

    def _validate_client(self, ctx: Context, path: tuple) -> None:
        """prometheus/common's HTTPClientConfig rules, and blackbox's header checks."""
        if self.bearer_token and self.bearer_token_file:
            ctx.error(
                (*path, "bearer_token_file"), "at most one of bearer_token & bearer_token_file must be configured"
            )
        elif self.bearer_token:
            ctx.warn((*path, "bearer_token"), "inline bearer token; prefer bearer_token_file")
        elif self.bearer_token_file:
            self.bearer_token_file = note_file(ctx, (*path, "bearer_token_file"), self.bearer_token_file)
        schemes = [
            k
            for k, on in (
                ("basic_auth", self.basic_auth),
                ("authorization", self.authorization),
                ("oauth2", self.oauth2),
                (
                    "bearer_token_file" if self.bearer_token_file else "bearer_token",
                    self.bearer_token or self.bearer_token_file,
                ),
            )
            if on
        ]
        if len(schemes) > 1:
            ctx.error((*path, schemes[1]), f"at most one of {', '.join(schemes)} must be configured")
        check_http_headers(self.http_headers, ctx, (*path, "http_headers"))
        if self.proxy_url:
            p = urlsplit(self.proxy_url)
            if p.scheme != "http" or not p.hostname:
                ctx.error((*path, "proxy_url"), f"expected http://host:port, got {self.proxy_url!r}")
            if self.proxy_from_environment:
                ctx.error(
                    (*path, "proxy_from_environment"), "if proxy_from_environment is configured, proxy_url must not"
                )
        elif self.no_proxy:
            ctx.error((*path, "no_proxy"), "if no_proxy is configured, proxy_url must also be configured")
        elif self.proxy_connect_header and not self.proxy_from_environment:
            ctx.error(
                (*path, "proxy_connect_header"),
                "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured",
            )
        accept = [v for k, v in self.headers.items() if k.lower() == "accept-encoding"]
        if self.compression and accept and accept[0].strip().lower() != self.compression:
            ctx.error(
                (*path, "compression"),
                f'invalid configuration "Accept-Encoding: {accept[0]}", "compression: {self.compression}"',
            )


def compile_cel(expr: str, ctx: Context, path: tuple) -> object | None:
    """A CEL program (cel-python) for ``fail_if_body_json_(not_)matches_cel``, or a located error."""
    import celpy

    env = celpy.Environment()
    try:
        return env.program(env.compile(expr))
    except Exception as exc:  # CELParseError and the library's other compile-time errors
        ctx.error(path, f"invalid CEL expression {expr!r}: {str(exc).strip().splitlines()[0]}")
        return None


def _cel_matches(ctx: ProbeContext[HTTPProbe], program: object, expr: str, body: bytes) -> bool | None:
    """Evaluate on the JSON body as ``body``; None (a failure, as in blackbox) when the body is not
    JSON, evaluation fails or the result is not a bool."""
    import json

    import celpy

    try:
        doc = json.loads(body)
    except ValueError as exc:
        ctx.log("body is not JSON, CEL not evaluated", err=str(exc))
        return None
    try:
        result = program.evaluate({"body": celpy.json_to_cel(doc)})  # type: ignore[attr-defined]
    except Exception as exc:  # CELEvalError
        ctx.log("error evaluating CEL expression", expr=expr, err=str(exc)[:200])
        return None
    if not isinstance(result, celpy.celtypes.BoolType):
        ctx.log("CEL expression did not give a bool", expr=expr, result=str(result)[:100])
        return None
    return bool(result)


class _Failed(Exception):
    def __init__(self, reason: str, message: str):  # reason: an HTTPFailure
        self.reason, self.message = reason, message


@dataclass
class _Response:
    version: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""  # kept only when a regexp or the health check needs it
    uncompressed_length: int = 0
    tls: bool = False
    failure: _Failed | None = None  # the body could not be read (size limit, decoding, connection)

    def values(self, name: str) -> list[str]:
        """Every value of a (repeated) header, in order."""
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


class _CookieJar:
    """Cookies kept across the redirects of one probe (blackbox gives its client a cookie jar)."""

    def __init__(self) -> None:
        self.by_host: dict[str, dict[str, str]] = {}

    def update(self, host: str, set_cookies: list[str]) -> None:
        for line in set_cookies:
            name, eq, value = line.split(";", 1)[0].strip().partition("=")
            if eq and name:
                self.by_host.setdefault(host.lower(), {})[name] = value

    def header(self, host: str) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.by_host.get(host.lower(), {}).items())


class _Phases:
    def __init__(self) -> None:
        self.total = dict.fromkeys(PHASES, 0.0)
        self.current = "resolve"
        self.t = time.monotonic()
        self.resolved = False  # blackbox writes only the resolve phase when resolving failed

    def enter(self, phase: str) -> None:
        if phase == "connect":
            self.resolved = True
        now = time.monotonic()
        self.total[self.current] += now - self.t
        self.current, self.t = phase, now

    def stop(self) -> None:
        self.enter(self.current)


def _strip_port(authority: str) -> str:
    if authority.startswith("["):
        return authority[1 : authority.find("]")] if "]" in authority else authority
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


def _host_header(host: str, port: int, scheme: str) -> str:
    h = f"[{host}]" if ":" in host else host
    return h if port == (443 if scheme == "https" else 80) else f"{h}:{port}"


# Request headers that carry credentials: sent only to the host the probe was configured for.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie"})


@dataclass
class _Creds:
    """What a probe sends besides the module's ``headers``, with every file read once per probe."""

    authorization: str = ""
    extra: list[tuple[str, str]] = field(default_factory=list)  # http_headers, in order
    body: bytes = b""
    proxy_connect: list[tuple[str, str]] = field(default_factory=list)


async def _credentials(ctx: ProbeContext[HTTPProbe], cfg: HTTPProbe) -> _Creds:
    """Read the ``*_file`` secrets and fetch the OAuth 2.0 token; ``_Failed`` when one cannot be had."""
    out = _Creds(body=cfg.request_body)
    try:
        if cfg.body_file:
            try:
                with open(cfg.body_file, "rb") as f:
                    out.body = f.read()
            except OSError as exc:
                raise FileProblem(f"cannot read body_file {cfg.body_file}: {exc.strerror}") from None
        if cfg.basic_auth:
            out.authorization = cfg.basic_auth.header()
        elif cfg.authorization:
            out.authorization = cfg.authorization.header()
        elif cfg.bearer_token:
            out.authorization = f"Bearer {cfg.bearer_token}"
        elif cfg.bearer_token_file:
            out.authorization = f"Bearer {read_file('bearer_token_file', cfg.bearer_token_file)}"
        elif cfg.oauth2:
            out.authorization = await cfg.oauth2.fetch_token(ctx)
        for name, h in cfg.http_headers.items():
            out.extra += [(name, v) for v in h.all_values(name)]
    except FileProblem as exc:
        raise _Failed(HTTPFailure.CONFIG, str(exc)) from None
    except TokenError as exc:
        raise _Failed(HTTPFailure.CONNECT_ERROR, str(exc)) from None
    out.proxy_connect = [(k, v) for k, vs in cfg.proxy_connect_header.items() for v in vs]
    return out


def _http11_request(method: str, target: str, lines: list[tuple[str, str]], body: bytes) -> bytes:
    """The HTTP/1.1 request bytes from ``_request_headers``' target and header lines."""
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in lines) + "\r\n"
    return head.encode("latin-1", "replace") + body


def _request_headers(
    cfg: HTTPProbe,
    method: str,
    url: str,
    parts,
    body: bytes,
    via_proxy: str,
    creds: _Creds | None = None,
    cookie: str = "",
    credentials: bool = True,
) -> tuple[str, list[tuple[str, str]]]:
    """The request target and header lines (HTTP/1.1 and HTTP/2 alike). ``credentials=False`` (a
    redirect to another host) leaves out the module's authorization (basic auth, bearer token,
    OAuth 2.0 token) and any ``Authorization``/``Cookie`` header it configures."""
    target = url if via_proxy else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    headers: dict[str, str] = {
        "Host": _host_header(host, port, parts.scheme),
        "User-Agent": f"infrawatch/{__version__}",
        "Accept": "*/*",
    }
    if cfg.compression and cfg.compression != "identity":
        headers["Accept-Encoding"] = cfg.compression
    if credentials and creds is not None and creds.authorization:
        headers["Authorization"] = creds.authorization
    if cookie:
        headers["Cookie"] = cookie
    if parts.username and "Authorization" not in headers:  # user:pass@ in the target URL
        cred = f"{parts.username}:{parts.password or ''}"
        headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
    if via_proxy and urlsplit(via_proxy).username:
        headers["Proxy-Authorization"] = _proxy_auth(via_proxy).split(": ", 1)[1].strip()
    # Module headers override the defaults, case-insensitively (Host too, as in blackbox).
    for k, v in cfg.headers.items():
        if not credentials and k.lower() in CREDENTIAL_HEADERS:
            continue
        for existing in [e for e in headers if e.lower() == k.lower()]:
            del headers[existing]
        headers[k] = v
    if body or method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    lines = [*headers.items()]
    if creds is not None:  # http_headers: added to the module's headers, every value sent
        lines += [(k, v) for k, v in creds.extra if credentials or k.lower() not in CREDENTIAL_HEADERS]
    return target, lines


def _proxy_auth(proxy_url: str) -> str:
    """``Proxy-Authorization`` header line for ``http://user:pass@proxy`` (empty without userinfo)."""
    proxy = urlsplit(proxy_url)
    if not proxy.username:
        return ""
    cred = base64.b64encode(f"{proxy.username}:{proxy.password or ''}".encode()).decode()
    return f"Proxy-Authorization: Basic {cred}\r\n"


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, int, list[tuple[str, str]]]:
    line = await reader.readline()
    if not line:
        raise _Failed(HTTPFailure.PROTOCOL, "connection closed before a response")
    m = re.match(rb"HTTP/(\d(?:\.\d)?) (\d{3})", line)
    if not m:
        raise _Failed(HTTPFailure.PROTOCOL, f"not an HTTP response: {line[:60]!r}")
    version, status = m.group(1).decode(), int(m.group(2))
    headers: list[tuple[str, str]] = []
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n"):
            break
        if not line:
            raise _Failed(HTTPFailure.PROTOCOL, "connection closed in the response headers")
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
        if len(headers) > 200:
            raise _Failed(HTTPFailure.PROTOCOL, "more than 200 response headers")
    return ("2.0" if version == "2" else version), status, headers


class _BodySink:
    """Counts (and keeps, when needed) the body, as blackbox reads it.

    With ``compression`` set the body is decoded as that encoding whatever ``Content-Encoding``
    says (blackbox "blindly" decodes it; ``deflate`` is raw DEFLATE, Go's ``flate``); without it the
    bytes are counted as they come.  ``body_size_limit`` counts the decoded bytes (blackbox wraps the
    decoder in a ``MaxBytesReader``): past it, exactly ``limit`` bytes are counted and the probe fails.
    """

    def __init__(self, limit: int, keep: bool, compression: str):
        self.limit, self.keep = limit, keep
        self.uncompressed = 0
        self.parts: list[bytes] = []
        self.decoder = None
        if compression == "gzip":
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif compression == "deflate":
            self.decoder = zlib.decompressobj(-zlib.MAX_WBITS)
        elif compression == "br":
            import brotli

            self.decoder = brotli.Decompressor()

    def feed(self, data: bytes) -> None:
        if self.decoder is not None:
            try:
                data = self.decoder.process(data) if hasattr(self.decoder, "process") else self.decoder.decompress(data)
            except Exception as exc:  # zlib.error, brotli.error
                raise _Failed(HTTPFailure.PROTOCOL, f"cannot decompress body: {exc}") from None
        if self.limit and self.uncompressed + len(data) > self.limit:
            data = data[: self.limit - self.uncompressed]
            self._add(data)
            raise _Failed(HTTPFailure.BODY_SIZE, f"body larger than body_size_limit ({self.limit} bytes)")
        self._add(data)

    def _add(self, data: bytes) -> None:
        self.uncompressed += len(data)
        if self.keep:
            self.parts.append(data)


async def _read_body(
    reader: asyncio.StreamReader, resp: _Response, method: str, sink: _BodySink, phases: _Phases
) -> None:
    if method == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200:
        return
    te = (resp.header("Transfer-Encoding") or "").lower()
    cl = resp.header("Content-Length")
    if "chunked" in te:
        while True:
            size_line = await reader.readline()
            if not size_line:
                raise _Failed(HTTPFailure.PROTOCOL, "connection closed in a chunked body")
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _Failed(HTTPFailure.PROTOCOL, f"bad chunk size {size_line[:20]!r}") from None
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return
            while size:
                data = await reader.read(min(size, 65536))
                if not data:
                    raise _Failed(HTTPFailure.PROTOCOL, "connection closed in a chunked body")
                sink.feed(data)
                size -= len(data)
            await reader.readline()
    elif cl is not None and cl.isdigit():
        remaining = int(cl)
        while remaining:
            data = await reader.read(min(remaining, 65536))
            if not data:
                raise _Failed(HTTPFailure.PROTOCOL, f"connection closed with {remaining} body bytes missing")
            sink.feed(data)
            remaining -= len(data)
    else:
        while data := await reader.read(65536):
            sink.feed(data)


async def _open(ctx: ProbeContext[HTTPProbe], cfg: HTTPProbe, parts, phases: _Phases, proxy_url: str, creds: _Creds):
    """Resolve, connect (directly or through the proxy) and, for https, handshake.

    Through a proxy the target's name is still resolved (blackbox's resolve phase, which sets
    ``probe_ip_protocol``) unless ``skip_resolve_phase_with_proxy``; the connection goes to the proxy.
    """
    scheme = parts.scheme
    host = parts.hostname
    port = parts.port or (443 if scheme == "https" else 80)
    proxy = urlsplit(proxy_url) if proxy_url else None
    phases.enter("resolve")
    if proxy is None or not cfg.skip_resolve_phase_with_proxy:
        ip = await resolve.resolve(ctx, host, cfg.preferred_ip_protocol, cfg.ip_protocol_fallback)
        if ip is None:
            raise _Failed(ctx.failure_reason or "dns", ctx.failure_message)
    conn_port = port
    if proxy is not None:
        conn_port = proxy.port or 80
        ip = await resolve.resolve(ctx.side(), proxy.hostname or "", "ip4", True)  # the proxy's own address
        if ip is None:
            raise _Failed(HTTPFailure.CONNECT_ERROR, f"cannot resolve proxy {proxy.hostname}")
    phases.enter("connect")
    try:
        reader, writer = await asyncio.open_connection(ip, conn_port, limit=1 << 16)
    except OSError as exc:
        raise _Failed(classify_os_error(exc), f"connect to {ip}:{conn_port}: {exc.strerror or exc}") from None
    ctx.log("connected", address=f"{ip}:{conn_port}")
    try:
        if proxy and scheme == "https":
            authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            extra = "".join(f"{k}: {v}\r\n" for k, v in creds.proxy_connect)
            head = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{_proxy_auth(proxy_url)}{extra}\r\n"
            writer.write(head.encode("latin-1", "replace"))
            _, status, _ = await _read_head(reader)
            if status != 200:
                raise _Failed(HTTPFailure.CONNECT_ERROR, f"proxy refused CONNECT with status {status}")
        if scheme == "https":
            phases.enter("tls")
            # blackbox: without tls_config.server_name, a Host header (module headers or the
            # hostname= URL parameter) names the server for SNI and verification, else the target.
            host_header = next((v for k, v in cfg.headers.items() if k.lower() == "host"), "")
            sni = server_hostname(cfg.tls_config, _strip_port(host_header) if host_header else host)
            try:
                alpn = ("h2", "http/1.1") if cfg.enable_http2 and not proxy else ("http/1.1",)
                await writer.start_tls(ctx.tls.get(cfg.tls_config, alpn=alpn), server_hostname=sni)
            except ssl.SSLCertVerificationError as exc:
                writer.transport.abort()
                if not proxy:
                    await inspect_unverified(ctx, ip, conn_port, sni, cfg.tls_config)
                raise _Failed(HTTPFailure.TLS, f"certificate verification failed: {verify_error_text(exc)}") from None
            except (ssl.SSLError, ConnectionError) as exc:
                raise _Failed(HTTPFailure.TLS, f"TLS handshake failed: {exc}") from None
            record_tls(ctx, writer.get_extra_info("ssl_object"), verified=not cfg.tls_config.insecure_skip_verify)
    except BaseException:
        writer.transport.abort()
        raise
    return reader, writer


def _alpn(writer: asyncio.StreamWriter) -> str:
    obj = writer.get_extra_info("ssl_object")
    return (obj.selected_alpn_protocol() or "") if obj is not None else ""


async def _exchange_h2(
    ctx: ProbeContext[HTTPProbe],
    cfg: HTTPProbe,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    method: str,
    url: str,
    parts,
    body: bytes,
    phases: _Phases,
    sink: _BodySink,
    creds: _Creds,
    cookie: str,
    credentials: bool = True,
) -> _Response:
    target, lines = _request_headers(cfg, method, url, parts, body, "", creds, cookie, credentials)
    authority = next((v for k, v in lines if k.lower() == "host"), parts.netloc)
    got: list[_Response] = []

    def on_head(status: int, headers: list[tuple[str, str]]) -> None:
        phases.enter("transfer")
        got.append(_Response("2.0", status, headers, tls=True))
        ctx.log("received response", status=status, version="HTTP/2.0")

    try:
        await http2.exchange(
            reader,
            writer,
            method,
            authority,
            target,
            lines,
            body,
            lambda: phases.enter("processing"),
            on_head,
            sink.feed,
        )
    except http2.H2Error as exc:
        if not got:
            raise _Failed(HTTPFailure.PROTOCOL, str(exc)) from None
        got[0].failure = _Failed(HTTPFailure.PROTOCOL, str(exc))
    except _Failed as exc:  # the body size limit or a decoding error: the response is kept
        if not got:
            raise
        got[0].failure = exc
    if not got:
        raise _Failed(HTTPFailure.PROTOCOL, "HTTP/2 stream ended without a response")
    return got[0]


async def _exchange(
    ctx: ProbeContext[HTTPProbe],
    cfg: HTTPProbe,
    method: str,
    url: str,
    body: bytes,
    phases: _Phases,
    keep_body: bool,
    creds: _Creds,
    jar: _CookieJar,
    credentials: bool = True,
) -> _Response:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Failed(HTTPFailure.CONFIG, f"cannot probe {url!r}: expected an http:// or https:// URL with a host")
    proxy_url = ProxySettings(cfg.proxy_url, cfg.no_proxy, cfg.proxy_from_environment).proxy_for(
        parts.scheme, parts.hostname
    )
    reader, writer = await _open(ctx, cfg, parts, phases, proxy_url, creds)
    try:
        if parts.scheme == "https" and _alpn(writer) == "h2":
            sink = _BodySink(cfg.limit, keep_body, "" if cfg.compression == "identity" else cfg.compression)
            resp = await _exchange_h2(
                ctx,
                cfg,
                reader,
                writer,
                method,
                url,
                parts,
                body,
                phases,
                sink,
                creds,
                jar.header(parts.hostname),
                credentials=credentials,
            )
            jar.update(parts.hostname, resp.values("Set-Cookie"))
            resp.uncompressed_length, resp.body = sink.uncompressed, b"".join(sink.parts)
            return resp
        via_proxy = proxy_url if parts.scheme == "http" else ""
        target, lines = _request_headers(
            cfg, method, url, parts, body, via_proxy, creds, jar.header(parts.hostname), credentials
        )
        writer.write(_http11_request(method, target, lines, body))
        await writer.drain()
        phases.enter("processing")
        version, status, headers = await _read_head(reader)
        while 100 <= status < 200 and status != 101:  # interim responses (100 Continue, 103): skipped, as Go
            ctx.log("skipped interim response", status=status)
            version, status, headers = await _read_head(reader)
        phases.enter("transfer")
        resp = _Response(version, status, headers, tls=parts.scheme == "https")
        ctx.log("received response", status=status, version=f"HTTP/{version}")
        jar.update(parts.hostname, resp.values("Set-Cookie"))
        sink = _BodySink(cfg.limit, keep_body, "" if cfg.compression == "identity" else cfg.compression)
        try:
            await _read_body(reader, resp, method, sink, phases)
        except _Failed as exc:  # status, headers and what was read are kept, as in blackbox
            resp.failure = exc
        resp.uncompressed_length = sink.uncompressed
        resp.body = b"".join(sink.parts)
        return resp
    finally:
        writer.transport.abort()


def _check_headers(ctx: ProbeContext[HTTPProbe], cfg: HTTPProbe, resp: _Response) -> bool:
    """blackbox's rules: every value of a repeated header is tried; a missing header fails either
    kind of matcher unless ``allow_missing``."""
    for kind, matchers in (("matches", cfg.fail_if_header_matches), ("not_matches", cfg.fail_if_header_not_matches)):
        for hm in matchers:
            values = resp.values(hm.header)
            if not values:
                if hm.allow_missing:
                    continue
                return ctx.fail(HTTPFailure.BODY_REGEX, f"missing required header {hm.header}")
            assert hm.compiled is not None
            hits = [v for v in values if hm.compiled.search(v)]
            if kind == "matches" and hits:
                return ctx.fail(HTTPFailure.BODY_REGEX, f"header {hm.header} value {hits[0]!r} matched {hm.regexp!r}")
            if kind == "not_matches" and not hits:
                return ctx.fail(HTTPFailure.BODY_REGEX, f"no value of header {hm.header} matched {hm.regexp!r}")
    return True


def _check_body(ctx: ProbeContext[HTTPProbe], cfg: HTTPProbe, body: bytes) -> bool:
    for rx in cfg.body_re:
        if rx.search(body):
            return ctx.fail(HTTPFailure.BODY_REGEX, f"body matched {rx.pattern.decode()!r}")
    for rx in cfg.body_not_re:
        if not rx.search(body):
            return ctx.fail(HTTPFailure.BODY_REGEX, f"body did not match {rx.pattern.decode()!r}")
    return True


def _check_cel(ctx: ProbeContext[HTTPProbe], cfg: HTTPProbe, body: bytes) -> bool:
    for key, expr, program in cfg.cel:
        matched = _cel_matches(ctx, program, expr, body)
        if matched is None:
            return ctx.fail(HTTPFailure.BODY_REGEX, f"{key}: body is not JSON or {expr!r} did not evaluate to a bool")
        if matched == (key == "fail_if_body_json_matches_cel"):
            verb = "matched" if matched else "did not match"
            return ctx.fail(HTTPFailure.BODY_REGEX, f"body {verb} CEL expression {expr!r}")
    return True


def _record_health(ctx: ProbeContext[HTTPProbe], cfg: HTTPProbe, resp: _Response, status_valid: bool) -> bool:
    """Judge the body as a health document; a 404 page that is not one fails as status_code."""
    assert cfg.health is not None
    try:
        result = parse_health_body(resp.body)
    except HealthParseError as exc:
        if not status_valid:
            ctx.log("body is not a health document", err=str(exc))
            return True
        return ctx.fail(HTTPFailure.HEALTH_CHECK, f"not a health document: {exc}")
    record_health(ctx.metrics, result)
    ctx.log(
        "health document",
        format=result.format,
        status=result.word,
        checks={k: v for k, v in result.checks.items() if v < 1},
    )
    if result.status == 0 or (cfg.health.fail_on == "degraded" and result.status < 1):
        bad = ", ".join(k for k, v in result.checks.items() if v < 1)
        return ctx.fail(HTTPFailure.HEALTH_CHECK, f"target reports {result.word}" + (f" ({bad})" if bad else ""))
    return True


def _content_length(resp: _Response, method: str, header: str | None) -> int:
    """Go's ``Response.ContentLength``: 0 for a response that has no body by definition, the header's
    value, else -1 (unknown)."""
    if resp.status in (204, 304) or 100 <= resp.status < 200:
        return 0
    return int(header) if header and header.isdigit() else -1


def _hop_host(url: str) -> str:
    """The host a URL connects to, as compared between hops (lower case, no brackets)."""
    return (urlsplit(url).hostname or "").rstrip(".")


async def probe_http(ctx: ProbeContext[HTTPProbe]) -> bool:
    cfg: HTTPProbe = ctx.config
    url = ctx.target if "://" in ctx.target else "http://" + ctx.target
    method, body = cfg.method.upper(), cfg.request_body
    health_on = cfg.health is not None and cfg.health.enabled
    keep_body = bool(cfg.body_re or cfg.body_not_re or health_on or cfg.cel)
    if cfg.unsupported:
        return ctx.fail(HTTPFailure.CONFIG, cfg.unsupported)
    phases = _Phases()
    first_host = _hop_host(url)
    redirects = 0
    resp: _Response | None = None
    ok = True
    try:
        async with asyncio.timeout(ctx.remaining):
            creds = await _credentials(ctx, cfg)
            if cfg.body_file:
                body = creds.body
            jar = _CookieJar()
            while True:
                # Go asks CheckRedirect before reading a redirect's body: a redirect that is not
                # followed (or one past the limit) comes back unread, and counts in probe_http_redirects.
                stop = not cfg.follow_redirects or redirects >= MAX_REDIRECTS
                same_host = _hop_host(url) == first_host
                resp = await _exchange(
                    ctx, cfg, method, url, body, phases, keep_body, creds, jar, credentials=same_host
                )
                location = resp.header("Location")
                if not (resp.status in (301, 302, 303, 307, 308) and location):
                    break
                redirects += 1
                if stop:
                    resp.uncompressed_length, resp.body = 0, b""
                    ctx.log("not following redirect", status=resp.status, location=location)
                    if cfg.follow_redirects:
                        raise _Failed(HTTPFailure.REDIRECT, f"stopped after {MAX_REDIRECTS} redirects")
                    break
                url = urljoin(url, location)
                hop = _hop_host(url)
                if hop != first_host and not ctx.may_reach(hop):
                    raise _Failed(
                        HTTPFailure.REDIRECT_NOT_ALLOWED,
                        f"redirect to {hop!r} ({resp.status}) is outside allowed_targets; not followed",
                    )
                ctx.log("following redirect", status=resp.status, location=url)
                if resp.status in (301, 302, 303) and method not in ("GET", "HEAD"):
                    method, body = "GET", b""  # Go's redirectBehavior: 307/308 keep method and body
                phases.enter("resolve")
    except _Failed as exc:
        ok = ctx.fail(exc.reason, exc.message)
    except TimeoutError:
        reason = HTTPFailure.CONNECT_TIMEOUT if phases.current in ("resolve", "connect") else HTTPFailure.TIMEOUT
        ok = ctx.fail(reason, f"probe deadline passed during {phases.current}")
    except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
        ok = ctx.fail(HTTPFailure.PROTOCOL, f"connection broke during {phases.current}: {exc or type(exc).__name__}")
    except ValueError as exc:  # a line longer than the reader's limit, a bad redirect URL
        ok = ctx.fail(HTTPFailure.PROTOCOL, f"malformed response: {exc}")
    phases.stop()
    m = ctx.metrics
    for phase in PHASES if phases.resolved else ("resolve",):
        m.set(HTTP_DURATION, phases.total[phase], {"phase": phase})
    m.set(HTTP_REDIRECTS, redirects)
    m.set(HTTP_SSL, 1 if resp is not None and resp.tls else 0)
    if resp is not None:
        cl = resp.header("Content-Length")
        m.set(HTTP_STATUS_CODE, resp.status)
        m.set(HTTP_CONTENT_LENGTH, _content_length(resp, method, cl))
        m.set(HTTP_UNCOMPRESSED_BODY_LENGTH, resp.uncompressed_length)
        m.set(HTTP_VERSION, float(resp.version))
        lm = resp.header("Last-Modified")
        if lm:
            try:
                m.set(HTTP_LAST_MODIFIED, parsedate_to_datetime(lm).timestamp())
            except (TypeError, ValueError):
                ctx.log("unparsable Last-Modified header", value=lm)
    else:
        for family in (HTTP_STATUS_CODE, HTTP_CONTENT_LENGTH, HTTP_UNCOMPRESSED_BODY_LENGTH, HTTP_VERSION):
            m.set(family, 0)
    regex_failed = cel_failed = False
    if ok and resp is not None and resp.failure is not None:
        ok = ctx.fail(resp.failure.reason, resp.failure.message)
    if ok and resp is not None:
        valid = cfg.valid_status_codes or range(200, 300)
        if health_on:
            ok = _record_health(ctx, cfg, resp, resp.status in valid) and ok
        if ok and resp.status not in valid:
            ok = ctx.fail(HTTPFailure.STATUS_CODE, f"status code {resp.status} is not valid")
        wanted = cfg.valid_http_versions
        if (
            ok
            and wanted
            and f"HTTP/{resp.version}" not in wanted
            and not (resp.version == "2.0" and "HTTP/2" in wanted)
        ):
            ok = ctx.fail(HTTPFailure.HTTP_VERSION, f"HTTP/{resp.version} is not in valid_http_versions")
        if ok and not _check_headers(ctx, cfg, resp):
            ok, regex_failed = False, True
        if ok and not _check_body(ctx, cfg, resp.body):
            ok, regex_failed = False, True
        if ok and cfg.cel and not _check_cel(ctx, cfg, resp.body):
            ok, cel_failed = False, True
        if ok and cfg.fail_if_ssl and resp.tls:
            ok = ctx.fail(HTTPFailure.PROTOCOL, "final response used TLS and fail_if_ssl is set")
        if ok and cfg.fail_if_not_ssl and not resp.tls:
            ok = ctx.fail(HTTPFailure.PROTOCOL, "final response did not use TLS and fail_if_not_ssl is set")
    m.set(FAILED_DUE_TO_REGEX, 1 if regex_failed else 0)  # always, as blackbox
    if cfg.cel:
        m.set(FAILED_DUE_TO_CEL, 1 if cel_failed else 0)
    return ok


SPEC = ProberSpec(
    HTTPProbe,
    probe_http,
    "HTTP(S) request: status, redirects, TLS, phases, body checks, health",
    FAMILIES,
    HTTPFailure,
)
