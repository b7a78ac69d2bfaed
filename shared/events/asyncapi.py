"""The AsyncAPI 3.0 document of the event contract, generated from the catalogue.

Payload schemas come from the catalogue's marshmallow schemas (through apispec), consumers from
each service's `EVENT_HANDLERS`, so the document cannot drift from the code. Producers, planned
consumers and examples live in the tables below. `cs asyncapi --output docs/asyncapi.yaml`
writes the committed copy; a unit test fails when it differs from `build_document()`, and
another runs the official parser (`@asyncapi/parser`) over it.

Shape: one channel per event type (its address is the routing key), each with a `send`
operation (who publishes it) and a `receive` operation (who consumes it); every version of a
type's data is one message in `components.messages`, listed on its channel.
"""

from __future__ import annotations

import importlib
import uuid
from typing import Any, NamedTuple

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter

from shared.broker import DELIVERY_LIMIT
from shared.config import SERVICES
from shared.events.catalogue import CATALOGUE, EVENTS_EXCHANGE, INBOUND_EXCHANGE, exchange_of
from shared.events.envelope import _REQUIRED as ENVELOPE_REQUIRED
from shared.events.envelope import CONTENT_TYPE, FIELD_LIMITS, SPECVERSION

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
TITLE = "Customer-service platform events"
MESSAGE_CONTENT_TYPE = "application/cloudevents+json"  # the AMQP content_type the relay sets
AMQP_BINDING_VERSION = "0.3.0"


class Flow(NamedTuple):
    """What an event type means and who consumes it, per the architecture; who may produce it
    is the catalogue's (`EventType.producers`: the broker users it accepts it from)."""

    summary: str
    consumers: tuple[str, ...]  # services (implemented or planned) and external parties


FLOWS: dict[str, Flow] = {
    "case.requested": Flow(
        "A customer's request as an outside channel received it (the one event with "
        "personal data).",
        ("intake",),
    ),
    "case.opened": Flow(
        "A consultation or complaint was recorded.",
        ("routing", "training"),
    ),
    "case.transferred": Flow(
        "The front line hands a case over to a department.",
        ("routing",),
    ),
    "case.routed": Flow(
        "A case was assigned to a department and an assignee.",
        ("intake", "training"),
    ),
    "case.progressed": Flow(
        "A department reported progress on a case.",
        ("intake",),
    ),
    "case.handled": Flow(
        "A department finished its work on a case.",
        ("intake",),
    ),
    "case.resolved": Flow(
        "A case was resolved.",
        ("routing", "followup", "training"),
    ),
    "case.reopened": Flow(
        "A resolved case was reopened.",
        ("routing", "followup"),
    ),
    "case.closed": Flow(
        "A case was closed for good.",
        ("routing", "followup"),
    ),
    "case.acknowledged": Flow(
        "The customer is to be told that the case was received.",
        ("SMS/e-mail gateway (external)",),
    ),
    "sla.started": Flow(
        "A deadline clock started for a case.",
        ("intake",),
    ),
    "sla.warning": Flow(
        "A clock is close to its deadline.",
        ("intake", "training"),
    ),
    "sla.breached": Flow(
        "A clock passed its deadline.",
        ("intake", "followup", "training"),
    ),
    "sla.met": Flow(
        "A clock stopped before its deadline. It may follow an sla.breached of the same "
        "clock (case, clock, due_at) when a step reported late with its own time stopped "
        "the clock in time: the met is then the last word on that clock.",
        ("followup", "training"),
    ),
    "followup.completed": Flow(
        "A follow-up call on a resolved case was completed.",
        ("intake", "training"),
    ),
    "feedback.received": Flow(
        "A follow-up campaign reported feedback on a topic to a department.",
        ("routing",),
    ),
    "improvement.created": Flow(
        "An improvement action was opened for a department.",
        ("external systems",),
    ),
    "improvement.closed": Flow(
        "An improvement action was closed.",
        ("external systems",),
    ),
    "staff.upserted": Flow(
        "A staff member was created or changed.",
        ("intake", "training", "followup"),
    ),
    "training.completed": Flow(
        "A staff member completed a course.",
        ("external systems",),
    ),
    "award.granted": Flow(
        "A staff member received an award.",
        ("external systems",),
    ),
}


