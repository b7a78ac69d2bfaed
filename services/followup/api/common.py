"""What followup's blueprints share: the database, roles, error answers, field formats."""

from __future__ import annotations

from flask import Response
from marshmallow import ValidationError, validate

from services.followup.domain.periods import Quarter
from shared import clock
from shared.limits import year_problem
from shared.request_limits import PAGE_POLICY
from shared.web import service_db

# who may do what
CALLERS = ("agent", "supervisor", "system")  # make calls, record attempts and answers
READERS = ("agent", "supervisor", "system", "department_head", "department_staff")
SUPERVISION = ("supervisor",)  # campaigns, inspections, reports (admin passes every check)
REPORT_READERS = ("supervisor", "department_head")
MEASURE_OWNERS = ("supervisor", "department_head", "department_staff")

code = validate.Length(min=1, max=40)
# a sample's seed is kept in a bigint column
seed_range = validate.Range(min=-(2**63), max=2**63 - 1)


db = service_db


def browser_page(response: Response) -> Response:
    """A page for a browser (dashboard, report): not cached, no referrer, nothing loaded, no
    script run, never framed (shared.web adds nosniff and X-Frame-Options to every answer)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


def quarter_text(value: str) -> None:
    """A quarter like 2026-Q4, of a year the evaluation is kept for (2000 to a few ahead)."""
    problem = quarter_problem(value)
    if problem:
        raise ValidationError(problem)


def quarter_problem(value: str) -> str | None:
    try:
        quarter = Quarter.parse(value)
    except ValueError as e:
        return str(e)
    return year_problem(quarter.year, clock.now())
