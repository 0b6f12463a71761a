"""An aiohttp application that behaves like the HTTP services probes meet: statuses, redirects,
slow and huge responses, resets, compression, auth and JSON health documents."""

from __future__ import annotations

import asyncio
import gzip
import json

from aiohttp import web

HEALTH_DOCS: dict[str, tuple[int, object, str]] = {
    # name -> (status, document, content type)
    "ietf-pass": (
        200,
        {
            "status": "pass",
            "checks": {
                "db:responseTime": [{"status": "pass"}],
                "cache:connections": [{"status": "pass"}, {"status": "warn"}],
            },
        },
        "application/health+json",
    ),
    "ietf-fail": (
        503,
        {"status": "fail", "checks": {"db:responseTime": [{"status": "fail"}]}},
        "application/health+json",
    ),
    "spring-up": (
        200,
        {"status": "UP", "components": {"db": {"status": "UP"}, "diskSpace": {"status": "UP"}}},
        "application/vnd.spring-boot.actuator.v3+json",
    ),
    "spring-down": (
        503,
        {"status": "DOWN", "components": {"db": {"status": "DOWN"}, "ping": {"status": "UP"}}},
        "application/json",
    ),
    "checks-degraded": (
        200,
        {"status": "degraded", "checks": {"db": "healthy", "queue": {"status": "degraded"}}},
        "application/json",
    ),
    "ok-true": (200, {"ok": True, "db": {"ok": True}, "redis": {"ok": True}}, "application/json"),
    "ok-false": (200, {"ok": False, "db": {"ok": False}}, "application/json"),
    "es-green": (200, {"cluster_name": "c", "status": "green", "unassigned_shards": 0}, "application/json"),
    "es-yellow": (200, {"cluster_name": "c", "status": "yellow", "unassigned_shards": 3}, "application/json"),
    "es-red": (200, {"cluster_name": "c", "status": "red", "unassigned_shards": 9}, "application/json"),
    "seed-004": (
        200,
        {
            "status": "healthy",
            "timestamp": "2026-12-03T10:00:00Z",
            "version": "1.4.2",
            "checks": {
                "database": {"status": "healthy", "latency_ms": 5},
                "redis": {"status": "healthy", "latency_ms": 1},
                "rpc": {"status": "degraded", "latency_ms": 1800},
            },
        },
        "application/json",
    ),
    "not-json": (200, "<html>hello</html>", "text/html"),
}


def make_app() -> web.Application:
    app = web.Application()

    async def ok(request: web.Request) -> web.Response:
        return web.Response(
            text="hello from the target\n",
            headers={"Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT", "X-Served-By": "target"},
        )

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status\n")

    async def redirect(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound("/ok" if n <= 1 else f"/redirect/{n - 1}")

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("secs", "30")))
        return web.Response(text="finally\n")

    async def hang_body(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "1000"})
        await resp.prepare(request)
        await resp.write(b"x" * 10)
        await asyncio.sleep(float(request.query.get("secs", "30")))
        return resp

    async def huge(request: web.Request) -> web.StreamResponse:
        size = int(request.query.get("size", str(50 << 20)))
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        chunk = b"y" * 65536
        sent = 0
        try:
            while sent < size:
                await resp.write(chunk[: size - sent])
                sent += min(len(chunk), size - sent)
        except (ConnectionResetError, RuntimeError):
            return resp
        await resp.write_eof()
        return resp

    async def reset(request: web.Request) -> web.Response:
        sock = request.transport.get_extra_info("socket") if request.transport else None
        if sock is not None:
            import socket
            import struct

            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        request.transport.close()  # type: ignore[union-attr]  # RST: linger 0
        await asyncio.sleep(0.1)
        return web.Response(text="never sent")

    async def gz(request: web.Request) -> web.Response:
        body = gzip.compress(b"compressed hello " * 100)
        return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"})

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {"method": request.method, "headers": dict(request.headers), "body": body.decode(errors="replace")}
        )

    async def health(request: web.Request) -> web.Response:
        code, doc, ctype = HEALTH_DOCS[request.match_info["name"]]
        text = doc if isinstance(doc, str) else json.dumps(doc)
        return web.Response(status=code, text=text, content_type=ctype.split(";")[0])

    app.router.add_get("/ok", ok)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/redirect/{n}", redirect)
    app.router.add_get("/loop", loop)
    app.router.add_get("/slow", slow)
    app.router.add_get("/hang-body", hang_body)
    app.router.add_get("/huge", huge)
    app.router.add_get("/reset", reset)
    app.router.add_get("/gzip", gz)
    app.router.add_get("/health/{name}", health)
    return app


class ForwardProxy:
    """A minimal HTTP forward proxy (absolute-form requests and CONNECT) that records what it saw.

    Used to test ``proxy_url``; it relays bytes and nothing more.
    """

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.auth: list[str | None] = []
        self.headers: list[dict[str, str]] = []  # every request head's headers

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from urllib.parse import urlsplit

        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            self.requests.append(f"{method} {target}")
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            self.auth.append(headers.get("Proxy-Authorization"))
            self.headers.append(headers)
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                up_r, up_w = await asyncio.open_connection(host.strip("[]"), int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                u = urlsplit(target)
                up_r, up_w = await asyncio.open_connection(u.hostname, u.port or 80)
                path = (u.path or "/") + (f"?{u.query}" if u.query else "")
                up_w.write(head.replace(target.encode(), path.encode(), 1))
            await asyncio.gather(self._pipe(reader, up_w), self._pipe(up_r, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except OSError:
            pass
        finally:
            if w.can_write_eof():
                w.write_eof()
