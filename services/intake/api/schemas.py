"""Request and response schemas of intake's case API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.intake.domain.cases import (
    CATEGORIES,
    CHANNELS,
    IDENTITY_METHODS,
    INTERACTION_TYPES,
    KINDS,
    PRIORITIES,
)
from services.intake.domain.lifecycle import HAND_CLOSE_OUTCOMES
from shared.fast_schemas import AnswerSchema
from shared.limits import ETA_HORIZON
from shared.paging import page_field, page_of, per_page_field
from shared.web import ReportedStepSchema, StrictSchema

_reason = fields.Str(required=True, validate=validate.Length(min=1, max=500))


class CaseIn(ReportedStepSchema):
    kind = fields.Str(required=True, validate=validate.OneOf(KINDS))
    channel = fields.Str(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.Str(required=True, validate=validate.OneOf(list(CATEGORIES)))
    region = fields.Str(required=True, validate=validate.Length(min=1, max=80))
    customer_ref = fields.Str(validate=validate.Length(min=1, max=64))
    customer_id = fields.UUID()
    content = fields.Str(required=True, validate=validate.Length(min=1, max=20000))
    identity_verified = fields.Bool(required=True)
    identity_method = fields.Str(validate=validate.OneOf(IDENTITY_METHODS), load_default=None)
    priority = fields.Str(load_default="normal", validate=validate.OneOf(PRIORITIES))
    received_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "when the case arrived; default now"}
    )

    @validates_schema
    def names_a_customer(self, data: dict, **_: object) -> None:
        if not data.get("customer_ref") and not data.get("customer_id"):
            raise ValidationError("give customer_ref or customer_id", "customer_ref")


class IncidentBriefOut(AnswerSchema):
    id = fields.Str()
    eta = fields.DateTime(allow_none=True)
    message = fields.Str(metadata={"description": "the incident's public message"})


class CaseOut(AnswerSchema):
    id = fields.UUID()
    case_no = fields.Str()
    kind = fields.Str()
    channel = fields.Str()
    category = fields.Str()
    region = fields.Str()
    priority = fields.Str()
    customer_ref = fields.Str()
    customer_id = fields.UUID(allow_none=True)
    content = fields.Str()
    identity_verified = fields.Bool()
    identity_method = fields.Str(allow_none=True)
    state = fields.Str()
    agent_id = fields.Str(allow_none=True)
    received_at = fields.DateTime()
    opened_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True, metadata={"description": "the customer deadline"})
    due_provisional = fields.Bool(allow_none=True)
    department = fields.Str(allow_none=True)
    assignee_id = fields.Str(allow_none=True)
    eta = fields.DateTime(allow_none=True)
    first_contact = fields.Bool(allow_none=True)
    resolution = fields.Str(allow_none=True)
    resolved_by = fields.Str(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    reopen_count = fields.Int()
    incident_id = fields.Str(
        allow_none=True, metadata={"description": "the network incident the case is linked to"}
    )
    incident = fields.Nested(
        IncidentBriefOut,
        allow_none=True,
        metadata={
            "description": "in the answer to POST /cases only: the open network incident the"
            " case was linked to, to tell the caller (its ETA and message)"
        },
    )
    masked = fields.Bool(
        metadata={
            "description": "phone or ID numbers or e-mail addresses in content or resolution are"
            " masked; ?reveal=true (pii:read, X-Access-Reason) shows them"
        }
    )


class CaseListQuery(StrictSchema):
    state = fields.Str(
        validate=validate.OneOf(
            ("open", "transferred", "in_department", "resolved", "closed", "reopened")
        )
    )
    kind = fields.Str(validate=validate.OneOf(KINDS))
    channel = fields.Str(validate=validate.OneOf(CHANNELS))
    category = fields.Str(validate=validate.OneOf(list(CATEGORIES)))
    region = fields.Str(validate=validate.Length(min=1, max=80))
    department = fields.Str(
        validate=validate.Length(min=1, max=40),
        metadata={"description": "the department that has or had it (department staff: theirs)"},
    )
    customer_id = fields.UUID()
    received_from = fields.Date(metadata={"description": "first day of receipt (Asia/Shanghai)"})
    received_to = fields.Date(metadata={"description": "last day of receipt, included"})
    overdue = fields.Bool()
    page = page_field()
    per_page = per_page_field()


CasePageOut = page_of(CaseOut)


class TransferIn(ReportedStepSchema):
    reason = _reason
    requested_department = fields.Str(load_default=None, validate=validate.Length(min=1, max=40))


class ResolveIn(ReportedStepSchema):
    resolution = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    first_contact = fields.Bool(load_default=False)


class CloseIn(StrictSchema):
    outcome = fields.Str(
        required=True,
        validate=validate.OneOf(("confirmed", *HAND_CLOSE_OUTCOMES)),
        metadata={
            "description": "withdrawn, duplicate or not_followed_up; confirmed is refused (403):"
            " only the follow-up call confirms a case"
        },
    )


class ReopenIn(StrictSchema):
    reason = _reason


class RevealQuery(StrictSchema):
    reveal = fields.Bool(
        load_default=False,
        metadata={"description": "show the text in clear: needs pii:read and X-Access-Reason"},
    )


class EtaIn(StrictSchema):
    eta = fields.AwareDateTime(
        required=True,
        metadata={"description": f"ahead of now, by at most {ETA_HORIZON.days} days"},
    )
    note = fields.Str(load_default=None, validate=validate.Length(max=2000))


class InteractionIn(ReportedStepSchema):
    type = fields.Str(required=True, validate=validate.OneOf(INTERACTION_TYPES))
    text = fields.Str(load_default=None, validate=validate.Length(max=20000))


class TimelineEntryOut(Schema):
    id = fields.Int()
    at = fields.DateTime()
    type = fields.Str()
    by = fields.Str()
    detail = fields.Dict()


class TimelineOut(Schema):
    case_id = fields.UUID()
    items = fields.List(fields.Nested(TimelineEntryOut))


class AcknowledgementOut(Schema):
    case_no = fields.Str()
    template = fields.Str()
    text = fields.Str()
    due_at = fields.DateTime(allow_none=True)
    at = fields.DateTime()


class WrittenOut(Schema):
    case_id = fields.UUID()
    type = fields.Str()
