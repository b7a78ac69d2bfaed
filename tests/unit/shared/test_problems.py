"""RFC 9457 problem bodies (shared/errors.py): what every error answer of every service says."""

from __future__ import annotations

from shared.errors import BLANK, IDEMPOTENCY_KEY_REUSED, INVALID, field_errors, problem
from shared.etags import etag_of


def test_a_status_error_is_a_blank_problem_titled_by_its_status() -> None:
    assert problem(404, "no case 7") == {
        "type": BLANK,
        "title": "Not Found",
        "status": 404,
        "detail": "no case 7",
    }
    assert problem(599, "odd")["title"] == "Error"


def test_field_errors_make_an_invalid_request_problem() -> None:
    body = problem(422, "see errors", {"json": {"kind": ["Must be one of: a, b."]}})
    assert body["type"] == INVALID and body["title"] == "The request is not valid"
    assert body["errors"] == [{"detail": "Must be one of: a, b.", "pointer": "#/kind"}]


def test_a_named_type_keeps_its_own_title() -> None:
    body = problem(422, "used before", type_=IDEMPOTENCY_KEY_REUSED)
    assert body["type"] == IDEMPOTENCY_KEY_REUSED and "Idempotency-Key" in body["title"]


def test_nested_fields_and_whole_objects_are_pointed_at() -> None:
    errors = {
        "json": {
            "phones": {0: ["Not a phone number."]},
            "address": {"region": ["Missing data for required field."]},
            "_schema": ["give single or plural, not both"],
            "a/b~c": ["odd name"],
        },
        "query": {"per_page": ["Must be between 1 and 200."]},
        "headers": {"Idempotency-Key": ["too long"]},
    }
    assert field_errors(errors) == [
        {"detail": "Not a phone number.", "pointer": "#/phones/0"},
        {"detail": "Missing data for required field.", "pointer": "#/address/region"},
        {"detail": "give single or plural, not both", "pointer": "#"},
        {"detail": "odd name", "pointer": "#/a~1b~0c"},
        {"detail": "Must be between 1 and 200.", "parameter": "per_page"},
        {"detail": "too long", "header": "Idempotency-Key"},
    ]


def test_errors_not_keyed_by_location_are_body_fields() -> None:
    assert field_errors({"at": ["in the future"]}) == [
        {"detail": "in the future", "pointer": "#/at"}
    ]
    assert field_errors(["whole body wrong"]) == [{"detail": "whole body wrong", "pointer": "#"}]


def test_etags_follow_the_content_not_the_key_order() -> None:
    a = etag_of({"code": "X", "name": "Field", "hours": None, "raw": b"\x00\x01"})
    assert a == etag_of({"raw": b"\x00\x01", "hours": None, "name": "Field", "code": "X"})
    assert a != etag_of({"code": "X", "name": "Field ", "hours": None, "raw": b"\x00\x01"})
    assert len(a) == 32
