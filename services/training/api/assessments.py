"""`/assessments`: scores; a pass is a certificate, announced as `training.completed`."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.training import queries
from services.training.api.common import (
    READERS,
    TRAINERS,
    code_format,
    db,
    staff_format,
)
from services.training.commands import courses as commands
from shared import clock
from shared.errors import NotFound
from shared.paging import page_field, page_of, per_page_field
from shared.web import StrictSchema, caller, created, requires

blp = Blueprint(
    "assessments", __name__, url_prefix="/assessments", description="Assessments and certificates"
)


class AssessmentIn(StrictSchema):
    staff_id = fields.Str(required=True, validate=staff_format)
    course_code = fields.Str(required=True, validate=code_format)
    score = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    assessed_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "when it was taken; default now"}
    )
    session_id = fields.Int(load_default=None, allow_none=True)


class AssessmentOut(Schema):
    id = fields.Int()
    staff_id = fields.Str()
    course_code = fields.Str()
    session_id = fields.Int(allow_none=True)
    score = fields.Float()
    pass_mark = fields.Float()
    passed = fields.Bool()
    assessed_at = fields.DateTime()
    expires_on = fields.Date(
        allow_none=True, metadata={"description": "first day the certificate is no longer valid"}
    )
    event_id = fields.Str(metadata={"description": "its training.completed event"})
    recorded_by = fields.Str()
    recorded_at = fields.DateTime()


class AssessmentListQuery(StrictSchema):
    staff_id = fields.Str(validate=staff_format)
    course_code = fields.Str(validate=code_format)
    page = page_field()
    per_page = per_page_field()


AssessmentListOut = page_of(AssessmentOut)


@blp.post("")
@requires(*TRAINERS)
@blp.arguments(AssessmentIn)
@blp.response(201, AssessmentOut)
def record(body: dict[str, Any]) -> Any:
    """Passed when the score reaches the course's pass mark."""
    with db().transaction() as tx:
        assessment = commands.record_assessment(tx, body, caller().subject, clock.now())
    return created(assessment, "assessments.get_assessment", assessment_id=assessment["id"])


@blp.get("/<int:assessment_id>")
@requires(*READERS)
@blp.response(200, AssessmentOut)
def get_assessment(assessment_id: int) -> dict[str, Any]:
    with db().transaction() as tx:
        assessment = queries.get_assessment(tx, assessment_id)
    if assessment is None:
        raise NotFound(f"no assessment {assessment_id}")
    return assessment


@blp.get("")
@requires(*READERS)
@blp.arguments(AssessmentListQuery, location="query")
@blp.response(200, AssessmentListOut)
def list_assessments(query: dict[str, Any]) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.list_assessments(
            tx, query.get("staff_id"), query.get("course_code"), query["page"], query["per_page"]
        )
