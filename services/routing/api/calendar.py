"""`/calendar` and `/sla-policies`: the working-day calendar and the versioned time limits."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.routing import queries
from services.routing.commands import calendar as calendar_commands
from services.routing.commands import policies
from services.routing.domain.calendar_file import CalendarFileError, parse_schedule
from shared import clock
from shared.errors import Invalid
from shared.etags import check_if_match, etag, tag
from shared.limits import storable_problem, year_problem
from shared.paging import page_field, page_of, per_page_field
from shared.web import (
    StrictSchema,
    caller,
    created,
    error_body,
    request_body,
    requires,
    service_db,
)

blp = Blueprint("calendar", __name__, description="Working-day calendar and SLA policies")
MANAGERS = ("supervisor", "admin")
READERS = ("agent", "system", "supervisor", "department_staff", "department_head")


_db = service_db


class YearQuery(StrictSchema):
    year = fields.Int(required=True, validate=validate.Range(min=2000, max=2100))


class DayOut(Schema):
    day = fields.Date()
    working = fields.Bool()
    reason = fields.Str()
    source = fields.Str()


class CalendarDayOut(DayOut):
    official = fields.Bool(
        metadata={"description": "false: the year's official schedule is not loaded yet"}
    )


class YearOut(Schema):
    year = fields.Int()
    official = fields.Bool(metadata={"description": "false: days not listed are provisional"})
    exceptions = fields.List(fields.Nested(DayOut))


class ImportOut(Schema):
    year = fields.Int()
    days = fields.Int()
    clocks_recomputed = fields.Int()


class ExceptionIn(StrictSchema):
    working = fields.Bool(required=True)
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=200))


class ExceptionOut(Schema):
    day = fields.Date()
    working = fields.Bool()
    reason = fields.Str()
    clocks_recomputed = fields.Int()


class PolicyQuery(StrictSchema):
    at = fields.Date(metadata={"description": "the date to ask about; default today"})
    page = page_field()
    per_page = per_page_field()


class PolicyIn(StrictSchema):
    kind = fields.Str(required=True, validate=validate.OneOf(("consultation", "complaint")))
    priority = fields.Str(
        required=True, validate=validate.OneOf(("low", "normal", "high", "urgent"))
    )
    working_days = fields.Int(required=True, validate=validate.Range(min=1, max=60))
    warning_ratio = fields.Float(load_default=0.75, validate=validate.Range(0.05, 0.99))
    effective_from = fields.Date(required=True)
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=500))


class PolicyVersionOut(Schema):
    kind = fields.Str()
    priority = fields.Str()
    working_days = fields.Int()
    warning_ratio = fields.Float()
    version = fields.Int()
    effective_from = fields.Date()
    changed_by = fields.Str()
    reason = fields.Str()
    changed_at = fields.DateTime()


class PolicyListOut(page_of(PolicyVersionOut)):  # type: ignore[misc]
    at = fields.Date()


@blp.get("/calendar")
@requires(*READERS)
@blp.arguments(YearQuery, location="query")
@blp.response(200, YearOut)
def calendar_year(query: dict[str, Any]) -> dict[str, Any]:
    """A year's days that differ from Monday–Friday, and whether the year is official."""
    return queries.calendar_year(_db(), query["year"])


@blp.post("/calendar/import")
@requires(*MANAGERS)
@blp.response(200, ImportOut)
def import_calendar() -> Any:
    """Load a year's official schedule (CSV or JSON body); re-computes provisional clocks."""
    text = request_body().decode("utf-8", errors="replace")
    if "\x00" in text:
        return error_body(400, "the schedule contains a NUL character (U+0000)")
    try:
        year, days = parse_schedule(text)
    except CalendarFileError as e:
        return error_body(400, f"the schedule cannot be read: {e}")
    problem = year_problem(year, clock.now())
    if problem:
        raise Invalid("year", problem)
    with _db().transaction() as tx:
        return calendar_commands.import_year(tx, year, days, caller().subject)


def _date(day: str) -> date | None:
    try:
        return date.fromisoformat(day)
    except ValueError:
        return None


@blp.get("/calendar/<string:day>")
@requires(*READERS)
@blp.response(200, CalendarDayOut)
@etag
def calendar_day(day: str) -> Any:
    """One date: working or not, why, and where that comes from."""
    on = _date(day)
    if on is None:
        return error_body(400, f"{day!r} is not a date (YYYY-MM-DD)")
    with _db().transaction() as tx:
        return queries.calendar_day(tx, on)


@blp.put("/calendar/<string:day>")
@requires(*MANAGERS)
@blp.arguments(ExceptionIn)
@blp.response(200, ExceptionOut)
@etag
def set_exception(body: dict[str, Any], day: str) -> Any:
    """A company exception for one date. `If-Match`: the ETag of the date's GET."""
    on = _date(day)
    if on is None:
        return error_body(400, f"{day!r} is not a date (YYYY-MM-DD)")
    problem = storable_problem(on)
    if problem:
        raise Invalid("day", problem)
    with _db().transaction() as tx:
        check_if_match(lambda: queries.calendar_day(tx, on, lock=True))
        changed = calendar_commands.set_exception(tx, on, body["working"], body["reason"])
        tag(queries.calendar_day(tx, on))
    return changed


@blp.get("/sla-policies")
@requires(*READERS)
@blp.arguments(PolicyQuery, location="query")
@blp.response(200, PolicyListOut)
def policies_in_effect(query: dict[str, Any]) -> dict[str, Any]:
    """The time limits that applied on a date (default today)."""
    on = query.get("at") or clock.now().date()
    return dict(queries.policies_at(_db(), on, query["page"], query["per_page"]), at=on)


@blp.post("/sla-policies")
@requires(*MANAGERS)
@blp.arguments(PolicyIn)
@blp.response(201, PolicyVersionOut)
def revise_policy(body: dict[str, Any]) -> Any:
    """A new version of a time limit from a date on (policy ch.8: the policy is revised;
    `Location`: the limits in effect that day)."""
    with _db().transaction() as tx:
        version = policies.revise(tx, body, caller().subject)
    return created(version, "calendar.policies_in_effect", at=version["effective_from"])
