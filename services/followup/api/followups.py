"""`/followups`: the call after a resolution (回访), its attempts and outcome; `/do-not-call`."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from services.followup import commands, queries
from services.followup.api.common import (
    CALLERS,
    READERS,
    db,
)
from services.followup.domain.attempts import RESULTS, STATES
from shared import clock
from shared.paging import page_field, page_of, per_page_field
from shared.web import MaskedText, ReportedStepSchema, StrictSchema, caller, reported_step, requires

blp = Blueprint(
    "followups", __name__, url_prefix="/followups", description="Follow-up calls after resolution"
)
dnc = Blueprint(
    "do_not_call", __name__, url_prefix="/do-not-call", description="Customers not to be called"
)


class FollowupQuery(StrictSchema):
    state = fields.Str(validate=validate.OneOf(STATES))
    case_id = fields.Str(validate=validate.Length(min=1, max=64))
    agent_id = fields.Str(validate=validate.Length(min=1, max=64))
    customer_id = fields.Str(validate=validate.Length(min=1, max=64))
    department = fields.Str(validate=validate.Length(min=1, max=40))
    unassigned = fields.Bool(metadata={"description": "only tasks no agent has yet"})
    overdue = fields.Bool()
    page = page_field()
    per_page = per_page_field()


class AttemptOut(Schema):
    result = fields.Str()
    at = fields.DateTime()
    agent_id = fields.Str()
    solved = fields.Bool(allow_none=True)
    satisfaction = fields.Int(allow_none=True)
    comment = fields.Str(allow_none=True)
    recorded_at = fields.DateTime()


class FollowupOut(Schema):
    id = fields.UUID()
    case_id = fields.Str()
    kind = fields.Str()
    category = fields.Str()
    department = fields.Str(allow_none=True)
    resolved_by = fields.Str()
    resolved_at = fields.DateTime()
    customer_id = fields.Str(allow_none=True)
    agent_id = fields.Str(allow_none=True, metadata={"description": "null: any agent may call"})
    state = fields.Str(metadata={"description": " | ".join(STATES)})
    outcome = fields.Str(
        allow_none=True,
        metadata={"description": "confirmed | unresolved | unreachable, once the task ended"},
    )
    solved = fields.Bool(allow_none=True)
    satisfaction = fields.Int(allow_none=True)
    due_at = fields.DateTime()
    due_provisional = fields.Bool()
    overdue = fields.Bool()
    attempts = fields.Int()
    failed_attempts = fields.Int()
    created_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    ended_by = fields.Str(allow_none=True)
    end_reason = fields.Str(allow_none=True)
    attempt_log = fields.List(fields.Nested(AttemptOut))


FollowupPageOut = page_of(FollowupOut)


class AttemptIn(ReportedStepSchema):
    result = fields.Str(required=True, validate=validate.OneOf(RESULTS))
    solved = fields.Bool(load_default=None, allow_none=True)
    satisfaction = fields.Int(load_default=None, allow_none=True, validate=validate.Range(1, 5))
    comment = MaskedText(load_default=None, allow_none=True, validate=validate.Length(max=2000))


@blp.get("")
@requires(*READERS)
@blp.arguments(FollowupQuery, location="query")
@blp.response(200, FollowupPageOut)
def list_followups(query: dict[str, Any]) -> dict[str, Any]:
    """Follow-up tasks: an agent's due calls (`state=due&agent_id=`), a case's (`case_id=`)."""
    page, per_page = query.pop("page"), query.pop("per_page")
    return queries.list_followups(db(), query, page, per_page)


@blp.get("/<uuid:followup_id>")
@requires(*READERS)
@blp.response(200, FollowupOut)
def get_followup(followup_id: uuid.UUID) -> dict[str, Any]:
    """One task with every attempt."""
    task = queries.get_followup(db(), followup_id)
    if task is None:
        abort(404, message=f"no follow-up {followup_id}")
    return task


@blp.post("/<uuid:followup_id>/attempts")
@requires(*CALLERS)
@blp.arguments(AttemptIn)
@blp.response(201, FollowupOut)
def record_attempt(body: dict[str, Any], followup_id: uuid.UUID) -> dict[str, Any]:
    """A call attempt. Reached: say whether it is solved (satisfaction and comment optional);
    the outcome goes out as `followup.completed`. After the configured number of failed
    attempts (default 3) the task ends unreachable."""
    step = reported_step(body)
    with db().transaction() as tx:
        commands.record_attempt(tx, followup_id, body, step)
    return queries.get_followup(db(), followup_id)


class DoNotCallIn(StrictSchema):
    customer_id = fields.Str(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the opaque customer id of case.opened"},
    )


class DoNotCallOut(Schema):
    customer_id = fields.Str()
    since = fields.DateTime()
    added_by = fields.Str()


@dnc.post("")
@requires(*CALLERS)
@dnc.arguments(DoNotCallIn)
@dnc.response(201, DoNotCallOut)
@dnc.alt_response(200, schema=DoNotCallOut, description="already on the list")
def add_do_not_call(body: dict[str, Any]) -> Any:
    """The customer asked not to be called: no follow-up or campaign call from now on."""
    with db().transaction() as tx:
        added = commands.add_do_not_call(tx, body["customer_id"], caller().subject, clock.now())
    listed = queries.on_do_not_call(db(), body["customer_id"])
    return listed if added else (listed, 200)


@dnc.get("/<customer_id>")
@requires(*READERS)
@dnc.response(200, DoNotCallOut)
def get_do_not_call(customer_id: str) -> dict[str, Any]:
    listed = queries.on_do_not_call(db(), customer_id)
    if listed is None:
        abort(404, message=f"customer {customer_id} is not on the do-not-call list")
    return listed


@dnc.delete("/<customer_id>")
@requires(*CALLERS)
@dnc.response(204)
def remove_do_not_call(customer_id: str) -> None:
    """The customer may be called again (the change is kept in the list's history)."""
    with db().transaction() as tx:
        commands.remove_do_not_call(tx, customer_id, caller().subject, clock.now())
