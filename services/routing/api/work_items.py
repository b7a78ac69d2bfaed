"""`/work-items`: the departments' queues, and what their staff do with each item."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.routing import queries
from services.routing.api.departments import READERS, code_format, db
from services.routing.commands import work_items
from services.routing.domain.work_item import OPEN, STATES
from shared import scoping
from shared.db import Transaction
from shared.errors import Forbidden, Invalid
from shared.limits import ETA_HORIZON, eta_problem
from shared.paging import page_field, page_of, per_page_field
from shared.scoping import Actor
from shared.web import (
    MaskedText,
    ReportedStepSchema,
    StrictSchema,
    caller,
    reported_step,
    requires,
)

blp = Blueprint(
    "work_items", __name__, url_prefix="/work-items", description="Department work queues"
)

# department staff and heads act on their own department's items, and read only those;
# supervisors on any, and so do reporting systems (a department's own system reporting its
# steps, dated): shared/scoping.py
ACTORS = ("department_staff", "department_head", "supervisor", "system")


def _actor(tx: Transaction) -> Actor:
    return queries.actor(tx, caller())


class WorkItemOut(Schema):
    id = fields.Int()
    case_id = fields.Str(allow_none=True, metadata={"description": "none: an incident's item"})
    incident_id = fields.Str(
        allow_none=True,
        metadata={"description": "the network incident this item is (its cases have none)"},
    )
    department = fields.Str()
    assignee_id = fields.Str(allow_none=True)
    state = fields.Str(metadata={"description": ", ".join(STATES)})
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Bool()
    rule_id = fields.Int(allow_none=True)
    routing_reason = fields.Str()
    created_at = fields.DateTime()
    assigned_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    handled_at = fields.DateTime(allow_none=True)
    handled_by = fields.Str(allow_none=True)
    resolution_code = fields.Str(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class NoteOut(Schema):
    kind = fields.Str()
    note = fields.Str()
    eta = fields.DateTime(allow_none=True)
    by = fields.Str()
    at = fields.DateTime()


class WorkItemDetailOut(WorkItemOut):
    notes = fields.List(fields.Nested(NoteOut))


class WorkItemListQuery(StrictSchema):
    department = fields.Str(validate=code_format)
    assignee = fields.Str(validate=validate.Length(1, 64))
    mine = fields.Bool(metadata={"description": "assigned to the caller"})
    overdue = fields.Bool()
    state = fields.Str(
        validate=validate.OneOf(STATES),
        metadata={
            "description": "default: the open ones (queued, assigned, accepted, handed_back)"
        },
    )
    case_id = fields.Str(validate=validate.Length(1, 64))
    page = page_field()
    per_page = per_page_field()


WorkItemPageOut = page_of(WorkItemOut)


class ProgressIn(ReportedStepSchema):
    note = MaskedText(required=True, validate=validate.Length(min=1, max=2000))
    eta = fields.AwareDateTime(
        load_default=None,
        metadata={
            "description": "estimated completion, told to the customer: ahead of the step, by"
            f" at most {ETA_HORIZON.days} days"
        },
    )


class AcceptIn(ReportedStepSchema):
    """No body for a person accepting; a reporting system may date it and name who."""


class HandBackIn(StrictSchema):
    reason = MaskedText(required=True, validate=validate.Length(min=1, max=500))


class HandledIn(ReportedStepSchema):
    # travels in case.handled: a code, never free text
    resolution_code = fields.Str(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9_.-]{1,40}$", error="a code: 1-40 letters, digits, '_', '.', '-'"
        ),
    )


class ReassignIn(StrictSchema):
    assignee_id = fields.Str(required=True, validate=validate.Length(1, 64))


@blp.get("")
@requires(*READERS)
@blp.arguments(WorkItemListQuery, location="query")
@blp.response(200, WorkItemPageOut)
def list_items(query: dict[str, Any]) -> dict[str, Any]:
    """Overdue first, then by due time; `mine=true` lists the caller's own. Department staff
    and heads list their department's items only."""
    assignee = caller().subject if query.get("mine") else query.get("assignee")
    states = (query["state"],) if query.get("state") else OPEN
    with db().transaction() as tx:
        department = query.get("department")
        confined = scoping.reading_confined_to(_actor(tx))
        if confined is not None:
            if department not in (None, confined):
                raise Forbidden(f"department {confined} reads only its own work items")
            department = confined
        return queries.list_items(
            tx,
            department=department,
            assignee=assignee,
            states=states,
            overdue=query.get("overdue"),
            case_id=query.get("case_id"),
            page=query["page"],
            per_page=query["per_page"],
        )


@blp.get("/<int:item_id>")
@requires(*READERS)
@blp.response(200, WorkItemDetailOut)
def get_item(item_id: int) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.get_item(tx, item_id, reader=_actor(tx))


@blp.post("/<int:item_id>/accept")
@requires(*ACTORS)
@blp.arguments(AcceptIn, required=False)
@blp.response(200, WorkItemOut)
def accept(body: dict[str, Any], item_id: int) -> dict[str, Any]:
    """The assignee takes it on; an unassigned item is taken by the member who accepts it."""
    with db().transaction() as tx:
        return work_items.accept(tx, item_id, _actor(tx), reported_step(body))


@blp.post("/<int:item_id>/progress")
@requires(*ACTORS)
@blp.arguments(ProgressIn)
@blp.response(200, WorkItemOut)
def progress(body: dict[str, Any], item_id: int) -> dict[str, Any]:
    """A progress note (kept in routing) and the ETA, which intake shows on the case."""
    step = reported_step(body)
    problem = body["eta"] is not None and eta_problem(body["eta"], step.at)
    if problem:
        raise Invalid("eta", problem)
    with db().transaction() as tx:
        return work_items.progress(tx, item_id, body["note"], body["eta"], _actor(tx), step)


@blp.post("/<int:item_id>/hand-back")
@requires(*ACTORS)
@blp.arguments(HandBackIn)
@blp.response(200, WorkItemOut)
def hand_back(body: dict[str, Any], item_id: int) -> dict[str, Any]:
    """Back to the department queue, and on to the least-loaded other member if there is one."""
    with db().transaction() as tx:
        return work_items.hand_back(tx, item_id, body["reason"], _actor(tx))


@blp.post("/<int:item_id>/handled")
@requires(*ACTORS)
@blp.arguments(HandledIn)
@blp.response(200, WorkItemOut)
def handled(body: dict[str, Any], item_id: int) -> dict[str, Any]:
    """Done: the department clock stops and intake resolves the case."""
    with db().transaction() as tx:
        return work_items.handle(
            tx, item_id, body["resolution_code"], _actor(tx), reported_step(body)
        )


@blp.post("/<int:item_id>/reassign")
@requires(*ACTORS)
@blp.arguments(ReassignIn)
@blp.response(200, WorkItemOut)
def reassign(body: dict[str, Any], item_id: int) -> dict[str, Any]:
    """To another active member of the item's department."""
    with db().transaction() as tx:
        return work_items.reassign(tx, item_id, body["assignee_id"], _actor(tx))
