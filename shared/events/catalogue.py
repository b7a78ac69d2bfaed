"""Catalogue v1: one marshmallow schema per event type and version, used by producer and consumer.

No personal data in any of them: customers travel as an opaque `customer_id`, never a name,
phone number, ID number, address or text the customer typed. The one exception is
`case.requested`, which carries what a customer wrote and so travels on `cs.inbound`, never on
`cs.events`. Additive changes keep a version; a breaking change adds a version here and
consumers accept both while the old one is deprecated. docs/asyncapi.yaml mirrors this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.config import OUTSIDE_SYSTEMS
from shared.limits import storable_problem
from shared.personal_data import holds_personal_data

EVENTS_EXCHANGE = "cs.events"
INBOUND_EXCHANGE = "cs.inbound"

KINDS = ("consultation", "complaint")
CHANNELS = ("hotline", "email", "online")
PRIORITIES = ("low", "normal", "high", "urgent")
CLOCKS = ("customer", "department")
FOLLOWUP_OUTCOMES = ("confirmed", "unresolved", "unreachable")


class InvalidEvent(Exception):
    """An event that does not match its envelope or its schema; the reason names the fields."""


class EventData(Schema):
    class Meta:
        # a consumer tolerates fields added by a newer producer of the same version
        unknown = EXCLUDE


def _id(**kw: object) -> fields.Str:
    return fields.Str(required=True, validate=validate.Length(min=1, max=64), **kw)


def _one_of(choices: tuple[str, ...], **kw: object) -> fields.Str:
    return fields.Str(validate=validate.OneOf(choices), **kw)


def _storable(value: datetime) -> None:
    problem = storable_problem(value)
    if problem:
        raise ValidationError(problem)


def _when(**kw: object) -> fields.AwareDateTime:
    """A time with its offset, within the years anything is stored for."""
    return fields.AwareDateTime(validate=_storable, **kw)  # type: ignore[arg-type]


def _code(**kw: object) -> fields.Str:
    """A short machine code: category, region, department, outcome."""
    kw.setdefault("validate", validate.Length(max=80))
    return fields.Str(**kw)  # type: ignore[arg-type]


def _who(**kw: object) -> fields.Str:
    """A staff member's or a system's id."""
    return fields.Str(validate=validate.Length(max=64), **kw)  # type: ignore[arg-type]


FREE_TEXT_LIMIT = 200


def _no_personal_data(value: str) -> None:
    if holds_personal_data(value):
        raise ValidationError("holds a phone or ID number or an e-mail address: mask it first")


def _staff_words(**kw: object) -> fields.Str:
    """What staff wrote (a reason), bounded and masked by the producer
    (shared.personal_data.mask_text): a consumer refuses one that still holds personal data."""
    return fields.Str(
        validate=[validate.Length(max=FREE_TEXT_LIMIT), _no_personal_data],
        metadata={
            "description": f"staff's words, at most {FREE_TEXT_LIMIT} characters; phone and ID"
            " numbers and e-mail addresses masked"
        },
        **kw,  # type: ignore[arg-type]
    )


class CaseRequestedV1(EventData):
    channel = _one_of(CHANNELS, required=True)
    kind = _one_of(KINDS, required=True)
    category = _code(required=True, validate=validate.Length(min=1, max=40))
    region = _code(required=True, validate=validate.Length(min=1, max=80))
    customer_ref = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    content = fields.Str(required=True, validate=validate.Length(min=1, max=20000))
    priority = _one_of(PRIORITIES, load_default="normal")
    received_at = _when(load_default=None)
    external_ref = fields.Str(load_default=None, validate=validate.Length(max=128))


class CaseOpenedV1(EventData):
    case_id = _id()
    case_no = _id()
    kind = _one_of(KINDS, required=True)
    channel = _one_of(CHANNELS, required=True)
    category = _code(required=True)
    region = _code(required=True)
    priority = _one_of(PRIORITIES, required=True)
    customer_id = _who(required=True, allow_none=True)
    identity_verified = fields.Bool(required=True)
    agent_id = _who(required=True, allow_none=True)
    opened_at = _when(required=True)
    # additive: when the case reached the operator (clocks count from it); absent = opened_at
    received_at = _when(load_default=None, allow_none=True)


class CaseTransferredV1(EventData):
    case_id = _id()
    reason = _staff_words(required=True)
    requested_department = _code(load_default=None, allow_none=True)
    agent_id = _who(required=True, allow_none=True)
    transferred_at = _when(required=True)


class CaseRoutedV1(EventData):
    case_id = _id()
    department = _code(required=True)
    assignee_id = _who(required=True, allow_none=True)
    due_at = _when(required=True)
    routed_at = _when(required=True)


class CaseProgressedV1(EventData):
    case_id = _id()
    eta = _when(load_default=None, allow_none=True)
    by = _who(required=True)
    at = _when(required=True)


class CaseHandledV1(EventData):
    case_id = _id()
    department = _code(required=True)
    handled_by = _who(required=True)
    resolution_code = _code(required=True)
    handled_at = _when(required=True)


class CaseResolvedV1(EventData):
    case_id = _id()
    kind = _one_of(KINDS, required=True)
    category = _code(required=True)
    department = _code(load_default=None, allow_none=True)
    resolved_by = _who(required=True)
    first_contact = fields.Bool(required=True)
    opened_at = _when(required=True)
    resolved_at = _when(required=True)


class CaseReopenedV1(EventData):
    case_id = _id()
    reason = _staff_words(required=True)
    reopened_at = _when(required=True)


class CaseClosedV1(EventData):
    case_id = _id()
    closed_at = _when(required=True)
    outcome = _code(required=True)


class CaseAcknowledgedV1(EventData):
    case_id = _id()
    case_no = _id()
    kind = _one_of(KINDS, required=True)
    template = _code(required=True)
    due_at = _when(load_default=None, allow_none=True)


class SlaStartedV1(EventData):
    case_id = _id()
    clock = _one_of(CLOCKS, required=True)
    policy_version = fields.Int(required=True)
    due_at = _when(required=True)
    provisional = fields.Bool(required=True)
    # additive: when the clock started counting (receipt, routing, reopening); absent = unknown
    started_at = _when(load_default=None, allow_none=True)


class SlaWarningV1(EventData):
    case_id = _id()
    clock = _one_of(CLOCKS, required=True)
    due_at = _when(required=True)
    elapsed_ratio = fields.Float(
        required=True,
        metadata={
            "description": "share of the clock's working time used (business hours of working"
            " days, paused time not counted), 0 to 1"
        },
    )


class SlaBreachedV1(EventData):
    case_id = _id()
    clock = _one_of(CLOCKS, required=True)
    department = _code(load_default=None, allow_none=True)
    assignee_id = _who(load_default=None, allow_none=True)
    due_at = _when(required=True)
    breached_at = _when(required=True)


class SlaMetV1(EventData):
    case_id = _id()
    clock = _one_of(CLOCKS, required=True)
    department = _code(load_default=None, allow_none=True)
    assignee_id = _who(load_default=None, allow_none=True)
    due_at = _when(required=True)
    completed_at = _when(required=True)


class FollowupCompletedV1(EventData):
    followup_id = _id()
    case_id = _id()
    outcome = _one_of(FOLLOWUP_OUTCOMES, required=True)
    satisfaction = fields.Int(allow_none=True, validate=validate.Range(1, 5), required=True)
    agent_id = _who(required=True)
    department = _code(load_default=None, allow_none=True)
    completed_at = _when(required=True)


class FeedbackReceivedV1(EventData):
    campaign_id = _id()
    topic = _code(required=True)
    department = _code(required=True)
    received_at = _when(required=True)


class ImprovementV1(EventData):
    improvement_id = _id()
    department = _code(required=True)
    source = _code(required=True)
    due_on = fields.Date(load_default=None, allow_none=True)


class StaffUpsertedV1(EventData):
    staff_id = _id()
    # a staff member's working name: internal staff data, not customer personal data
    display_name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    role = _code(required=True)
    department = _code(load_default=None, allow_none=True)
    active = fields.Bool(required=True)


class TrainingCompletedV1(EventData):
    staff_id = _id()
    course_code = _code(required=True)
    score = fields.Float(required=True)
    passed = fields.Bool(required=True)
    completed_at = _when(required=True)


class AwardGrantedV1(EventData):
    staff_id = _id()
    period = _code(required=True)
    award_code = _code(required=True)
    granted_at = _when(required=True)


def exchange_of(producer: str) -> str:
    """Services publish on `cs.events`; outside systems only on `cs.inbound`."""
    return INBOUND_EXCHANGE if producer in OUTSIDE_SYSTEMS else EVENTS_EXCHANGE


@dataclass(frozen=True)
class EventType:
    """One event type of the catalogue: its schemas by version and who may produce it.

    `producers` are broker users (a service, or an outside system of `OUTSIDE_SYSTEMS`); a
    consumer acts only on an event whose broker-stamped `user_id` is one of them.
    """

    name: str
    versions: dict[int, type[EventData]]
    producers: tuple[str, ...]

    @property
    def current(self) -> int:
        return max(self.versions)

    @property
    def exchanges(self) -> tuple[str, ...]:
        """The exchanges it travels on: one per kind of producer."""
        return tuple(dict.fromkeys(exchange_of(p) for p in self.producers))

    @property
    def exchange(self) -> str:
        """Where the services' own copies travel (`cs.inbound` for a type only outsiders send)."""
        return self.exchanges[0] if len(self.exchanges) == 1 else EVENTS_EXCHANGE

    def schema_id(self, version: int | None = None) -> str:
        return f"urn:cs:schema:{self.name}:v{version or self.current}"

    def version_of(self, schema_id: str | None) -> int:
        """The version a `dataschema` names; an absent one means the current version."""
        if not schema_id:
            return self.current
        if not isinstance(schema_id, str):
            raise InvalidEvent(f"dataschema must be a string, not {type(schema_id).__name__}")
        prefix = f"urn:cs:schema:{self.name}:v"
        if schema_id.startswith(prefix) and schema_id[len(prefix) :].isdigit():
            version = int(schema_id[len(prefix) :])
            if version in self.versions:
                return version
        raise InvalidEvent(f"unknown dataschema {schema_id!r} for {self.name}")

    def load(self, data: object, version: int | None = None) -> dict:
        """Validated data as Python values (datetimes, ...); raises InvalidEvent naming fields."""
        schema = _instance(self.versions[version or self.current])
        try:
            return schema.load(data)  # type: ignore[arg-type]
        except ValidationError as e:
            raise InvalidEvent(f"{self.name}: {e.messages}") from e

    def dump(self, data: dict) -> dict:
        """JSON-ready data in the current version; raises InvalidEvent when it does not validate.

        orjson turns the values into JSON (datetimes as RFC 3339, UUIDs as strings) far faster
        than a marshmallow dump; the schema then checks the result in one pass.
        """
        schema = _instance(self.versions[self.current])
        try:
            dumped = orjson.loads(orjson.dumps(data))
        except TypeError as e:
            raise InvalidEvent(f"{self.name}: not serialisable as JSON: {e}") from e
        errors = schema.validate(dumped)
        if errors:
            raise InvalidEvent(f"{self.name}: {errors}")
        return {k: v for k, v in dumped.items() if k in schema.fields}