class Example(NamedTuple):
    """A fictitious event: envelope source and subject, and its data."""

    source: str
    subject: str
    data: dict[str, Any]


_CASE = "3f9c2a4e-8b1d-4c6e-9a27-5d0e7b1f4c83"
_STAFF = "staff-0412"
_DEPT = "field_service"

EXAMPLES: dict[str, Example] = {
    "case.requested": Example(
        "/channels/online",
        "WEB-20260213-0007",
        {
            "channel": "online",
            "kind": "complaint",
            "category": "signal",
            "region": "Haidian",
            "customer_ref": "ACC-1001",
            "content": "The picture freezes on every HD channel since yesterday evening.",
            "priority": "normal",
            "received_at": "2026-02-13T01:58:00+00:00",
            "external_ref": "WEB-20260213-0007",
        },
    ),
    "case.opened": Example(
        "/intake",
        _CASE,
        {
            "case_id": _CASE,
            "case_no": "TS20260213-0042",
            "kind": "complaint",
            "channel": "online",
            "category": "signal",
            "region": "Haidian",
            "priority": "normal",
            "customer_id": None,
            "identity_verified": True,
            "agent_id": "agent-7",
            "opened_at": "2026-02-13T02:15:00+00:00",
            "received_at": "2026-02-13T01:58:00+00:00",
        },
    ),
    "case.transferred": Example(
        "/intake",
        _CASE,
        {
            "case_id": _CASE,
            "reason": "needs_field_visit",
            "requested_department": _DEPT,
            "agent_id": "agent-7",
            "transferred_at": "2026-02-13T02:20:00+00:00",
        },
    ),
    "case.routed": Example(
        "/routing",
        _CASE,
        {
            "case_id": _CASE,
            "department": _DEPT,
            "assignee_id": _STAFF,
            "due_at": "2026-02-17T10:00:00+00:00",
            "routed_at": "2026-02-13T02:21:00+00:00",
        },
    ),
    "case.progressed": Example(
        "/routing",
        _CASE,
        {
            "case_id": _CASE,
            "eta": "2026-02-14T06:00:00+00:00",
            "by": _STAFF,
            "at": "2026-02-13T05:40:00+00:00",
        },
    ),
    "case.handled": Example(
        "/routing",
        _CASE,
        {
            "case_id": _CASE,
            "department": _DEPT,
            "handled_by": _STAFF,
            "resolution_code": "amplifier_replaced",
            "handled_at": "2026-02-14T05:30:00+00:00",
        },
    ),
    "case.resolved": Example(
        "/intake",
        _CASE,
        {
            "case_id": _CASE,
            "kind": "complaint",
            "category": "signal",
            "department": _DEPT,
            "resolved_by": "agent-7",
            "first_contact": False,
            "opened_at": "2026-02-13T02:15:00+00:00",
            "resolved_at": "2026-02-14T06:10:00+00:00",
        },
    ),
    "case.reopened": Example(
        "/intake",
        _CASE,
        {"case_id": _CASE, "reason": "fault_recurred", "reopened_at": "2026-02-16T01:05:00+00:00"},
    ),
    "case.closed": Example(
        "/intake",
        _CASE,
        {"case_id": _CASE, "closed_at": "2026-02-20T09:00:00+00:00", "outcome": "resolved"},
    ),
    "case.acknowledged": Example(
        "/intake",
        _CASE,
        {
            "case_id": _CASE,
            "case_no": "TS20260213-0042",
            "kind": "complaint",
            "template": "complaint_received",
            "due_at": "2026-02-17T10:00:00+00:00",
        },
    ),
    "sla.started": Example(
        "/routing",
        _CASE,
        {
            "case_id": _CASE,
            "clock": "customer",
            "policy_version": 3,
            "due_at": "2026-02-17T10:00:00+00:00",
            "provisional": False,
            "started_at": "2026-02-13T02:00:00+00:00",
        },
    ),
    "sla.warning": Example(
        "/routing",
        _CASE,
        {
            "case_id": _CASE,
            "clock": "customer",
            "due_at": "2026-02-17T10:00:00+00:00",
            "elapsed_ratio": 0.8,
        },
    ),
    "sla.breached": Example(
        "/routing",
        _CASE,
        {
            "case_id": _CASE,
            "clock": "department",
            "department": _DEPT,
            "assignee_id": _STAFF,
            "due_at": "2026-02-16T10:00:00+00:00",
            "breached_at": "2026-02-16T10:00:05+00:00",
        },
    ),
    "sla.met": Example(
        "/routing",
        _CASE,
        {
            "case_id": _CASE,
            "clock": "customer",
            "department": _DEPT,
            "assignee_id": _STAFF,
            "due_at": "2026-02-17T10:00:00+00:00",
            "completed_at": "2026-02-14T06:10:00+00:00",
        },
    ),
    "followup.completed": Example(
        "/followup",
        _CASE,
        {
            "followup_id": "b7e4d2c1-6a3f-4e8b-9c5d-2f1a0e9b8d76",
            "case_id": _CASE,
            "outcome": "confirmed",
            "satisfaction": 4,
            "agent_id": "agent-12",
            "department": _DEPT,
            "completed_at": "2026-02-21T03:30:00+00:00",
        },
    ),
    "feedback.received": Example(
        "/followup",
        "campaign-2026-02",
        {
            "campaign_id": "campaign-2026-02",
            "topic": "installation_wait",
            "department": _DEPT,
            "received_at": "2026-02-28T08:00:00+00:00",
        },
    ),
    "improvement.created": Example(
        "/followup",
        "imp-0031",
        {
            "improvement_id": "imp-0031",
            "department": _DEPT,
            "source": "followup_feedback",
            "due_on": "2026-03-31",
        },
    ),
    "improvement.closed": Example(
        "/followup",
        "imp-0031",
        {
            "improvement_id": "imp-0031",
            "department": _DEPT,
            "source": "followup_feedback",
            "due_on": None,
        },
    ),
    "staff.upserted": Example(
        "/routing",
        _STAFF,
        {
            "staff_id": _STAFF,
            "display_name": "Orchid (field desk 3)",
            "role": "department_staff",
            "department": _DEPT,
            "active": True,
        },
    ),
    "training.completed": Example(
        "/training",
        _STAFF,
        {
            "staff_id": _STAFF,
            "course_code": "FS-201",
            "score": 92.5,
            "passed": True,
            "completed_at": "2026-03-05T07:00:00+00:00",
        },
    ),
    "award.granted": Example(
        "/training",
        _STAFF,
        {
            "staff_id": _STAFF,
            "period": "2026-Q1",
            "award_code": "service_star",
            "granted_at": "2026-04-02T02:00:00+00:00",
        },
    ),
}

