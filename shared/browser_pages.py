"""Pages a browser opens from a link: the bearer token from the address, once.

A browser cannot send a bearer header. `BrowserToken` (WSGI middleware) lets it open the HTML
pages a service names — and only those — with `?token=…`: the token is handed on as
`Authorization: Bearer`, so the shared check (signature, expiry, roles, audience) applies
unchanged, and `?token=` is removed from the request before the application sees it, so no log
line, error body or page can repeat it (gunicorn's access log prints no query string, see
shared/gunicorn_conf.py; a proxy in front should not log query strings either).

A page that refreshes itself (a dashboard) names a cookie: its view answers the first request
with `token_into_cookie`, a 303 to the same page with the token in a cookie (HttpOnly,
SameSite=Lax, path of that page only, Secure on https, never past the token's expiry), so the
token is in an address for one request only. A page read once (a report) names no cookie and
answers at once. A header that came wins over both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

import jwt
from flask import Response, redirect, request
from werkzeug.http import parse_cookie

from shared.clock import system_now

FROM_QUERY = "cs.browser_token.from_query"
COOKIE_MAX_AGE = timedelta(hours=8)  # a shift; never longer than the token itself lives

TOKEN_PARAMETER = {
    "name": "token",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "for a browser: the bearer token (taken out of the address at once)",
}


@dataclass(frozen=True)
class BrowserPage:
    """A page a browser may open with `?token=`: its path (a full match) and, for a page that
    refreshes itself, the cookie that keeps the token."""

    path: re.Pattern[str]
    cookie: str | None = None


class BrowserToken:
    """WSGI middleware: `?token=` (or the page's cookie) as the bearer header on `pages`."""

    def __init__(self, app: Callable[..., Iterable[bytes]], pages: Iterable[BrowserPage]) -> None:
        self.app = app
        self.pages = tuple(pages)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO") or ""
        page = next((p for p in self.pages if p.path.fullmatch(path)), None)
        if page is not None:
            _bearer_from_browser(environ, path, page.cookie)
        return self.app(environ, start_response)


def _bearer_from_browser(environ: dict[str, Any], path: str, cookie: str | None) -> None:
    parts = [p for p in environ.get("QUERY_STRING", "").split("&") if p]
    tokens = [
        unquote_plus(value, encoding="latin-1").strip()
        for name, _, value in (p.partition("=") for p in parts)
        if name == "token"
    ]
    if tokens:
        rest = "&".join(p for p in parts if p.partition("=")[0] != "token")
        environ["QUERY_STRING"] = rest
        for key in ("RAW_URI", "REQUEST_URI"):
            if key in environ:
                environ[key] = environ.get("SCRIPT_NAME", "") + path + (f"?{rest}" if rest else "")
    if environ.get("HTTP_AUTHORIZATION"):
        return
    if tokens and tokens[-1]:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {tokens[-1]}"
        environ[FROM_QUERY] = True
        return
    saved = parse_cookie(environ).get(cookie) if cookie else None
    if saved:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {saved}"


def token_came_in_address() -> bool:
    """Whether this request's token came from `?token=` (then a refreshing page answers with
    `token_into_cookie`)."""
    return bool(request.environ.get(FROM_QUERY))


def token_into_cookie(path: str, cookie: str) -> Response:
    """303 to `path` with this request's token in `cookie`, for that path only."""
    token = request.headers["Authorization"].partition(" ")[2]
    response = redirect(request.script_root + path, code=303)
    response.set_cookie(
        cookie,
        token,
        max_age=cookie_seconds(token),
        path=request.script_root + path,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


def cookie_seconds(token: str) -> int:
    """Until the token expires (it is verified by now), at most COOKIE_MAX_AGE. A token's
    lifetime is not business time: it runs on the system clock, as shared.auth checks it."""
    limit = int(COOKIE_MAX_AGE.total_seconds())
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return 0
    if not isinstance(exp, int | float):
        return limit
    return max(0, min(limit, int(exp - system_now().timestamp())))
