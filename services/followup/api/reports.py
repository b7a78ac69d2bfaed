"""`/reports/quarterly/{2026-Q4}`: the quarterly evaluation as JSON, CSV or an HTML page with
charts drawn server-side (inline SVG; nothing loaded from the network)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from services.followup import queries
from services.followup.api import pages
from services.followup.api.common import REPORT_READERS, browser_page, db
from services.followup.domain import render, report
from shared import clock
from shared.browser_pages import TOKEN_PARAMETER
from shared.errors import NotFound
from shared.limits import period_problem
from shared.periods import Period
from shared.web import StrictSchema, requires

blp = Blueprint(
    "reports", __name__, url_prefix="/reports", description="Quarterly service evaluation"
)


class ReportQuery(StrictSchema):
    format = fields.Str(
        load_default="json",
        validate=validate.OneOf(("json", "csv")),
        metadata={"description": "csv: one figure per row (text/csv)"},
    )


class ReportOut(Schema):
    period = fields.Str()
    from_ = fields.Str(attribute="from", data_key="from")
    to = fields.Str()
    timezone = fields.Str()
    satisfaction = fields.Dict(
        metadata={
            "description": "mean, distribution 1-5, CSAT % (4-5); by department, category, channel"
        }
    )
    complaints = fields.Dict(
        metadata={"description": "volume, top categories, trend against the previous quarter"}
    )
    time_limits = fields.Dict(metadata={"description": "from sla.met / sla.breached"})
    followups = fields.Dict(metadata={"description": "reach rate, outcomes"})
    inspections = fields.Dict()
    feedback = fields.Dict()
    improvements = fields.Dict(metadata={"description": "open improvement measures"})
    incidents = fields.Dict(
        metadata={
            "description": "cases of network incidents (left out of complaints) and the"
            " quarter's incidents: regions, categories, started, resolved, cause, linked cases,"
            " follow-up calls of the sample"
        }
    )


def _build(period: str) -> dict[str, Any]:
    try:
        quarter = Period.parse(period, kinds=("quarter",))
    except ValueError as e:
        raise NotFound(str(e)) from None
    problem = period_problem(period, clock.now(), ("quarter",))
    if problem:
        abort(422, errors={"path": {"period": [problem]}})
    at = clock.now()
    return report.build(queries.quarter_data(db(), quarter), queries.today(at))


@blp.get("/quarterly/<period>")
@requires(*REPORT_READERS)
@blp.arguments(ReportQuery, location="query")
@blp.response(200, ReportOut)
def quarterly(query: dict[str, Any], period: str) -> Any:
    """The quarter's evaluation (Asia/Shanghai quarters): satisfaction, complaints and their
    trend, time-limit compliance, follow-up reach, inspections, open improvement measures.
    `?format=csv` gives the same figures as CSV."""
    built = _build(period)
    if query["format"] == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(render.csv_rows(built))
        return Response(
            out.getvalue(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="quarterly-{built["period"]}.csv"'},
        )
    return built


@blp.get("/quarterly/<period>.html")
@requires(*REPORT_READERS)
@blp.doc(parameters=[TOKEN_PARAMETER])
@blp.response(200, content_type="text/html")
def quarterly_html(period: str) -> Response:
    """The same evaluation as a page with charts (inline SVG, no scripts, works offline).

    A browser, which cannot send a bearer header, opens it with `?token=…` (see
    shared/browser_pages.py); the page is not cached and sends no referrer."""
    html = pages.report_html(_build(period))
    return browser_page(Response(html, content_type="text/html; charset=utf-8"))
