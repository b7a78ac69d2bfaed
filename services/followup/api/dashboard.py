"""`/dashboard`: the supervisors' live view (HTML, charts as inline SVG, reloads itself every 30
seconds), and `/dashboard.json`: the same figures as JSON.

Why here: followup is the supervisors' evaluation service and already draws the quarterly report.
It learns everything the dashboard shows from events (case_status, migration 0003), so no
service reads another's tables and one page shows all of it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

import jwt
from flask import Response, redirect, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from werkzeug.http import parse_cookie

from services.followup import queries
from services.followup.api import pages
from services.followup.api.common import REPORT_READERS, browser_page, db
from services.followup.domain import dashboard
from shared import clock
from shared.web import requires

PAGE = "/dashboard"
COOKIE = "cs_dashboard"
COOKIE_MAX_AGE = timedelta(hours=8)  # a shift; never longer than the token itself lives
FROM_QUERY = "cs.dashboard.token_from_query"

blp = Blueprint("dashboard", __name__, description="The supervisors' live dashboard")


# the quarterly report's page (reports.quarterly_html): a browser opens its link too
REPORT_PAGE = re.compile(r"^/reports/quarterly/[^/]+\.html$")


class BrowserToken:
    """WSGI middleware: lets a browser open the pages it is given links to — `GET /dashboard`
    and the quarterly report's `GET /reports/quarterly/{quarter}.html` — which cannot send a
    bearer header.

    On those paths, and only when no Authorization header came, the token is taken from
    `?token=…` (or, on `/dashboard`, from the `cs_dashboard` cookie) and handed on as
    `Authorization: Bearer`, so the shared check (signature, expiry, roles) applies unchanged.
    `?token=` is removed from the request before the application sees it: no log line, error
    body or page of ours can repeat it (gunicorn's access log, which would print the request
    line, is off in shared/gunicorn_conf.py; a proxy in front should not log query strings
    either). The dashboard then answers 303 to `/dashboard` with the token in a cookie
    (HttpOnly, SameSite=Lax, path /dashboard only, Secure on https, at most 8 hours and never
    past the token's expiry), so the token is in an address for one request only and the
    page's own refreshes carry the cookie. The report, a page read once and not refreshed,
    answers at once (200) and keeps out of caches and referrers. Every other path,
    `/dashboard.json` and the report's JSON and CSV included, takes the bearer header only.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO") or ""
        if path == PAGE:
            _bearer_from_browser(environ, path, cookie=True)
        elif REPORT_PAGE.match(path):
            _bearer_from_browser(environ, path, cookie=False)
        return self.app(environ, start_response)


def _bearer_from_browser(environ: dict[str, Any], path: str, *, cookie: bool) -> None:
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
    saved = parse_cookie(environ).get(COOKIE) if cookie else None
    if saved:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {saved}"


def _cookie_seconds(token: str) -> int:
    """Until the token expires (it is verified by now), at most COOKIE_MAX_AGE. A token's
    lifetime is not business time: it runs on the system clock, as shared.auth checks it."""
    limit = int(COOKIE_MAX_AGE.total_seconds())
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return 0
    if not isinstance(exp, int | float):
        return limit
    return max(0, min(limit, int(exp - time.time())))


TOKEN_PARAMETER = {
    "name": "token",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "for a browser: the bearer token, exchanged at once for a cookie (303)",
}


class DashboardOut(Schema):
    generated_at = fields.Str()
    timezone = fields.Str()
    refresh_seconds = fields.Int()
    open_cases = fields.Dict(
        metadata={"description": "open cases (open, transferred, in_department, reopened)"}
    )
    clocks = fields.Dict(
        metadata={"description": "cases at risk and breached now; the 10 oldest breaches"}
    )
    intake_today = fields.Dict(metadata={"description": "received today by channel and kind"})
    satisfaction = fields.Dict(metadata={"description": "this quarter, week by week"})
    time_limits = fields.Dict(metadata={"description": "customer clocks kept, week by week"})


def _figures() -> dict[str, Any]:
    return dashboard.build(queries.dashboard_data(db(), clock.now()))


@blp.get(PAGE)
@requires(*REPORT_READERS)
@blp.doc(parameters=[TOKEN_PARAMETER])
@blp.response(200, content_type="text/html")
@blp.alt_response(303, description="?token= was given: the same page, the token in a cookie")
def page() -> Response:
    """The dashboard as a page for a browser or a wall screen.

    Open cases by state and department, clocks at risk and breached now, today's intake by
    channel, the quarter's weekly satisfaction and time-limit compliance. Inline SVG, no script,
    nothing loaded from the network; it reloads itself every 30 seconds. A browser, which cannot
    send a bearer header, opens `/dashboard?token=…` once: the answer (303) puts the token in a
    cookie for this page only and takes it out of the address."""
    if request.environ.get(FROM_QUERY):
        token = request.headers["Authorization"].partition(" ")[2]
        response = redirect(request.script_root + PAGE, code=303)
        response.set_cookie(
            COOKIE,
            token,
            max_age=_cookie_seconds(token),
            path=request.script_root + PAGE,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
        return browser_page(response)
    return browser_page(
        Response(pages.dashboard_html(_figures()), content_type="text/html; charset=utf-8")
    )


@blp.get(f"{PAGE}.json")
@requires(*REPORT_READERS)
@blp.response(200, DashboardOut)
def figures() -> Any:
    """The dashboard's figures as JSON.

    The same figures as the page; the bearer header only (no `?token=`, no cookie)."""
    return _figures(), 200, {"Cache-Control": "no-store"}
