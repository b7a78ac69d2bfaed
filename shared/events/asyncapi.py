"""The AsyncAPI 3.0 document of the event contract, generated from the catalogue alone.

Payload schemas come from the catalogue's marshmallow schemas (through apispec); summaries,
producers, consumers and examples from its `EventType`s (a test holds the declared consumers to
each service's handler table). `cs asyncapi --output shared/events/asyncapi.yaml` writes the
committed copy, which ships with the package and which the services serve (`committed_document`);
a unit test fails when it differs from `build_document()`, and another runs the official parser
(`@asyncapi/parser`) over it.

Shape: one channel per event type (its address is the routing key), each with a `send`
operation (who publishes it) and a `receive` operation (who consumes it); every version of a
type's data is one message in `components.messages`, listed on its channel.
"""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import Any

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
# the committed document: package data, so an installed package (and the image) carries it
COMMITTED = Path(__file__).with_name("asyncapi.yaml")
REGENERATE = "cs asyncapi --output shared/events/asyncapi.yaml"


DESCRIPTION = f"""\
The events the four services (intake, routing, followup, training) and outside systems
exchange over RabbitMQ. Generated from `shared/events/catalogue.py` by
`cs asyncapi --output shared/events/asyncapi.yaml`; do not edit by hand.

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
outside systems `portal`, `hr` and `netops`) and sets the AMQP `user_id` property to itself,
which the broker checks. A consumer acts only on a type from the producers named here; anything
else is dead-lettered as "unauthorized producer". Services publish on `{EVENTS_EXCHANGE}`,
outside systems only on `{INBOUND_EXCHANGE}`.

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
consumes it. `x-consumers` lists the services whose consumer handles the type (each one's
queues are bound to it); `x-external-consumers` parties outside the platform.
"""

_EXAMPLE_NAMESPACE = uuid.UUID("6d1f0c52-4b8e-4a3d-9f27-c0e5a1b3d947")


def schema_name(type_: str, version: int) -> str:
    """`case.opened`, 1 -> `CaseOpenedV1`: the component name of a type's data schema."""
    words = type_.replace("_", ".").split(".")
    return "".join(w.capitalize() for w in words) + f"V{version}"


def example_envelope(type_: str) -> dict[str, Any]:
    """The full envelope of a type's example, with deterministic ids and time."""
    example = CATALOGUE[type_].example
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
            converted["description"] = f"`data` of {type_} v{version}: {kind.summary}"
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
        "summary": CATALOGUE[type_].summary,
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
    kind = CATALOGUE[type_]
    on = " and ".join(f"`{e}`" for e in kind.exchanges)
    return {
        "address": type_,
        "title": type_,
        "description": f"{kind.summary} Routing key `{type_}` on {on}.",
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


def _operations(type_: str) -> dict[str, dict[str, Any]]:
    kind = CATALOGUE[type_]
    channel = {"$ref": f"#/channels/{type_}"}
    messages = [
        {"$ref": f"#/channels/{type_}/messages/{schema_name(type_, v)}"}
        for v in sorted(kind.versions)
    ]
    consumers = [s for s in SERVICES if s in kind.consumers]
    external = list(kind.external_consumers)
    consumed = f"Consumed by {_names(consumers)}." if consumers else "No consumer yet."
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
        "x-consumers": consumers,
        "x-external-consumers": external,
        "bindings": _amqp(ack=True),
        "messages": [dict(m) for m in messages],
    }
    if tags := _tags(kind.producers):
        send["tags"] = tags
    if tags := _tags(consumers):
        receive["tags"] = tags
    return {publish: send, consume: receive}


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of every event type in the catalogue."""
    channels = {type_: _channel(type_) for type_ in CATALOGUE}
    operations: dict[str, dict[str, Any]] = {}
    for type_ in CATALOGUE:
        operations.update(_operations(type_))
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


@functools.cache
def committed_document() -> dict[str, Any]:
    """The committed document, read once per process: what the services serve, so a web process
    neither builds it nor loads any service's code."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(COMMITTED.read_text(encoding="utf-8"), Loader=loader)


def to_yaml(document: dict[str, Any]) -> str:
    """YAML in the document's key order, without anchors, so the output is stable."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, text)

    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