DESCRIPTION = f"""\
The events the four services (intake, routing, followup, training) and outside systems
exchange over RabbitMQ. Generated from `shared/events/catalogue.py` by
`cs asyncapi --output docs/asyncapi.yaml`; do not edit by hand.

**Envelope.** Every message is a CloudEvents {SPECVERSION} event in structured JSON mode
(AMQP `content_type` `{MESSAGE_CONTENT_TYPE}`, `datacontenttype` `{CONTENT_TYPE}`), with the
`correlationid` extension attribute carrying the id shared by everything one request caused.
`dataschema` (`urn:cs:schema:<type>:v<n>`) names the version of `data`; absent means the
current version. Additive changes keep a version and consumers ignore unknown fields; a
breaking change adds a version, and consumers accept both while the old one is deprecated.

**Exchanges and routing.** Two durable topic exchanges: `{EVENTS_EXCHANGE}` carries the events
between services, `{INBOUND_EXCHANGE}` what outside systems send in. The routing key is the
event type, and each channel below is one event type. Each consuming service hashes the
`partition-key` header (the event's subject) into `CS_PARTITIONS` quorum queues
`<service>.events.<i>` with a single active consumer each, so the events of one subject are
applied in the order they were published. (`CS_BROKER_PREFIX`, empty by default, prefixes
every exchange and queue name.)

**Producers.** Each producer is a broker user of its own (`x-producers`: the services, and the
outside systems `portal` and `hr`) and sets the AMQP `user_id` property to itself, which the
broker checks. A consumer acts only on a type from the producers named here; anything else is
dead-lettered as "unauthorized producer". Services publish on `{EVENTS_EXCHANGE}`, outside
systems only on `{INBOUND_EXCHANGE}`.

**Delivery.** Producers write events to a transactional outbox in the same database transaction
as the change they announce; a relay publishes them in write order inside AMQP transactions
and marks them only after the broker committed, so delivery is at least once. Consumers are
idempotent: each records the event `id` in its inbox in the transaction that applies the
event, so a redelivered event changes nothing. An invalid event, or one whose handler keeps
failing after retries with backoff, goes to the service's dead-letter queue `<service>.dead`,
as does one the broker redelivered {DELIVERY_LIMIT} times (a handler that crashes its process);
`cs dead-letters list|replay <service>` shows and replays them.

**Personal data.** No event carries personal data: customers travel as an opaque
`customer_id`, never a name, phone number, ID number, address or text the customer typed. The
one exception is `case.requested`, which carries what a customer wrote and therefore travels
only on `{INBOUND_EXCHANGE}`, never on `{EVENTS_EXCHANGE}`.

**Operations.** The document describes the platform as a whole: each channel has a `send`
operation naming who may publish the event (`x-producers`) and a `receive` operation naming who
consumes it. `x-consumers` lists the services whose consumer handles the type today (from
their `EVENT_HANDLERS`); `x-planned-consumers` services the architecture assigns the type to
but that have no handler yet; `x-external-consumers` parties outside the platform.
"""

