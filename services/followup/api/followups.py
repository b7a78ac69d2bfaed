"""`/followups`: the call after a resolution (回访), its attempts and outcome; `/do-not-call`."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.followup import queries
from services.followup.api.common import (
    CALLERS,
    READERS,
    db,
)
from services.followup.commands import followups
from services.followup.domain.attempts import RESULTS, STATES
from shared import clock, scoping
from shared.errors import Forbidden, NotFound
from shared.etags import check_if_match, etag
from shared.paging import page_field, page_of, per_page_field
from shared.web import (
    MaskedText,
    ReportedStepSchema,
    StrictSchema,
    caller,
    created,
    reported_step,
    requires,
)

blp = Blueprint(
    "followups", __name__, url_prefix="/followups", description="Follow-up calls after resolution"
)
dnc = Blueprint(
    "do_not_call", __name__, url_prefix="/do-not-call", description="Customers not to be called"
)
# an agent puts a customer on the list when asked; taking them off goes against what the
# customer said, and agents have calls to make: a supervisor, or the customer's own request
# through a channel system, lifts it (docs/access.md)
LIFTERS = ("supervisor", "system")


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
    """Follow-up tasks: an agent's due calls (`state=due&agent_id=`), a case's (`case_id=`).
    Department staff and heads see their department's only."""
    page, per_page = query.pop("page"), query.pop("per_page")
    confined = scoping.reading_confined_to(queries.actor(db(), caller()))
    if confined is not None:
        if query.get("department") not in (None, confined):
            raise Forbidden(f"department {confined} reads only its own follow-ups")
        query["department"] = confined
    return queries.list_followups(db(), query, page, per_page)


@blp.get("/<uuid:followup_id>")
@requires(*READERS)
@blp.response(200, FollowupOut)
def get_followup(followup_id: uuid.UUID) -> dict[str, Any]:
    """One task with every attempt."""
    task = queries.get_followup(db(), followup_id)
    if task is None:
        raise NotFound(f"no follow-up {followup_id}")
    scoping.require_reading(
        queries.actor(db(), caller()), task["department"], f"follow-up {followup_id}"
    )
    return task


@blp.post("/<uuid:followup_id>/attempts")
@requires(*CALLERS)
@blp.arguments(AttemptIn)
@blp.response(201, FollowupOut)
def record_attempt(body: dict[str, Any], followup_id: uuid.UUID) -> Any:
    """A call attempt. Reached: say whether it is solved (satisfaction and comment optional);
    the outcome goes out as `followup.completed`. After the configured number of failed
    attempts (default 3) the task ends unreachable. Whoever resolved the case may not record
    its call (403). `Location`: the follow-up."""
    step = reported_step(body)
    with db().transaction() as tx:
        followups.record_attempt(tx, followup_id, body, step)
    followup = queries.get_followup(db(), followup_id)
    return created(followup, "followups.get_followup", followup_id=followup_id)


class DoNotCallIn(StrictSchema):
    customer_id = fields.Str(
        required=True,
        # what `/do-not-call/{customer_id}` can address: no '/', not a dot segment
        validate=validate.Regexp(r"^(?!\.\.?$)[^/]{1,64}$", error="1-64 characters, no '/'"),
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
        added = followups.add_do_not_call(tx, body["customer_id"], caller().subject, clock.now())
    listed = queries.on_do_not_call(db(), body["customer_id"])
    if not added:
        return listed, 200
    return created(listed, "do_not_call.get_do_not_call", customer_id=body["customer_id"])


@dnc.get("/<customer_id>")
@requires(*READERS)
@dnc.response(200, DoNotCallOut)
@etag
def get_do_not_call(customer_id: str) -> dict[str, Any]:
    listed = queries.on_do_not_call(db(), customer_id)
    if listed is None:
        raise NotFound(f"customer {customer_id} is not on the do-not-call list")
    return listed


@dnc.delete("/<customer_id>")
@requires(*LIFTERS)
@dnc.response(204)
@etag
def remove_do_not_call(customer_id: str) -> None:
    """The customer may be called again (the change is kept in the list's history). A
    supervisor, or the customer's own request through a channel system: not an agent.
    `If-Match`: the ETag of its GET."""
    with db().transaction() as tx:
        check_if_match(lambda: followups.lock_do_not_call(tx, customer_id))
        followups.remove_do_not_call(tx, customer_id, caller().subject, clock.now())
