"""`/scorecards`: a staff member's figures for a month or quarter, traced to events."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.training import queries
from services.training.api.common import (
    READERS,
    db,
    period_format,
    period_or_422,
)
from services.training.domain.scorecard import FIGURES
from shared import clock, scoping
from shared.db import Transaction
from shared.web import StrictSchema, caller, requires

blp = Blueprint(
    "scorecards", __name__, url_prefix="/scorecards", description="Performance scorecards"
)

_period = fields.Str(
    required=True,
    validate=period_format,
    metadata={"description": "a month (2026-11) or quarter (2026-Q4), Asia/Shanghai"},
)


class ScorecardQuery(StrictSchema):
    period = _period


class EvidenceQuery(StrictSchema):
    period = _period
    figure = fields.Str(required=True, validate=validate.OneOf(list(FIGURES)))


class FigureOut(Schema):
    value = fields.Float(allow_none=True, metadata={"description": "null: no events behind it"})
    events = fields.Int(metadata={"description": "how many events the figure rests on"})
    unit = fields.Str()
    description = fields.Str()


class ScorecardOut(Schema):
    staff_id = fields.Str()
    display_name = fields.Str(allow_none=True)
    role = fields.Str(allow_none=True)
    department = fields.Str(allow_none=True)
    period = fields.Str()
    period_kind = fields.Str()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    as_of = fields.DateTime(metadata={"description": "when training compliance is taken"})
    figures = fields.Dict(keys=fields.Str(), values=fields.Nested(FigureOut))
    not_available = fields.Dict(
        keys=fields.Str(), values=fields.Str(), metadata={"description": "figures not yet kept"}
    )


class FactOut(Schema):
    event_id = fields.Str()
    event_type = fields.Str()
    occurred_at = fields.DateTime()
    value = fields.Float()
    subject = fields.Str(metadata={"description": "the case id, or the course code"})


class EvidenceOut(Schema):
    staff_id = fields.Str()
    period = fields.Str()
    figure = fields.Str()
    value = fields.Float(allow_none=True)
    events = fields.Int()
    items = fields.List(fields.Nested(FactOut))


def _readable(tx: Transaction, staff_id: str) -> None:
    """403 for a department head asking for someone outside their department."""
    scoping.require_reading(
        queries.actor(tx, caller()),
        queries.department_of(tx, staff_id),
        f"the scorecard of {staff_id}",
    )


@blp.get("/<staff_id>")
@requires(*READERS)
@blp.arguments(ScorecardQuery, location="query")
@blp.response(200, ScorecardOut)
def scorecard(query: dict[str, Any], staff_id: str) -> dict[str, Any]:
    """Cases handled, first-contact rate, time-limit compliance, satisfaction, reopened cases,
    training compliance; each with the number of events behind it. A department head reads
    their department's staff only."""
    period = period_or_422(query["period"])
    with db().transaction() as tx:
        _readable(tx, staff_id)
        return queries.scorecard_of(tx, staff_id, period, clock.now())


@blp.get("/<staff_id>/evidence")
@requires(*READERS)
@blp.arguments(EvidenceQuery, location="query")
@blp.response(200, EvidenceOut)
def evidence(query: dict[str, Any], staff_id: str) -> dict[str, Any]:
    """The events behind one figure."""
    period = period_or_422(query["period"])
    with db().transaction() as tx:
        _readable(tx, staff_id)
        return queries.evidence(tx, staff_id, period, query["figure"], clock.now())
