"""The loopback targets of the differential suite: HTTP(S) behaviours, tcp dialogues, a DNS server.

Every scenario's target is a template; ``Lab.target`` fills in the ports (``{http}``,
``{https_valid}``, ``{tcp_smtp}``, ``{dns}``...).  Servers run in one background event loop.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from pathlib import Path

import brotli
from aiohttp import web

from support.dnsserver import DNSServer
from support.httptarget import make_app
from support.tls import CERT_KINDS, Certs, ServerThread, https_servers

ZONE = """\
@ 300 IN SOA ns1 hostmaster 2026120301 3600 600 86400 300
@ 300 IN NS ns1
ns1 300 IN A 127.0.0.1
www 300 IN A 192.0.2.1
www 300 IN A 192.0.2.2
www 300 IN AAAA 2001:db8::1
mail 300 IN MX 10 mx1
mx1 300 IN A 192.0.2.25
txt 300 IN TXT "v=spf1 -all"
"""


def diff_app() -> web.Application:
    """HTTP behaviours beyond support.httptarget's: encodings, repeated headers, cookies, methods."""
    app = make_app()
    body = b"compressed hello " * 100

    async def deflate(request: web.Request) -> web.Response:  # zlib-wrapped, as RFC 9110 says
        return web.Response(body=zlib.compress(body), headers={"Content-Encoding": "deflate"})

    async def raw_deflate(request: web.Request) -> web.Response:  # DEFLATE without the zlib wrapper
        c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return web.Response(body=c.compress(body) + c.flush(), headers={"Content-Encoding": "deflate"})

    async def gzip_unlabelled(request: web.Request) -> web.Response:  # gzip body, no Content-Encoding
        return web.Response(body=gzip.compress(body))

    async def auth(request: web.Request) -> web.Response:
        return web.Response(text=f"authorization={request.headers.get('Authorization', '')}\n")

    async def br(request: web.Request) -> web.Response:
        return web.Response(body=brotli.compress(body), headers={"Content-Encoding": "br"})

    async def gzip_big(request: web.Request) -> web.Response:  # 100 kB of zeros, ~100 bytes on the wire
        return web.Response(body=gzip.compress(b"\0" * 100_000), headers={"Content-Encoding": "gzip"})

    async def plain_when_gzip(request: web.Request) -> web.Response:
        return web.Response(text="not compressed\n")

    async def multi(request: web.Request) -> web.Response:
        resp = web.Response(text="two cookies\n")
        resp.headers.add("X-Multi", "first")
        resp.headers.add("X-Multi", "second")
        return resp

    async def set_cookie(request: web.Request) -> web.Response:
        resp = web.HTTPFound("/need-cookie")
        resp.set_cookie("session", "abc")
        raise resp

    async def need_cookie(request: web.Request) -> web.Response:
        if request.cookies.get("session") != "abc":
            return web.Response(status=403, text="no cookie\n")
        return web.Response(text="cookie kept\n")

    async def method(request: web.Request) -> web.Response:
        return web.Response(text=f"method={request.method}\n")

    async def post_redirect(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        return web.Response(status=code, headers={"Location": "/method"})

    async def doc(request: web.Request) -> web.Response:
        return web.Response(text=json.dumps({"status": "ok", "items": [1, 2, 3]}), content_type="application/json")

    async def host(request: web.Request) -> web.Response:
        return web.Response(text=f"host={request.host}\n")

    async def no_length(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.force_close()
        await resp.prepare(request)
        await resp.write(b"streamed without a length\n")
        return resp

    app.router.add_get("/deflate", deflate)
    app.router.add_get("/br", br)
    app.router.add_get("/raw-deflate", raw_deflate)
    app.router.add_get("/gzip-unlabelled", gzip_unlabelled)
    app.router.add_get("/auth", auth)
    app.router.add_get("/gzip-big", gzip_big)
    app.router.add_get("/plain", plain_when_gzip)
    app.router.add_get("/multi", multi)
    app.router.add_get("/set-cookie", set_cookie)
    app.router.add_get("/need-cookie", need_cookie)
    app.router.add_route("*", "/method", method)
    app.router.add_route("*", "/post-redirect/{code}", post_redirect)
    app.router.add_get("/doc", doc)
    app.router.add_get("/host", host)
    app.router.add_get("/no-length", no_length)
    return app


def _line_server(script: list[tuple[str, str]]):
    """A tcp peer: for each (send, expect-prefix) it writes ``send`` then reads a line."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for send, _ in script:
                if send:
                    writer.write(send.encode())
                    await writer.drain()
                if _:
                    await asyncio.wait_for(reader.readline(), 3)
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    return handle


def _tcp_servers() -> dict[str, object]:
    return {
        "tcp_banner": _line_server([("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "")]),
        "tcp_pop3": _line_server([("+OK POP3 ready\r\n", "")]),
        "tcp_ok_nl": _line_server([("OK\n", "")]),
        "tcp_irc": _line_server(
            [("", "NICK"), ("", "USER"), ("PING :abc123\r\n", "PONG"), (":srv 001 prober :welcome\r\n", "")]
        ),
        "tcp_digits": _line_server([("code 42 here\r\n", "")]),
        "tcp_bytes": _line_server([("S", "")]),
    }


class Lab:
    def __init__(self, workdir: Path):
        self.servers = ServerThread()
        self.certs = Certs(workdir / "certs")
        self.ports: dict[str, int] = {"http": self.servers.serve(diff_app())}
        self.ports["http6"] = self.servers.serve(diff_app(), host="::1")
        for kind, port in https_servers(self.servers, self.certs, diff_app).items():
            self.ports[f"https_{kind}"] = port
        for name, handler in _tcp_servers().items():
            self.ports[name] = self.servers.serve_stream(handler)
        self.dns = self.servers.call(lambda: DNSServer("example.test.", ZONE).start())
        self.ports["dns"] = self.dns.port
        assert set(CERT_KINDS) <= {k[6:] for k in self.ports if k.startswith("https_")}

    def target(self, template: str) -> str:
        return template.format(**self.ports)

    def stop(self) -> None:
        try:
            self.servers.call(self.dns.stop)
        finally:
            self.servers.stop()
