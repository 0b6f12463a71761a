"""The loopback targets of the differential suite: HTTP(S) behaviours, tcp dialogues, a DNS server.

Every scenario's target is a template; ``Lab.target`` fills in the ports (``{http}``,
``{https_valid}``, ``{tcp_smtp}``, ``{dns}``...).  Servers run in one background event loop.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import zlib
from pathlib import Path

import brotli
from aiohttp import web

from support.dnsserver import DNSServer
from support.httptarget import ForwardProxy, make_app
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


async def _early_hints(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """HTTP/1.1 with interim responses (100, 103) before the final one."""
    try:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
        writer.write(
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nfinal\n"
        )
        await writer.drain()
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def _h2_or_h1(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """TLS server offering h2 by ALPN (the ``h2`` package, server side); HTTP/1.1 when not chosen.
    /ok answers 200 with a body, /redirect answers 302 to /ok."""
    import h2.config
    import h2.connection
    import h2.events

    body = b"hello over the wire\n"
    try:
        obj = writer.get_extra_info("ssl_object")
        if obj is None or obj.selected_alpn_protocol() != "h2":
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            await writer.drain()
            return
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        while data := await asyncio.wait_for(reader.read(65536), 5):
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    path = dict(ev.headers).get(":path", "/")
                    if path.startswith("/redirect"):
                        conn.send_headers(ev.stream_id, [(":status", "302"), ("location", "/ok")], end_stream=True)
                    else:
                        head = [(":status", "200"), ("content-length", str(len(body))), ("x-proto", "h2")]
                        conn.send_headers(ev.stream_id, head)
                        conn.send_data(ev.stream_id, body, end_stream=True)
            writer.write(conn.data_to_send())
            await writer.drain()
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    except Exception:  # an h2 protocol error from a client: close, as a server would
        pass
    finally:
        writer.close()


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
        "http_early_hints": _early_hints,
    }


def _smtp_starttls(server_ctx):
    """An SMTP peer offering STARTTLS, upgrading, then answering EHLO with AUTH (blackbox's example)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def line() -> bytes:
            return await asyncio.wait_for(reader.readline(), 3)

        try:
            writer.write(b"220 mx.example.test ESMTP ready\r\n")
            await line()  # EHLO
            writer.write(b"250-mx.example.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
            await line()  # STARTTLS
            writer.write(b"220 go ahead\r\n")
            await writer.drain()
            await writer.start_tls(server_ctx)
            await line()  # EHLO again
            writer.write(b"250-mx.example.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
            await line()  # QUIT
            writer.write(b"221 bye\r\n")
            await writer.drain()
        except (OSError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return handle


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
        for kind in ("valid", "expired"):
            self.ports[f"smtp_{kind}"] = self.servers.serve_stream(_smtp_starttls(self.certs.server_context(kind)))
        # HTTPS that requires a client certificate issued by the test CA
        mtls = self.certs.server_context("valid")
        mtls.verify_mode = ssl.CERT_REQUIRED
        mtls.load_verify_locations(cafile=str(self.certs.ca_file))
        self.ports["https_mtls"] = self.servers.serve(diff_app(), ssl_context=mtls)
        client = self.certs.ca.issue_cert("probe-client")
        self.client_cert, self.client_key = workdir / "client.pem", workdir / "client.key"
        client.cert_chain_pems[0].write_to_path(str(self.client_cert))
        client.private_key_pem.write_to_path(str(self.client_key))
        h2ctx = self.certs.server_context("valid")
        h2ctx.set_alpn_protocols(["h2", "http/1.1"])

        async def start_h2() -> int:
            server = await asyncio.start_server(_h2_or_h1, "127.0.0.1", 0, ssl=h2ctx)
            self.servers.streams.append(server)
            return server.sockets[0].getsockname()[1]

        self.ports["https_h2"] = self.servers.call(start_h2)
        self.proxy = ForwardProxy()
        self.ports["proxy"] = self.servers.serve_stream(self.proxy.handle)
        self.dns = self.servers.call(lambda: DNSServer("example.test.", ZONE).start())
        self.ports["dns"] = self.dns.port
        self.dot = self.servers.call(
            lambda: DNSServer("example.test.", ZONE, tls_context=self.certs.server_context("valid")).start()
        )
        self.ports["dot"] = self.dot.port
        assert set(CERT_KINDS) <= {k[6:] for k in self.ports if k.startswith("https_")}

    def target(self, template: str) -> str:
        return template.format(**self.ports)

    def stop(self) -> None:
        try:
            self.servers.call(self.dns.stop)
            self.servers.call(self.dot.stop)
        finally:
            self.servers.stop()
