"""The AsyncAPI document: in step with the catalogue and the handlers, with honest examples."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from shared.config import SERVICES
from shared.events import CATALOGUE, parse_event
from shared.events.asyncapi import EXAMPLES, FLOWS, build_document, operation_ids, schema_name
from shared.logs import scrub

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.yaml"
REGENERATE = "run `.venv/bin/cs asyncapi --output docs/asyncapi.yaml` and commit the result"

VERSIONS = [(t, v) for t, kind in CATALOGUE.items() for v in sorted(kind.versions)]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document()


def _example(document: dict[str, Any], type_: str) -> dict[str, Any]:
    message = document["components"]["messages"][schema_name(type_, CATALOGUE[type_].current)]
    return message["examples"][0]["payload"]


def test_committed_document_is_up_to_date(document: dict[str, Any]) -> None:
    assert COMMITTED.exists(), f"docs/asyncapi.yaml is missing: {REGENERATE}"
    committed = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    assert committed == document, f"docs/asyncapi.yaml is out of date: {REGENERATE}"


def test_tables_cover_exactly_the_catalogue() -> None:
    assert set(FLOWS) == set(CATALOGUE)
    assert set(EXAMPLES) == set(CATALOGUE)


def test_every_type_has_a_channel_bound_to_its_exchange(document: dict[str, Any]) -> None:
    assert set(document["channels"]) == set(CATALOGUE)
    for type_, kind in CATALOGUE.items():
        assert document["channels"][type_]["address"] == type_  # the routing key
        amqp = document["channels"][type_]["bindings"]["amqp"]
        assert amqp["is"] == "routingKey"
        assert amqp["exchange"] == {
            "name": kind.exchange,
            "type": "topic",
            "durable": True,
            "autoDelete": False,
            "vhost": "/",
        }


@pytest.mark.parametrize(("type_", "version"), VERSIONS)
def test_every_version_has_a_message_and_a_complete_schema(
    document: dict[str, Any], type_: str, version: int
) -> None:
    name = schema_name(type_, version)
    message = document["components"]["messages"][name]
    assert message["name"] == type_
    assert message["contentType"] == "application/cloudevents+json"
    assert message["x-dataschema"] == CATALOGUE[type_].schema_id(version)
    channel = document["channels"][type_]
    assert channel["messages"][name] == {"$ref": f"#/components/messages/{name}"}
    for operation_id in operation_ids(type_):
        operation = document["operations"][operation_id]
        assert operation["channel"] == {"$ref": f"#/channels/{type_}"}
        refs = [m["$ref"] for m in operation["messages"]]
        assert f"#/channels/{type_}/messages/{name}" in refs

    schema = document["components"]["schemas"][name]
    marshmallow_fields = CATALOGUE[type_].versions[version]().fields
    assert set(schema["properties"]) == set(marshmallow_fields)
    required = {n for n, f in marshmallow_fields.items() if f.required}
    assert set(schema.get("required", [])) == required


def _consume(document: dict[str, Any], type_: str) -> dict[str, Any]:
    return document["operations"][operation_ids(type_)[1]]


def test_every_type_is_sent_and_received(document: dict[str, Any]) -> None:
    actions = {}
    for operation in document["operations"].values():
        type_ = operation["channel"]["$ref"].removeprefix("#/channels/")
        actions.setdefault(type_, []).append(operation["action"])
    assert actions == {t: ["send", "receive"] for t in CATALOGUE}
    for type_ in CATALOGUE:
        send = document["operations"][operation_ids(type_)[0]]
        assert send["x-producers"] == list(CATALOGUE[type_].producers)


@pytest.mark.parametrize("type_", list(CATALOGUE))
def test_each_example_is_a_valid_event(document: dict[str, Any], type_: str) -> None:
    envelope = _example(document, type_)
    CATALOGUE[type_].load(envelope["data"])
    event = parse_event(orjson.dumps(envelope))
    assert event.type == type_ and event.dataschema == CATALOGUE[type_].schema_id()


@pytest.mark.parametrize("service", SERVICES)
def test_handled_types_are_listed_as_consumed(document: dict[str, Any], service: str) -> None:
    handlers = importlib.import_module(f"services.{service}.handlers").EVENT_HANDLERS
    for type_ in handlers:
        subscribe = _consume(document, type_)
        assert service in subscribe["x-consumers"]
        assert service not in subscribe["x-planned-consumers"]


def test_consumers_are_honest(document: dict[str, Any]) -> None:
    handled = {
        s: set(importlib.import_module(f"services.{s}.handlers").EVENT_HANDLERS) for s in SERVICES
    }
    for type_ in document["channels"]:
        subscribe = _consume(document, type_)
        assert all(type_ in handled[s] for s in subscribe["x-consumers"])
        assert all(type_ not in handled[s] for s in subscribe["x-planned-consumers"])
        assert set(FLOWS[type_].consumers) <= (
            set(subscribe["x-consumers"])
            | set(subscribe["x-planned-consumers"])
            | set(subscribe["x-external-consumers"])
        )


@pytest.mark.parametrize("type_", list(CATALOGUE))
def test_examples_carry_no_personal_looking_data(document: dict[str, Any], type_: str) -> None:
    envelope = dict(_example(document, type_))
    if type_ == "case.requested":  # what the customer wrote travels only on cs.inbound
        envelope["data"] = {k: v for k, v in envelope["data"].items() if k != "content"}
    text = orjson.dumps(envelope).decode()
    assert scrub(text) == text


def test_only_case_requested_travels_on_the_inbound_exchange(document: dict[str, Any]) -> None:
    inbound = [
        t
        for t, channel in document["channels"].items()
        if channel["bindings"]["amqp"]["exchange"]["name"] == "cs.inbound"
    ]
    assert inbound == ["case.requested"]
