"""``--web.external-url`` and ``--web.route-prefix``: the exporters behind a reverse proxy.

The same semantics as Prometheus and the exporters built on exporter-toolkit (blackbox_exporter):

- ``--web.external-url``: the URL under which the exporter is reachable from outside (for example
  ``https://monitoring.example.com/probe-exporter/``).  Links on the status pages are built from
  its path.  Empty: ``http://<hostname>:<listen port>/``.
- ``--web.route-prefix``: the path prefix of every endpoint the exporter serves (``/metrics``,
  ``/probe``, ``/-/healthy`` ... become ``<prefix>/metrics`` ...).  Defaults to the path of
  ``--web.external-url``; ``/`` when that has none.  A proxy that strips the prefix before passing
  the request on needs ``--web.route-prefix=/`` with an external URL that has the path.

With a prefix other than ``/``, ``GET /`` and ``GET <prefix>`` redirect to ``<prefix>/``.
"""

from __future__ import annotations

import argparse
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from .hostport import HostPortError, split_host_port


class WebURLError(ValueError):
    """A bad ``--web.external-url`` / ``--web.route-prefix`` (the message names the flag)."""


@dataclass(frozen=True)
class WebURL:
    external_url: str  # without a trailing slash: "http://host:9516", "https://proxy/iw"
    path: str  # the external URL's path without a trailing slash: "" or "/iw"
    route_prefix: str  # "/" or "/iw" (no trailing slash)


def add_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--web.external-url",
        dest="web_external_url",
        default="",
        help="URL under which the exporter is reachable (behind a reverse proxy); links use its path; "
        "default http://<hostname>:<port>/",
    )
    p.add_argument(
        "--web.route-prefix",
        dest="web_route_prefix",
        default="",
        help="path prefix of every endpoint (default: the path of --web.external-url)",
    )


def compute(external_url: str, route_prefix: str, listen: str) -> WebURL:
    """The external URL and route prefix as Prometheus computes them (``computeExternalURL``)."""
    if not external_url:
        try:
            _, port = split_host_port(listen, zero_port=True)
        except HostPortError as exc:
            raise WebURLError(f"--web.listen-address {listen!r}: {exc}") from None
        external_url = f"http://{socket.gethostname()}:{port}/"
    if external_url[:1] in "\"'" or external_url[-1:] in "\"'":
        raise WebURLError(f"--web.external-url {external_url!r}: URL must not begin or end with quotes")
    parts = urlsplit(external_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebURLError(f"--web.external-url {external_url!r}: needs an http:// or https:// URL with a host")
    path = parts.path.rstrip("/")
    if path and not path.startswith("/"):
        path = "/" + path
    prefix = route_prefix if route_prefix else path
    prefix = "/" + prefix.strip("/")
    return WebURL(f"{parts.scheme}://{parts.netloc}{path}", path, prefix)


def from_args(args: Any) -> WebURL:
    listen = (getattr(args, "listen", None) or [getattr(args, "default_listen", ":0")])[0]
    return compute(getattr(args, "web_external_url", ""), getattr(args, "web_route_prefix", ""), listen)


def mount(app: web.Application, prefix: str, client_max_size: int) -> web.Application:
    """``app`` served under ``prefix`` (unchanged for ``/``), with the redirects to ``<prefix>/``."""
    if prefix == "/":
        return app
    outer = web.Application(client_max_size=client_max_size)

    async def to_prefix(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(prefix + "/")

    outer.router.add_get("/", to_prefix)
    outer.router.add_get(prefix, to_prefix)
    outer.add_subapp(prefix, app)
    return outer
