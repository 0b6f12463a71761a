"""CSRF protection for the page's POST actions (double-submit token bound to a per-process key).

A GET of the page sets the cookie ``iw_csrf`` (random, HttpOnly, SameSite=Strict) and puts
``HMAC(key, cookie)`` into every form; a POST is accepted only when the form's token matches the
cookie's HMAC and, when the browser sends ``Origin``, it is this host.  A forged cross-site form
has neither the cookie (SameSite) nor the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from aiohttp import web

COOKIE = "iw_csrf"


class CSRF:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _mac(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode(), hashlib.sha256).hexdigest()

    def token(self, request: web.Request, response: web.StreamResponse | None = None) -> tuple[str, str | None]:
        """(form token, new cookie value or None if the browser has one)."""
        cookie = request.cookies.get(COOKIE, "")
        fresh = None
        if len(cookie) != 43:
            cookie = fresh = secrets.token_urlsafe(32)
        return self._mac(cookie), fresh

    @staticmethod
    def set_cookie(response: web.StreamResponse, value: str | None, secure: bool) -> None:
        if value:
            response.set_cookie(COOKIE, value, httponly=True, samesite="Strict", secure=secure, path="/")

    def check(self, request: web.Request, form_token: str) -> str:
        """'' when the request is acceptable, else the reason it is refused."""
        origin = request.headers.get("Origin")
        if origin and origin != "null":
            host = origin.split("://", 1)[-1]
            if host != request.host:
                return f"cross-origin request from {origin}"
        cookie = request.cookies.get(COOKIE, "")
        if not cookie or not form_token:
            return "missing CSRF token (reload the page)"
        if not hmac.compare_digest(self._mac(cookie), form_token):
            return "invalid CSRF token (reload the page)"
        return ""
