"""`/inspections`: the supervision group's quality inspection of closed and resolved cases."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.followup import queries
from services.followup.api.common import (
    SUPERVISION,
    code,
    db,
    quarter_text,
    seed_range,
)
from services.followup.commands import inspections
from services.followup.domain.inspections import CHECKLIST, RULES
from shared import clock, scoping
from shared.errors import Forbidden, NotFound
from shared.paging import page_field, page_of, per_page_field
from shared.web import MaskedText, StrictSchema, caller, created, requires

blp = Blueprint(
    "inspections", __name__, url_prefix="/inspections", description="Quality inspections"
)
INSPECTION_READERS = ("supervisor", "department_head", "agent")

_CHECKLIST_HELP = ", ".join(
    f"{item} ({'true/false' if top is None else f'0-{top}'})" for item, top in CHECKLIST.items()
)


class InspectionDrawIn(StrictSchema):
    rule = fields.Str(
        required=True,
        validate=validate.OneOf(RULES),
        metadata={"description": "random | complaints | breached (a time limit was breached)"},
    )
    size = fields.Int(required=True, validate=validate.Range(min=1, max=1000))
    seed = fields.Int(
        load_default=None,
        validate=seed_range,
        metadata={"description": "same seed, same sample; default random"},
    )
    period = fields.Str(
        required=True,
        validate=quarter_text,
        metadata={"description": "cases resolved in this quarter", "example": "2026-Q4"},
    )


class ScoreIn(StrictSchema):
    checklist = fields.Dict(
        keys=fields.Str(), required=True, metadata={"description": _CHECKLIST_HELP}
    )
    findings = MaskedText(load_default=None, validate=validate.Length(max=5000))


class InspectionOut(Schema):
    id = fields.UUID()
    draw_id = fields.UUID()
    rule = fields.Str()
    period = fields.Str()
    case_id = fields.Str()
    case_no = fields.Str(allow_none=True)
    agent_id = fields.Str(
        allow_none=True,
        metadata={"description": "the agent who took the case (else who resolved it)"},
    )
    department = fields.Str(allow_none=True)
    kind = fields.Str(allow_none=True)
    category = fields.Str(allow_none=True)
    state = fields.Str(metadata={"description": "drawn | scored"})
    checklist = fields.Dict(allow_none=True)
    score = fields.Float(allow_none=True, metadata={"description": "0-100"})
    findings = fields.Str(allow_none=True)
    scored_by = fields.Str(allow_none=True)
    scored_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    # what the records say, as a help for the checklist
    case_identity_verified = fields.Bool(allow_none=True)
    case_breached = fields.Bool(allow_none=True)
    case_followup_done = fields.Bool()
    case_followup_not_sampled = fields.Bool(
        metadata={
            "description": "a network incident's case left out of its follow-up sample: no"
            " call is missing"
        }
    )


InspectionPageOut = page_of(InspectionOut)


class InspectionDrawOut(Schema):
    id = fields.UUID()
    rule = fields.Str()
    size = fields.Int()
    seed = fields.Int()
    period = fields.Str()
    drawn_by = fields.Str()
    drawn_at = fields.DateTime()
    items = fields.List(fields.Nested(InspectionOut))


class InspectionQuery(StrictSchema):
    agent_id = fields.Str(validate=validate.Length(min=1, max=64))
    department = fields.Str(validate=code)
    state = fields.Str(validate=validate.OneOf(("drawn", "scored")))
    period = fields.Str(validate=quarter_text)
    draw_id = fields.UUID()
    case_id = fields.Str(validate=validate.Length(min=1, max=64))
    page = page_field()
    per_page = per_page_field()


class ResultQuery(StrictSchema):
    period = fields.Str(validate=quarter_text)


class AgentResult(Schema):
    agent_id = fields.Str()
    scored = fields.Int()
    mean_score = fields.Float()
    lowest = fields.Float()
    highest = fields.Float()


class DepartmentResult(Schema):
    department = fields.Str()
    scored = fields.Int()
    mean_score = fields.Float()
    lowest = fields.Float()
    highest = fields.Float()


class ResultsOut(Schema):
    by_agent = fields.List(fields.Nested(AgentResult))
    by_department = fields.List(fields.Nested(DepartmentResult))


@blp.post("/draw")
@requires(*SUPERVISION)
@blp.arguments(InspectionDrawIn)
@blp.response(201, InspectionDrawOut)
def draw(body: dict[str, Any]) -> Any:
    """Samples cases resolved in the period (and resolved or closed now) by rule, skipping cases
    inspected before; one inspection to score per case."""
    if body["seed"] is None:
        body["seed"] = secrets.randbelow(2**31)
    with db().transaction() as tx:
        draw_id = inspections.draw_inspections(tx, body, caller().subject, clock.now())
    drawn = queries.inspection_draw(db(), draw_id)
    return created(drawn, "inspections.get_draw", draw_id=draw_id)


@blp.get("/draws/<uuid:draw_id>")
@requires(*SUPERVISION)
@blp.response(200, InspectionDrawOut)
def get_draw(draw_id: uuid.UUID) -> dict[str, Any]:
    """A draw: its rule, seed and period, and the inspections it made."""
    drawn = queries.inspection_draw(db(), draw_id)
    if drawn is None:
        raise NotFound(f"no inspection draw {draw_id}")
    return drawn


@blp.get("")
@requires(*INSPECTION_READERS)
@blp.arguments(InspectionQuery, location="query")
@blp.response(200, InspectionPageOut)
def list_inspections(query: dict[str, Any]) -> Any:
    """Inspections by agent, department, period or state. An agent sees only their own, a
    department head their department's."""
    me = caller()
    if not me.has_role("supervisor", "department_head"):
        if query.get("agent_id") not in (None, me.subject):
            raise Forbidden("an agent sees only their own inspections")
        query["agent_id"] = me.subject
    confined = scoping.reading_confined_to(queries.actor(db(), me))
    if confined is not None:
        if query.get("department") not in (None, confined):
            raise Forbidden(f"department {confined} reads only its own inspections")
        query["department"] = confined
    page, per_page = query.pop("page"), query.pop("per_page")
    return queries.list_inspections(db(), query, page, per_page)


@blp.get("/results")
@requires("supervisor", "department_head")
@blp.arguments(ResultQuery, location="query")
@blp.response(200, ResultsOut)
def results(query: dict[str, Any]) -> dict[str, Any]:
    """Scored inspections per agent and per department (a department head: theirs)."""
    confined = scoping.reading_confined_to(queries.actor(db(), caller()))
    return queries.inspection_results(db(), query.get("period"), confined)


@blp.get("/<uuid:inspection_id>")
@requires("supervisor", "department_head")
@blp.response(200, InspectionOut)
def get_inspection(inspection_id: uuid.UUID) -> dict[str, Any]:
    found = queries.get_inspection(db(), inspection_id)
    if found is None:
        raise NotFound(f"no inspection {inspection_id}")
    scoping.require_reading(
        queries.actor(db(), caller()), found["department"], f"inspection {inspection_id}"
    )
    return found


@blp.post("/<uuid:inspection_id>/score")
@requires(*SUPERVISION)
@blp.arguments(ScoreIn)
@blp.response(200, InspectionOut)
def score(body: dict[str, Any], inspection_id: uuid.UUID) -> dict[str, Any]:
    """Scores the case on the checklist (each item weighs the same; 0-100) with findings; not
    by the agent inspected or whoever resolved the case (403)."""
    with db().transaction() as tx:
        inspections.score_inspection(tx, inspection_id, body, caller().subject, clock.now())
    return queries.get_inspection(db(), inspection_id)
