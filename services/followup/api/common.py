"""What followup's blueprints share: the database, roles, error answers, field formats."""

from __future__ import annotations

from flask import Response
from marshmallow import validate

from shared.request_limits import PAGE_POLICY
from shared.web import period_validator, service_db

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


# a quarter like 2026-Q4, of a year the evaluation is kept for
quarter_text = period_validator(("quarter",))
