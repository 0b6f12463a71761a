"""Clients of the console's upstreams: the Prometheus HTTP API, the Alertmanager API v2 and the
reputation exporter's JSON API.  Every failure (refused, timeout, HTTP error, API error) becomes a
``SourceError`` naming the upstream, so each panel can say which one is unreachable."""

from __future__ import annotations

import json
import ssl
from typing import Any

import aiohttp


class SourceError(Exception):
    def __init__(self, source: str, message: str):
        self.source = source
        super().__init__(f"{source}: {message}")


class _Client:
    name = "upstream"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        timeout: float,
        headers: dict[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.session = session
        self.base = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.headers = headers or {}
        self.ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        if not self.base:
            raise SourceError(self.name, "not configured")
        try:
            async with self.session.request(
                method, self.base + path, timeout=self.timeout, headers=self.headers, ssl=self.ssl, **kw
            ) as r:
                body = await r.read()
                if r.status >= 400:
                    raise SourceError(
                        self.name, f"HTTP {r.status} on {path.split('?')[0]}: {body[:200].decode(errors='replace')}"
                    )
                return json.loads(body) if body else None
        except SourceError:
            raise
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise SourceError(self.name, f"unreachable: {type(exc).__name__} {exc}".strip()) from None
        except ValueError as exc:
            raise SourceError(self.name, f"not JSON: {exc}") from None


class Prometheus(_Client):
    name = "Prometheus"

    async def _api(self, path: str, params: dict[str, str]) -> Any:
        body = await self.request("POST", f"/api/v1/{path}", data=params)
        if not isinstance(body, dict) or body.get("status") != "success":
            raise SourceError(self.name, f"query failed: {body.get('error') if isinstance(body, dict) else body}")
        return body["data"]

    async def query(self, expr: str) -> list[dict[str, Any]]:
        data = await self._api("query", {"query": expr})
        return data.get("result", []) if data.get("resultType") == "vector" else []

    async def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = await self._api(
            "query_range", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        )
        return data.get("result", [])

    async def rules(self) -> list[dict[str, Any]]:
        data = await self.request("GET", "/api/v1/rules?type=alert")
        return [r for g in (data or {}).get("data", {}).get("groups", []) for r in g.get("rules", [])]


class Alertmanager(_Client):
    name = "Alertmanager"

    async def alerts(self) -> list[dict[str, Any]]:
        return await self.request("GET", "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true")

    async def silences(self) -> list[dict[str, Any]]:
        return await self.request("GET", "/api/v2/silences")

    async def create_silence(self, body: dict[str, Any]) -> str:
        out = await self.request("POST", "/api/v2/silences", json=body)
        return str(out["silenceID"])


class ReputationExporter(_Client):
    name = "reputation exporter"

    async def targets(self) -> dict[str, Any]:
        return await self.request("GET", "/api/v1/targets")
