"""`/dashboard`: the supervisors' live view (HTML, charts as inline SVG, reloads itself every 30
seconds), and `/dashboard.json`: the same figures as JSON.

Why here: followup is the supervisors' evaluation service and already draws the quarterly report.
It learns everything the dashboard shows from events (case_status, migration 0003), so no
service reads another's tables and one page shows all of it.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from services.followup import queries
from services.followup.api import pages
from services.followup.api.common import REPORT_READERS, browser_page, db
from services.followup.domain import dashboard
from shared import clock
from shared.browser_pages import (
    TOKEN_PARAMETER,
    BrowserPage,
    token_came_in_address,
    token_into_cookie,
)
from shared.web import requires

PAGE = "/dashboard"
COOKIE = "cs_dashboard"
# the pages a browser opens from a link (shared/browser_pages.py): the dashboard keeps its
# token in a cookie for its refreshes, the quarterly report's page is read once
BROWSER_PAGES = (
    BrowserPage(re.compile(re.escape(PAGE)), cookie=COOKIE),
    BrowserPage(re.compile(r"/reports/quarterly/[^/]+\.html")),
)

blp = Blueprint("dashboard", __name__, description="The supervisors' live dashboard")


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
    incidents = fields.Dict(
        metadata={
            "description": "network incidents' cases (left out of open_cases and intake_today)"
            " and the quarter's incidents, the latest first"
        }
    )


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
    if token_came_in_address():
        return browser_page(token_into_cookie(PAGE, COOKIE))
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
