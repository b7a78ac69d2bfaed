"""The OpenAPI documents say what the services do the same way (shared/web.py):

- every error answer is `application/problem+json` (RFC 9457), described once;
- every 201 names what it made in a `Location` header;
- the GET of every editable record documents its ETag and If-None-Match (304); its PUT, PATCH
  and DELETE an optional If-Match, 412 and 428;
- the POSTs that make cases, customers and calls take an `Idempotency-Key`.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.config import SERVICES

WRITES = ("put", "patch", "delete")
IDEMPOTENT = {
    ("intake", "/cases"),
    ("intake", "/customers"),
    ("intake", "/channels/hotline/calls"),
    ("intake", "/channels/email"),
}


def _spec(client: Any, service: str) -> dict[str, Any]:
    return client(service).get("/openapi.json").get_json()


def _resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in item:
        _, section, kind, name = item["$ref"].split("/")
        item = spec[section][kind][name]
    return item


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _parameters(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = [_resolve(spec, p) for p in op.get("parameters", [])]
    return {p["name"]: p for p in found}


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_answer_is_a_problem(client, service):
    spec = _spec(client, service)
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert "errors" in problem["properties"]
    for path, method, op in _operations(spec):
        for code, response in op["responses"].items():
            if code == "default" or int(code) >= 400:
                content = _resolve(spec, response)["content"]
                assert list(content) == ["application/problem+json"], (path, method, code)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


@pytest.mark.parametrize("service", SERVICES)
def test_every_201_documents_location(client, service):
    spec = _spec(client, service)
    made = [(p, m, op) for p, m, op in _operations(spec) if "201" in op["responses"]]
    assert made
    for path, method, op in made:
        headers = _resolve(spec, op["responses"]["201"]).get("headers", {})
        assert "Location" in headers, (path, method)


@pytest.mark.parametrize("service", SERVICES)
def test_editable_records_document_etags_and_if_match(client, service):
    spec = _spec(client, service)
    writes = [(p, m, op) for p, m, op in _operations(spec) if m in WRITES]
    if service != "intake":
        assert writes or service == "followup"
    for path, method, op in writes:
        if_match = _parameters(spec, op).get("If-Match")
        assert if_match and if_match["in"] == "header" and not if_match["required"], (path, method)
        assert {"412", "428"} <= set(op["responses"]), (path, method)
        read = spec["paths"][path].get("get")
        assert read is not None, f"{method.upper()} {path} has no GET to read its ETag from"
        assert "If-None-Match" in _parameters(spec, read) and "304" in read["responses"]
        assert "ETag" in read["responses"]["200"]["headers"], path


def test_the_editable_records_are_these(client):
    writes = {
        (service, method, path)
        for service in SERVICES
        for path, method, _ in _operations(_spec(client, service))
        if method in WRITES
    }
    assert writes == {
        ("intake", "patch", "/customers/{customer_id}"),
        ("routing", "put", "/calendar/{day}"),
        ("routing", "patch", "/departments/{code}"),
        ("routing", "patch", "/staff/{staff_id}"),
        ("routing", "put", "/routing-rules/{rule_id}"),
        ("routing", "patch", "/routing-rules/{rule_id}"),
        ("routing", "delete", "/routing-rules/{rule_id}"),
        ("followup", "delete", "/do-not-call/{customer_id}"),
        ("training", "patch", "/incentive-rules/{code}"),
    }


@pytest.mark.parametrize("service", SERVICES)
def test_the_posts_that_make_things_take_an_idempotency_key(client, service):
    spec = _spec(client, service)
    for path, method, op in _operations(spec):
        key = _parameters(spec, op).get("Idempotency-Key")
        if (service, path) in IDEMPOTENT and method == "post":
            assert key and key["in"] == "header" and not key["required"], path
            assert "Idempotent-Replayed" in op["responses"]["201"]["headers"], path
        else:
            assert key is None, (path, method)
