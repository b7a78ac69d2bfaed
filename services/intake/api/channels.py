"""`/channels`: what the call-centre system and the mail gateway send in.

`POST /channels/hotline/calls` takes a call as JSON; `POST /channels/email` takes the raw
message (`message/rfc822`) as the gateway received it. Neither answer, error or log line
repeats the caller's number or the sender's address.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.exceptions import BadRequest

from services.intake import queries
from services.intake.commands import channels
from services.intake.domain import email_message, masking
from services.intake.domain.cases import receipt_problem
from services.intake.domain.vault import Vault
from shared import clock, idempotency
from shared.errors import NotFound
from shared.steps import step_of
from shared.web import (
    StrictSchema,
    caller,
    created,
    error_body,
    request_body,
    requires,
    service_db,
    takes_body_up_to,
)

blp = Blueprint(
    "channels", __name__, url_prefix="/channels", description="Hotline calls and inbound e-mail"
)

CALL_ROLES = ("system", "agent")  # admin always passes `requires`
EMAIL_ROLES = ("system",)
RFC822 = "message/rfc822"
MAX_EMAIL_BYTES = 10 * 1024 * 1024
_INTERNATIONAL = ("+86", "0086")


_db = service_db


def _vault() -> Vault:
    return current_app.extensions["cs"]["vault"]


class CallerNumber(fields.String):
    """Digits only; a `+86`/`0086` prefix from the switch is dropped. Errors never echo it."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs).strip()
        for prefix in _INTERNATIONAL:
            if raw.startswith(prefix):
                raw = raw[len(prefix) :]
                break
        normal = masking.normalise_phone(raw)
        if normal is None:
            raise ValidationError(masking.PHONE_PROBLEM)
        return normal


class CallIn(StrictSchema):
    caller_number = CallerNumber(
        required=True,
        metadata={"description": "the customer's number: caller (in) or number dialled (out)"},
    )
    agent_id = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    started_at = fields.AwareDateTime(required=True)
    ended_at = fields.AwareDateTime(load_default=None)
    direction = fields.Str(load_default="in", validate=validate.OneOf(("in", "out")))
    case_id = fields.UUID(
        load_default=None, metadata={"description": "put the call on this case's timeline"}
    )

    @validates_schema
    def times_make_sense(self, data: dict[str, Any], **_: object) -> None:
        problem = receipt_problem(data["started_at"], clock.now())
        if problem:
            raise ValidationError(problem, "started_at")
        ended = data.get("ended_at")
        if ended is not None:
            if ended < data["started_at"]:
                raise ValidationError("must not be before started_at", "ended_at")
            problem = receipt_problem(ended, clock.now())
            if problem:
                raise ValidationError(problem, "ended_at")


class CallOut(Schema):  # no number in it: the answer, its replay and GET are all this
    id = fields.UUID()
    customer_id = fields.UUID(allow_none=True)
    matched = fields.Bool(metadata={"description": "exactly one customer has this number"})
    candidates = fields.Int(metadata={"description": "how many customers have this number"})
    case_id = fields.UUID(allow_none=True)
    duration_s = fields.Int(allow_none=True)


class EmailQuery(StrictSchema):
    occurred_at = fields.AwareDateTime(
        load_default=None,
        metadata={
            "description": "when the gateway took the message in, for a gateway handing over"
            " messages later (a queue after an outage, an archive): not in the future; the case"
            " is recorded then. Default now"
        },
    )


class EmailOut(Schema):
    id = fields.UUID(metadata={"description": "the case the message opened or joined"})
    case_no = fields.Str()
    joined = fields.Bool(metadata={"description": "added to an existing case (a reply)"})
    message_id = fields.Str()


_CALL_OUT = CallOut()
_EMAIL_OUT = EmailOut()


@blp.post("/hotline/calls")
@requires(*CALL_ROLES)
@blp.arguments(CallIn)
@blp.response(201, _CALL_OUT)
@idempotency.keyed
def record_call(body: dict[str, Any]) -> Any:
    """A call the call-centre system handled; its number is matched to a customer. Safe to
    retry with an `Idempotency-Key`."""
    with _db().transaction() as tx:
        if (earlier := idempotency.replay(tx)) is not None:
            return earlier
        call = channels.record_call(tx, _vault(), body, caller().subject)
        answer = created(call, "channels.get_call", call_id=call["id"])
        return idempotency.remember(tx, answer, _CALL_OUT)


@blp.get("/hotline/calls/<uuid:call_id>")
@requires(*CALL_ROLES, "supervisor")
@blp.response(200, _CALL_OUT)
def get_call(call_id: uuid.UUID) -> dict[str, Any]:
    """A call recorded before: whom it matched, its case, how long it took."""
    call = queries.get_call(_db(), call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call


@blp.post("/email")
@takes_body_up_to(MAX_EMAIL_BYTES)
@requires(*EMAIL_ROLES)
@blp.arguments(EmailQuery, location="query")
@blp.doc(
    requestBody={
        "required": True,
        "description": f"the raw message, at most {MAX_EMAIL_BYTES} bytes",
        "content": {RFC822: {"schema": {"type": "string", "format": "binary"}}},
    }
)
@blp.response(201, _EMAIL_OUT, description="a new case, or a reply added to its case")
@blp.alt_response(200, schema=_EMAIL_OUT, description="this Message-ID was received before")
@idempotency.keyed
def receive_email(query: dict[str, Any]) -> Any:
    """An e-mail forwarded by the mail gateway: opens a case, or joins the case it replies to
    (`Location`: that case). Safe to retry with an `Idempotency-Key`. A gateway handing a
    message over later says when it took it in (`?occurred_at=`)."""
    step = step_of(caller(), clock.now(), query["occurred_at"])
    if request.mimetype != RFC822:
        return error_body(415, f"send the raw message with Content-Type {RFC822}")
    # 413 beyond MAX_EMAIL_BYTES, before a byte is read when Content-Length says so
    raw = request_body()
    try:
        parsed = email_message.parse(raw)
    except email_message.EmailParseError as e:
        # a 4xx: the gateway does not send this message again
        raise BadRequest(f"not a usable RFC 822 message: {e}") from None
    with _db().transaction() as tx:
        if (earlier := idempotency.replay(tx, raw)) is not None:
            return earlier
        answer, new = channels.receive_email(
            tx, _vault(), parsed, step.by, step.at if step.reported else None
        )
        if new:
            return idempotency.remember(
                tx, created(answer, "cases.get_case", case_id=answer["id"]), _EMAIL_OUT
            )
        return idempotency.remember(tx, (answer, 200), _EMAIL_OUT)