_EXAMPLE_NAMESPACE = uuid.UUID("6d1f0c52-4b8e-4a3d-9f27-c0e5a1b3d947")


def schema_name(type_: str, version: int) -> str:
    """`case.opened`, 1 -> `CaseOpenedV1`: the component name of a type's data schema."""
    words = type_.replace("_", ".").split(".")
    return "".join(w.capitalize() for w in words) + f"V{version}"


def handled_types() -> dict[str, tuple[str, ...]]:
    """Each service's handled event types, from `services.<name>.handlers.EVENT_HANDLERS`."""
    return {
        service: tuple(importlib.import_module(f"services.{service}.handlers").EVENT_HANDLERS)
        for service in SERVICES
    }


def example_envelope(type_: str) -> dict[str, Any]:
    """The full envelope of a type's example, with deterministic ids and time."""
    example = EXAMPLES[type_]
    return {
        "specversion": SPECVERSION,
        "id": str(uuid.uuid5(_EXAMPLE_NAMESPACE, type_)),
        "source": example.source,
        "type": type_,
        "subject": example.subject,
        "time": "2026-02-13T02:15:00Z",
        "datacontenttype": CONTENT_TYPE,
        "dataschema": CATALOGUE[type_].schema_id(),
        "correlationid": str(uuid.uuid5(_EXAMPLE_NAMESPACE, "correlation")),
        "data": example.data,
    }