_schemas: dict[type[EventData], EventData] = {}


def _instance(cls: type[EventData]) -> EventData:
    if cls not in _schemas:
        _schemas[cls] = cls()
    return _schemas[cls]


CATALOGUE: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType("case.requested", {1: CaseRequestedV1}, ("portal",)),
        EventType("case.opened", {1: CaseOpenedV1}, ("intake",)),
        EventType("case.transferred", {1: CaseTransferredV1}, ("intake",)),
        EventType("case.routed", {1: CaseRoutedV1}, ("routing",)),
        EventType("case.progressed", {1: CaseProgressedV1}, ("routing",)),
        EventType("case.handled", {1: CaseHandledV1}, ("routing",)),
        EventType("case.resolved", {1: CaseResolvedV1}, ("intake",)),
        EventType("case.reopened", {1: CaseReopenedV1}, ("intake",)),
        EventType("case.closed", {1: CaseClosedV1}, ("intake",)),
        EventType("case.acknowledged", {1: CaseAcknowledgedV1}, ("intake",)),
        EventType("sla.started", {1: SlaStartedV1}, ("routing",)),
        EventType("sla.warning", {1: SlaWarningV1}, ("routing",)),
        EventType("sla.breached", {1: SlaBreachedV1}, ("routing",)),
        EventType("sla.met", {1: SlaMetV1}, ("routing",)),
        EventType("followup.completed", {1: FollowupCompletedV1}, ("followup",)),
        EventType("feedback.received", {1: FeedbackReceivedV1}, ("followup",)),
        EventType("improvement.created", {1: ImprovementV1}, ("followup",)),
        EventType("improvement.closed", {1: ImprovementV1}, ("followup",)),
        # HR sends its changes to routing, which owns the directory and announces them
        EventType("staff.upserted", {1: StaffUpsertedV1}, ("routing", "hr")),
        EventType("training.completed", {1: TrainingCompletedV1}, ("training",)),
        EventType("award.granted", {1: AwardGrantedV1}, ("training",)),
    )
}


def produced_by(producer: str) -> tuple[str, ...]:
    """The types a broker user may publish (its topic permissions)."""
    return tuple(t.name for t in CATALOGUE.values() if producer in t.producers)


def event_type(name: str) -> EventType:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise InvalidEvent(f"unknown event type {name!r}") from None
