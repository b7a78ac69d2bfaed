"""Request and response schemas of intake's HTTP API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.intake.domain.cases import CATEGORIES, CHANNELS, KINDS, PRIORITIES
from shared.web import StrictSchema


class CaseIn(StrictSchema):
    kind = fields.Str(required=True, validate=validate.OneOf(KINDS))
    channel = fields.Str(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.Str(required=True, validate=validate.OneOf(list(CATEGORIES)))
    region = fields.Str(required=True, validate=validate.Length(min=1, max=80))
    customer_ref = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    content = fields.Str(required=True, validate=validate.Length(min=1, max=20000))
    identity_verified = fields.Bool(required=True)
    priority = fields.Str(load_default="normal", validate=validate.OneOf(PRIORITIES))
    received_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "when the case arrived; default now"}
    )


class CaseOut(Schema):
    id = fields.UUID()
    case_no = fields.Str()
    kind = fields.Str()
    channel = fields.Str()
    category = fields.Str()
    region = fields.Str()
    priority = fields.Str()
    customer_ref = fields.Str()
    content = fields.Str()
    identity_verified = fields.Bool()
    state = fields.Str()
    agent_id = fields.Str(allow_none=True)
    received_at = fields.DateTime()
    opened_at = fields.DateTime()
