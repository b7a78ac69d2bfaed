"""`/compliance`: who is overdue or about to expire on a mandatory course, per department."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.training import queries
from services.training.api.common import READERS, db
from services.training.domain.certificates import DEFAULT_EXPIRING_WITHIN_DAYS
from shared import clock
from shared.paging import page_field, page_of, per_page_field
from shared.web import StrictSchema, requires

blp = Blueprint(
    "compliance", __name__, url_prefix="/compliance", description="Mandatory training compliance"
)

_department = fields.Str(validate=validate.Length(min=1, max=40))


class ComplianceQuery(StrictSchema):
    department = _department
    status = fields.Str(validate=validate.OneOf(("overdue", "expiring")))
    expiring_within_days = fields.Int(
        load_default=DEFAULT_EXPIRING_WITHIN_DAYS, validate=validate.Range(min=0, max=365)
    )
    page = page_field()
    per_page = per_page_field()


class ComplianceItem(Schema):
    staff_id = fields.Str()
    display_name = fields.Str()
    role = fields.Str()
    department = fields.Str(allow_none=True)
    course_code = fields.Str()
    course_title = fields.Str()
    status = fields.Str(metadata={"description": "overdue or expiring"})
    reason = fields.Str(
        allow_none=True, metadata={"description": "overdue: never_passed or expired"}
    )
    expires_on = fields.Date(allow_none=True)
    days_left = fields.Int(allow_none=True)
    last_passed_at = fields.DateTime(allow_none=True)


class ComplianceOut(Schema):
    department = fields.Str(allow_none=True)
    as_of = fields.Date()
    expiring_within_days = fields.Int()
    overdue = fields.Int(metadata={"description": "how many items are overdue"})
    expiring = fields.Int(metadata={"description": "how many items are expiring"})
    items = fields.List(fields.Nested(ComplianceItem))
    page = fields.Int()
    per_page = fields.Int()
    total = fields.Int(metadata={"description": "how many items in all (overdue + expiring)"})


class FlagsQuery(StrictSchema):
    department = _department
    since = fields.Date(metadata={"description": "flags of checks on or after this day"})
    page = page_field()
    per_page = per_page_field()


class FlagOut(Schema):
    id = fields.Int()
    staff_id = fields.Str()
    department = fields.Str(allow_none=True)
    course_code = fields.Str()
    reason = fields.Str()
    expired_on = fields.Date(allow_none=True)
    check_day = fields.Date()
    flagged_at = fields.DateTime()


FlagsOut = page_of(FlagOut)


@blp.get("")
@requires(*READERS)
@blp.arguments(ComplianceQuery, location="query")
@blp.response(200, ComplianceOut)
def compliance(query: dict[str, Any]) -> dict[str, Any]:
    """Each active staff member and mandatory course that is overdue (never passed, expired)
    or expiring within `expiring_within_days` (default 30)."""
    today = clock.today()
    window = query["expiring_within_days"]
    with db().transaction() as tx:
        rows = queries.mandatory_standings(tx, query.get("department"), today, window)
    page, per_page = query["page"], query["per_page"]
    wanted = {query["status"]} if query.get("status") else {"overdue", "expiring"}
    items = [r for r in rows if r["status"] in wanted]
    return {
        "department": query.get("department"),
        "as_of": today,
        "expiring_within_days": window,
        "overdue": sum(r["status"] == "overdue" for r in items),
        "expiring": sum(r["status"] == "expiring" for r in items),
        "items": items[(page - 1) * per_page : page * per_page],
        "page": page,
        "per_page": per_page,
        "total": len(items),
    }


@blp.get("/flags")
@requires(*READERS)
@blp.arguments(FlagsQuery, location="query")
@blp.response(200, FlagsOut)
def flags(query: dict[str, Any]) -> dict[str, Any]:
    """What the daily check flagged: newly overdue staff, once per course and expiry."""
    with db().transaction() as tx:
        return queries.list_flags(
            tx, query.get("department"), query.get("since"), query["page"], query["per_page"]
        )
