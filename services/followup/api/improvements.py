"""`/improvements`: measures from the quarterly analysis, an inspection or feedback, tracked
to closure. Nothing is changed or deleted: every status is a new entry in the history."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.followup import queries
from services.followup.api.common import (
    MEASURE_OWNERS,
    SUPERVISION,
    code,
    db,
)
from services.followup.commands import improvements
from services.followup.domain.improvements import SOURCES, STATUSES
from shared import clock
from shared.errors import NotFound
from shared.paging import page_field, page_of, per_page_field
from shared.web import MaskedText, StrictSchema, caller, created, requires

blp = Blueprint(
    "improvements", __name__, url_prefix="/improvements", description="Improvement measures"
)


class ImprovementIn(StrictSchema):
    problem = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    department = fields.Str(required=True, validate=code, metadata={"description": "owner"})
    measure = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    due_on = fields.Date(load_default=None)
    source = fields.Str(required=True, validate=validate.OneOf(SOURCES))
    source_ref = fields.Str(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the quarter, inspection id or campaign response it came from"},
    )
    note = MaskedText(load_default=None, validate=validate.Length(max=2000))


class StatusIn(StrictSchema):
    status = fields.Str(required=True, validate=validate.OneOf(STATUSES))
    note = MaskedText(load_default=None, validate=validate.Length(max=2000))
    evidence = fields.Str(load_default=None, validate=validate.Length(max=5000))


class HistoryOut(Schema):
    status = fields.Str()
    note = fields.Str(allow_none=True)
    evidence = fields.Str(allow_none=True)
    by = fields.Str()
    at = fields.DateTime()


class ImprovementOut(Schema):
    id = fields.UUID()
    problem = fields.Str()
    department = fields.Str()
    measure = fields.Str()
    due_on = fields.Date(allow_none=True)
    source = fields.Str()
    source_ref = fields.Str(allow_none=True)
    created_by = fields.Str()
    created_at = fields.DateTime()
    status = fields.Str(metadata={"description": " | ".join(STATUSES)})
    status_at = fields.DateTime()
    history = fields.List(fields.Nested(HistoryOut))


ImprovementPageOut = page_of(ImprovementOut)


class ImprovementQuery(StrictSchema):
    status = fields.Str(validate=validate.OneOf(STATUSES))
    department = fields.Str(validate=code)
    source = fields.Str(validate=validate.OneOf(SOURCES))
    page = page_field()
    per_page = per_page_field()


def _found(improvement_id: uuid.UUID) -> dict[str, Any]:
    measure = queries.get_improvement(db(), improvement_id)
    if measure is None:
        raise NotFound(f"no improvement measure {improvement_id}")
    return measure


@blp.post("")
@requires(*SUPERVISION, "department_head")
@blp.arguments(ImprovementIn)
@blp.response(201, ImprovementOut)
def create(body: dict[str, Any]) -> Any:
    """A measure: the problem, the owner department, what is done and by when
    (`improvement.created`)."""
    with db().transaction() as tx:
        improvement_id = improvements.create_improvement(tx, body, caller().subject, clock.now())
    return created(_found(improvement_id), "improvements.get", improvement_id=improvement_id)


@blp.get("")
@requires(*MEASURE_OWNERS)
@blp.arguments(ImprovementQuery, location="query")
@blp.response(200, ImprovementPageOut)
def list_improvements(query: dict[str, Any]) -> dict[str, Any]:
    page, per_page = query.pop("page"), query.pop("per_page")
    return queries.list_improvements(db(), query, page, per_page)


@blp.get("/<uuid:improvement_id>")
@requires(*MEASURE_OWNERS)
@blp.response(200, ImprovementOut)
def get(improvement_id: uuid.UUID) -> dict[str, Any]:
    """The measure and its full history."""
    return _found(improvement_id)


@blp.post("/<uuid:improvement_id>/status")
@requires(*MEASURE_OWNERS)
@blp.arguments(StatusIn)
@blp.response(201, ImprovementOut)
def change_status(body: dict[str, Any], improvement_id: uuid.UUID) -> Any:
    """A new status with a note and evidence: open → in_progress → done → verified → closed
    (done or verified can go back to in_progress; closed is final, `improvement.closed`).
    `Location`: the measure, its history now ending with this status."""
    with db().transaction() as tx:
        improvements.change_improvement_status(
            tx, improvement_id, body, caller().subject, clock.now()
        )
    return created(_found(improvement_id), "improvements.get", improvement_id=improvement_id)