def _envelope_schema() -> dict[str, Any]:
    def text(description: str, name: str) -> dict[str, Any]:
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": FIELD_LIMITS[name],
            "description": description,
        }

    return {
        "type": "object",
        "description": f"A CloudEvents {SPECVERSION} event in structured JSON mode.",
        "required": list(ENVELOPE_REQUIRED),
        "properties": {
            "specversion": {"type": "string", "const": SPECVERSION},
            "id": text(
                "Unique per event (a UUID); also the AMQP message_id. Consumers deduplicate on it.",
                "id",
            ),
            "source": text("The producing service, e.g. `/intake`.", "source"),
            "type": text("The event type; also the routing key.", "type"),
            "subject": text("What the event is about: usually the case id.", "subject"),
            "time": {
                "type": "string",
                "format": "date-time",
                "maxLength": FIELD_LIMITS["time"],
                "description": "When the event happened; RFC 3339 with an offset (UTC, `Z`),"
                " between 2000 and 2100.",
            },
            "datacontenttype": {"type": "string", "const": CONTENT_TYPE},
            "dataschema": {
                "type": "string",
                "maxLength": FIELD_LIMITS["dataschema"],
                "pattern": "^urn:cs:schema:[a-z._]+:v[0-9]+$",
                "description": "The schema version of `data`; absent means the current version.",
            },
            "correlationid": {
                "type": "string",
                "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$",
                "description": "Extension: the id shared by everything one request caused; a"
                " consumer replaces one of another shape (or holding a phone or ID number).",
            },
            "data": {"type": "object", "description": "The event's data; see its message."},
        },
    }


def _data_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every version of every type, converted by apispec's marshmallow plugin."""
    spec = APISpec(TITLE, DOCUMENT_VERSION, "3.1.0", plugins=[MarshmallowPlugin()])
    converter = OpenAPIConverter("3.1.0", lambda _schema: None, spec)
    schemas: dict[str, dict[str, Any]] = {}
    for type_, kind in CATALOGUE.items():
        for version, schema in sorted(kind.versions.items()):
            converted = converter.schema2jsonschema(schema)
            converted["description"] = f"`data` of {type_} v{version}: {FLOWS[type_].summary}"
            schemas[schema_name(type_, version)] = converted
    return schemas


def _amqp(**fields: Any) -> dict[str, Any]:
    return {"amqp": {**fields, "bindingVersion": AMQP_BINDING_VERSION}}


def _message(type_: str, version: int) -> dict[str, Any]:
    name = schema_name(type_, version)
    schema_id = CATALOGUE[type_].schema_id(version)
    message: dict[str, Any] = {
        "name": type_,
        "title": f"{type_} v{version}",
        "summary": FLOWS[type_].summary,
        "contentType": MESSAGE_CONTENT_TYPE,
        "correlationId": {
            "description": "The correlationid extension attribute.",
            "location": "$message.payload#/correlationid",
        },
        "x-dataschema": schema_id,
        "payload": {
            "allOf": [
                {"$ref": "#/components/schemas/Envelope"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": type_},
                        "dataschema": {"const": schema_id},
                        "data": {"$ref": f"#/components/schemas/{name}"},
                    },
                },
            ]
        },
        "bindings": _amqp(messageType=type_),
    }
    if version == CATALOGUE[type_].current:
        message["examples"] = [{"name": type_, "payload": example_envelope(type_)}]
    return message


