"""The AsyncAPI document: in step with the catalogue, whose declared consumers are the services
that handle each type, with honest examples."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import yaml

from shared.config import SERVICES
from shared.events import CATALOGUE, parse_event
from shared.events.asyncapi import (
    COMMITTED,
    REGENERATE,
    build_document,
    committed_document,
    operation_ids,
    schema_name,
)
from shared.logs import scrub
from shared.service import load_service

VERSIONS = [(t, v) for t, kind in CATALOGUE.items() for v in sorted(kind.versions)]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document()


def _example(document: dict[str, Any], type_: str) -> dict[str, Any]:
    message = document["components"]["messages"][schema_name(type_, CATALOGUE[type_].current)]
    return message["examples"][0]["payload"]


def test_committed_document_is_up_to_date(document: dict[str, Any]) -> None:
    assert COMMITTED.exists(), f"{COMMITTED} is missing: run `{REGENERATE}` and commit it"
    committed = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    assert committed == document, f"{COMMITTED} is out of date: run `{REGENERATE}` and commit it"
    assert committed_document() == committed  # what the services serve


def test_every_type_says_what_it_means_and_shows_an_example() -> None:
    for type_, kind in CATALOGUE.items():
        assert kind.summary.strip(), type_
        assert kind.example.data, type_
        assert not set(kind.consumers) - set(SERVICES), type_
        assert not set(kind.external_consumers) & set(SERVICES), type_


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
def test_declared_consumers_are_the_handler_tables(service: str) -> None:
    declared = {t for t, kind in CATALOGUE.items() if service in kind.consumers}
    handled = set(load_service(service).handlers)
    assert declared == handled, (
        f"{service}: the catalogue declares {sorted(declared - handled)} without a handler and "
        f"omits {sorted(handled - declared)} that it handles"
    )


def test_the_document_names_the_declared_consumers(document: dict[str, Any]) -> None:
    for type_, kind in CATALOGUE.items():
        receive = _consume(document, type_)
        assert set(receive["x-consumers"]) == set(kind.consumers)
        assert receive["x-external-consumers"] == list(kind.external_consumers)
        assert all(service in receive["summary"] for service in kind.consumers)


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
