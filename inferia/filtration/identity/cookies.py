"""The refresh token in a cookie, for browser clients (the dashboard).

A login or switch-org with ``"refresh_cookie": true`` answers without the refresh token
in the body and sets it as ``HttpOnly; Secure; SameSite=Strict`` cookie scoped to
``/auth/refresh``: no script of the page can read it, and the browser sends it to that
one path only. Refreshing with it needs the ``X-Inferia-CSRF`` header (a cross-site page
cannot send a custom header without a CORS preflight, which this server grants on /v1/*
at most: inferia/core/cors.py), and an ``Origin``, when the browser sends one, must be
the server's own. The refresh rotates the cookie; logout clears it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.datastructures import Cookie

from inferia.core.errors import PermissionDeniedError

REFRESH_COOKIE = "inferia_refresh"
REFRESH_PATH = "/auth/refresh"
CSRF_HEADER = "x-inferia-csrf"


def refresh_cookie(token: str, max_age_s: int) -> Cookie:
    return Cookie(
        key=REFRESH_COOKIE,
        value=token,
        path=REFRESH_PATH,
        max_age=max_age_s,
        httponly=True,
        secure=True,
        samesite="strict",
    )


def cleared_refresh_cookie() -> Cookie:
    return Cookie(
        key=REFRESH_COOKIE,
        value="",
        path=REFRESH_PATH,
        max_age=0,
        httponly=True,
        secure=True,
        samesite="strict",
    )


def refresh_token_from_cookie(request: Request[Any, Any, Any]) -> str | None:
    """The cookie's refresh token, once the request passed the CSRF checks; None when
    there is no cookie."""
    token = request.cookies.get(REFRESH_COOKIE)
    if not token:
        return None
    if not request.headers.get(CSRF_HEADER):
        raise PermissionDeniedError(f"a cookie refresh needs the {CSRF_HEADER} header")
    origin = request.headers.get("origin")
    # Host, not the scheme: a TLS-terminating proxy in front changes only the scheme.
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise PermissionDeniedError("a cookie refresh must come from this server's own pages")
    return token
