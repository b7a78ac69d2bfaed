"""`/incidents`: network incidents, declared or suspected from a burst, confirmed or dismissed,
updated and resolved by network operations (role supervisor), read by the front line and the
departments."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.routing import queries
from services.routing.api.departments import db
from services.routing.commands import incidents
from services.routing.domain.incidents import CAUSE_MAX, MESSAGE_MAX, RESOLUTION_MAX
from shared import clock
from shared.errors import Invalid
from shared.limits import ETA_HORIZON, eta_problem
from shared.paging import page_field, page_of, per_page_field
from shared.web import MaskedText, StrictSchema, caller, created, requires

blp = Blueprint("incidents", __name__, url_prefix="/incidents", description="Network incidents")

OPERATORS = ("supervisor",)  # network operations; and admin, who passes every check
READERS = ("agent", "department_staff", "department_head", "supervisor", "system")
LISTED_STATES = ("suspected", "open", "dismissed", "resolved")

_code = fields.Str(validate=validate.Length(min=1, max=80))
_message = {
    "validate": validate.Length(min=1, max=MESSAGE_MAX),
    "metadata": {
        "description": f"the public message told to every linked customer, at most"
        f" {MESSAGE_MAX} characters"
    },
}
_eta = {
    "metadata": {
        "description": f"estimated end of the outage: ahead of now, by at most"
        f" {ETA_HORIZON.days} days"
    }
}


def _checked_eta(body: dict[str, Any]) -> None:
    eta = body.get("eta")
    problem = eta is not None and eta_problem(eta, clock.now())
    if problem:
        raise Invalid("eta", problem)


class DeclareIn(StrictSchema):
    regions = fields.List(_code, required=True, validate=validate.Length(min=1, max=200))
    categories = fields.List(_code, required=True, validate=validate.Length(min=1, max=50))
    started_at = fields.AwareDateTime(required=True)
    eta = fields.AwareDateTime(load_default=None, allow_none=True, **_eta)
    message = MaskedText(required=True, **_message)


class ConfirmIn(StrictSchema):
    message = MaskedText(required=True, **_message)
    eta = fields.AwareDateTime(load_default=None, allow_none=True, **_eta)


class DismissIn(StrictSchema):
    reason = MaskedText(load_default=None, validate=validate.Length(min=1, max=500))


class UpdateIn(StrictSchema):
    eta = fields.AwareDateTime(load_default=None, **_eta)
    message = MaskedText(load_default=None, **_message)


class ResolveIn(StrictSchema):
    cause = fields.Str(
        required=True,
        validate=validate.Regexp(
            rf"^[A-Za-z0-9_.-]{{1,{CAUSE_MAX}}}$",
            error=f"a code: 1-{CAUSE_MAX} letters, digits, '_', '.', '-'",
        ),
    )
    resolution = MaskedText(required=True, validate=validate.Length(min=1, max=RESOLUTION_MAX))


class ChangeOut(Schema):
    kind = fields.Str()
    at = fields.DateTime()
    by = fields.Str()
    fields_ = fields.Dict(data_key="fields", attribute="fields")


class IncidentOut(Schema):
    id = fields.Str()
    state = fields.Str(metadata={"description": ", ".join(LISTED_STATES)})
    regions = fields.List(fields.Str())
    categories = fields.List(fields.Str())
    started_at = fields.DateTime()
    eta = fields.DateTime(allow_none=True)
    message = fields.Str(allow_none=True)
    cause = fields.Str(allow_none=True)
    resolution = fields.Str(allow_none=True)
    declared_by = fields.Str(allow_none=True)
    declared_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    evidence = fields.Dict(
        allow_none=True,
        metadata={
            "description": "a suspicion's burst: window, count, baseline, threshold, case ids"
        },
    )
    linked_cases = fields.Int(metadata={"description": "how many cases are linked to it"})
    eta_past_deadline = fields.Bool(
        metadata={"description": "the ETA lies past a linked case's deadline still to come"}
    )
    first_deadline_before_eta = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class IncidentDetailOut(IncidentOut):
    history = fields.List(fields.Nested(ChangeOut))


class IncidentListQuery(StrictSchema):
    state = fields.Str(validate=validate.OneOf(LISTED_STATES))
    page = page_field()
    per_page = per_page_field()


IncidentPageOut = page_of(IncidentOut)


@blp.post("")
@requires(*OPERATORS)
@blp.arguments(DeclareIn)
@blp.response(201, IncidentDetailOut)
def declare_incident(body: dict[str, Any]) -> Any:
    """An outage declared by network operations: open at once; the open cases of its regions
    and categories opened since it started are linked to it."""
    _checked_eta(body)
    with db().transaction() as tx:
        incident = incidents.declare(tx, by=caller().subject, **body)
    return created(incident, "incidents.get_incident", incident_id=incident["id"])


@blp.get("")
@requires(*READERS)
@blp.arguments(IncidentListQuery, location="query")
@blp.response(200, IncidentPageOut)
def list_incidents(query: dict[str, Any]) -> dict[str, Any]:
    """Newest first, with each one's linked cases' count."""
    with db().transaction() as tx:
        return queries.incidents_page(tx, query.get("state"), query["page"], query["per_page"])


@blp.get("/<incident_id>")
@requires(*READERS)
@blp.response(200, IncidentDetailOut)
def get_incident(incident_id: str) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.get_incident(tx, incident_id)


@blp.post("/<incident_id>/confirm")
@requires(*OPERATORS)
@blp.arguments(ConfirmIn)
@blp.response(200, IncidentDetailOut)
def confirm_incident(body: dict[str, Any], incident_id: str) -> dict[str, Any]:
    """A suspicion is an outage: it opens and links its burst (409 unless suspected)."""
    _checked_eta(body)
    with db().transaction() as tx:
        return incidents.confirm(tx, incident_id, by=caller().subject, **body)


@blp.post("/<incident_id>/dismiss")
@requires(*OPERATORS)
@blp.arguments(DismissIn)
@blp.response(200, IncidentDetailOut)
def dismiss_incident(body: dict[str, Any], incident_id: str) -> dict[str, Any]:
    """No outage behind the burst (409 unless suspected)."""
    with db().transaction() as tx:
        return incidents.dismiss(tx, incident_id, by=caller().subject, **body)


@blp.post("/<incident_id>/updates")
@requires(*OPERATORS)
@blp.arguments(UpdateIn)
@blp.response(200, IncidentDetailOut)
def update_incident(body: dict[str, Any], incident_id: str) -> dict[str, Any]:
    """A new ETA and/or message for every linked customer (409 unless open)."""
    if body.get("eta") is None and body.get("message") is None:
        raise Invalid("eta", "an update needs a new eta or a new message")
    _checked_eta(body)
    with db().transaction() as tx:
        return incidents.update(tx, incident_id, by=caller().subject, **body)


@blp.post("/<incident_id>/resolve")
@requires(*OPERATORS)
@blp.arguments(ResolveIn)
@blp.response(200, IncidentDetailOut)
def resolve_incident(body: dict[str, Any], incident_id: str) -> dict[str, Any]:
    """Once: the cause code and the resolution every linked case is resolved with (409
    unless open)."""
    with db().transaction() as tx:
        return incidents.resolve(tx, incident_id, by=caller().subject, **body)