def _names(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(names)


def _tags(names: list[str] | tuple[str, ...]) -> list[dict[str, str]]:
    """The platform's services among `names`, as tags (tools group operations by them)."""
    return [{"name": n} for n in SERVICES if n in names]


def _producers(producers: tuple[str, ...]) -> str:
    """`routing` and `hr` -> "routing (on cs.events) and the outside system hr (on cs.inbound)"."""
    return _names(
        [
            f"{p} (on `{exchange_of(p)}`)"
            if p in SERVICES
            else f"the outside system `{p}` (on `{exchange_of(p)}`)"
            for p in producers
        ]
    )


def _channel(type_: str) -> dict[str, Any]:
    kind, flow = CATALOGUE[type_], FLOWS[type_]
    on = " and ".join(f"`{e}`" for e in kind.exchanges)
    return {
        "address": type_,
        "title": type_,
        "description": f"{flow.summary} Routing key `{type_}` on {on}.",
        "messages": {
            schema_name(type_, v): {"$ref": f"#/components/messages/{schema_name(type_, v)}"}
            for v in sorted(kind.versions)
        },
        "bindings": _amqp(
            **{
                "is": "routingKey",
                "exchange": {
                    "name": kind.exchange,
                    "type": "topic",
                    "durable": True,
                    "autoDelete": False,
                    "vhost": "/",
                },
            }
        ),
    }


def operation_ids(type_: str) -> tuple[str, str]:
    """`case.opened` -> (`publishCaseOpened`, `consumeCaseOpened`): its send and receive ids."""
    verb = "".join(w.capitalize() for w in type_.replace("_", ".").split("."))
    return f"publish{verb}", f"consume{verb}"


def _operations(type_: str, implemented: list[str]) -> dict[str, dict[str, Any]]:
    kind, flow = CATALOGUE[type_], FLOWS[type_]
    channel = {"$ref": f"#/channels/{type_}"}
    messages = [
        {"$ref": f"#/channels/{type_}/messages/{schema_name(type_, v)}"}
        for v in sorted(kind.versions)
    ]
    planned = [c for c in flow.consumers if c in SERVICES and c not in implemented]
    external = [c for c in flow.consumers if c not in SERVICES]
    consumed = f"Consumed by {_names(implemented)}." if implemented else "No consumer yet."
    if planned:
        consumed += f" Planned (no handler yet): {_names(planned)}."
    if external:
        consumed += f" External: {_names(external)}."
    publish, consume = operation_ids(type_)
    send: dict[str, Any] = {
        "action": "send",
        "channel": channel,
        "summary": f"Published by {_producers(kind.producers)}.",
        "x-producers": list(kind.producers),
        "bindings": _amqp(deliveryMode=2),
        "messages": messages,
    }
    receive: dict[str, Any] = {
        "action": "receive",
        "channel": channel,
        "summary": consumed,
        "x-consumers": implemented,
        "x-planned-consumers": planned,
        "x-external-consumers": external,
        "bindings": _amqp(ack=True),
        "messages": [dict(m) for m in messages],
    }
    if tags := _tags(kind.producers):
        send["tags"] = tags
    if tags := _tags(implemented):
        receive["tags"] = tags
    return {publish: send, consume: receive}


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of every event type in the catalogue."""
    handled = handled_types()
    channels = {type_: _channel(type_) for type_ in CATALOGUE}
    operations: dict[str, dict[str, Any]] = {}
    for type_ in CATALOGUE:
        operations.update(_operations(type_, [s for s in SERVICES if type_ in handled[s]]))
    messages = {
        schema_name(type_, version): _message(type_, version)
        for type_, kind in CATALOGUE.items()
        for version in sorted(kind.versions)
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:cs:events",
        "info": {
            "title": TITLE,
            "version": DOCUMENT_VERSION,
            "description": DESCRIPTION,
            "tags": [{"name": s, "description": f"The {s} service."} for s in SERVICES],
        },
        "defaultContentType": MESSAGE_CONTENT_TYPE,
        "servers": {
            "rabbitmq": {
                "host": "localhost:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "RabbitMQ for local development; processes read AMQP_URL.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {"Envelope": _envelope_schema(), **_data_schemas()},
            "messages": messages,
        },
    }


def to_yaml(document: dict[str, Any]) -> str:
    """YAML in the document's key order, without anchors, so the output is stable."""
    import yaml  # a dev dependency: only the generator and its test need it

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, text)

    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
