"""`AnswerSchema` dumps and `RequestSchema` loads exactly as marshmallow does, in fewer steps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import (
    EXCLUDE,
    INCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_dump,
    validate,
)
from marshmallow.error_store import ErrorStore

from services.intake.api.schemas import CaseIn, CaseOut
from shared.events.catalogue import CATALOGUE
from shared.fast_schemas import AnswerSchema, RequestSchema


def marshmallow_dump(schema: Schema, obj: Any, many: bool | None = None) -> Any:
    return Schema.dump(schema, obj, many=many)


AT = datetime(2026, 2, 13, 2, 0, tzinfo=UTC)
OPENED = {
    "id": uuid.uuid4(),
    "case_no": "TS20260213-0001",
    "kind": "complaint",
    "channel": "hotline",
    "category": "broadband",
    "region": "Haidian",
    "priority": "normal",
    "customer_ref": "ACC-1001",
    "customer_id": None,
    "content": "Broadband drops every evening",
    "identity_verified": True,
    "identity_method": None,
    "agent_id": "agent-001",
    "received_at": AT,
    "opened_at": AT,
    "state": "open",
    "incident_id": None,
    "incident": None,
    "masked": False,
    "not_in_the_schema": object(),
}
LINKED = dict(
    OPENED,
    customer_id=uuid.uuid4(),
    incident_id="INC-7",
    incident={"id": "INC-7", "eta": None, "message": "fibre cut"},
    due_at=AT,
    due_provisional=False,
    reopen_count=2,
)


@pytest.mark.parametrize("case", [OPENED, LINKED, {}, {"incident": {"eta": AT}}])
def test_a_case_dumps_as_marshmallow_dumps_it(case: dict[str, Any]) -> None:
    schema = CaseOut()
    assert schema._steps is not None
    assert schema.dump(case) == marshmallow_dump(schema, case)
    assert list(schema.dump(case)) == list(marshmallow_dump(schema, case))


def test_many_and_nested_many_dump_as_marshmallow() -> None:
    schema = CaseOut(many=True)
    assert schema.dump([OPENED, LINKED]) == marshmallow_dump(schema, [OPENED, LINKED])
    assert CaseOut().dump([LINKED], many=True) == marshmallow_dump(CaseOut(), [LINKED], True)

    class Page(AnswerSchema):
        items = fields.List(fields.Nested(CaseOut))

    page = {"items": [OPENED, LINKED]}
    assert Page().dump(page) == marshmallow_dump(Page(), page)


class Odd(AnswerSchema):
    renamed = fields.Str(data_key="shownAs")
    sourced = fields.Str(attribute="elsewhere")
    defaulted = fields.Str(dump_default="none given")
    dated = fields.DateTime(format="%Y/%m/%d")
    counted = fields.Decimal(as_string=True)
    keys = fields.Str()  # a name a dict has as a method: marshmallow reads the attribute


@pytest.mark.parametrize(
    "obj",
    [
        {"renamed": "a", "elsewhere": "b", "dated": AT, "counted": Decimal("1.50")},
        {"sourced": "not read", "keys": "k", "defaulted": None},
        {},
    ],
)
def test_keys_attributes_defaults_and_formats_as_marshmallow(obj: dict[str, Any]) -> None:
    assert Odd()._steps is not None
    assert Odd().dump(obj) == marshmallow_dump(Odd(), obj)


class Hooked(AnswerSchema):
    name = fields.Str()

    @post_dump
    def shout(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: v.upper() for k, v in data.items()}


class Computed(AnswerSchema):
    name = fields.Str()
    size = fields.Method("measure")
    nested_name = fields.Str(attribute="inner.name")

    def measure(self, obj: Any) -> int:
        return len(obj["name"])


class Thing:
    def __init__(self) -> None:
        self.name = "thing"

    def __getitem__(self, key: str) -> str:
        return getattr(self, key)


def test_what_the_shortcut_cannot_do_is_marshmallow_own_dump() -> None:
    assert Hooked()._steps is None
    assert Hooked().dump({"name": "a"}) == {"name": "A"}
    assert Computed()._steps is None
    assert Computed().dump({"name": "abc", "inner": {"name": "x"}}) == {
        "name": "abc",
        "size": 3,
        "nested_name": "x",
    }
    assert Computed().dump(Thing()) == {"name": "thing", "size": 5}  # not a dict: marshmallow
    assert CaseOut(many=True).dump(c for c in [OPENED]) == [marshmallow_dump(CaseOut(), OPENED)]


# --- RequestSchema: loads as marshmallow loads ------------------------------------------


def both_loads(schema: Schema, data: Any, **kwargs: Any) -> tuple[Any, Any]:
    """(what the schema's own `_deserialize` gives, and its errors), then marshmallow's."""
    ours, theirs = ErrorStore(), ErrorStore()
    return (
        (schema._deserialize(data, error_store=ours, **kwargs), ours.errors),
        (Schema._deserialize(schema, data, error_store=theirs, **kwargs), theirs.errors),
    )


class Inner(RequestSchema):
    code = fields.Str(required=True, validate=validate.Length(max=3))


class Request(RequestSchema):
    name = fields.Str(required=True, data_key="fullName")
    age = fields.Int(validate=validate.Range(min=0), load_default=None)
    kept_as = fields.Str(attribute="stored.deep")
    tags = fields.List(fields.Str())
    inner = fields.Nested(Inner)
    when = fields.AwareDateTime()


CASE = {
    "kind": "complaint",
    "channel": "hotline",
    "category": "broadband",
    "region": "Haidian",
    "customer_ref": "ACC-1001",
    "content": "Broadband drops every evening",
    "identity_verified": True,
}


@pytest.mark.parametrize(
    "data",
    [
        CASE,
        dict(CASE, received_at="2026-02-13T10:00:00+08:00", priority="urgent"),
        dict(CASE, kind="praise", identity_verified="perhaps", extra=1, another=None),
        dict(CASE, customer_id="not-a-uuid", content=None, region=""),
        {},
        {"received_at": "2026-02-13T10:00:00"},
    ],
)
def test_a_case_loads_as_marshmallow_loads_it(data: dict[str, Any]) -> None:
    ours, theirs = both_loads(CaseIn(), data, unknown=RAISE)
    assert ours == theirs


@pytest.mark.parametrize(
    "data",
    [
        {"fullName": "A", "age": 3, "kept_as": "x", "tags": ["a"], "inner": {"code": "ab"}},
        {"name": "A", "age": -1, "tags": [1, None], "inner": {"code": "abcd", "x": 1}},
        {"fullName": 5, "inner": "no", "when": "2026-02-13T10:00:00", "other": 1},
    ],
)
@pytest.mark.parametrize("unknown", [RAISE, INCLUDE, EXCLUDE])
def test_keys_attributes_nesting_and_unknown_fields_load_as_marshmallow(
    data: dict[str, Any], unknown: str
) -> None:
    ours, theirs = both_loads(Request(), data, unknown=unknown)
    assert ours == theirs


def test_whole_loads_and_what_takes_marshmallow_own_path() -> None:
    data = {"fullName": "A", "kept_as": "x", "inner": {"code": "ab"}}
    assert Request().load(data) == {
        "name": "A",
        "age": None,
        "stored": {"deep": "x"},
        "inner": {"code": "ab"},
    }
    with pytest.raises(ValidationError) as raised:
        Request().load({"age": "x", "what": 1})
    assert raised.value.messages == {
        "fullName": ["Missing data for required field."],
        "age": ["Not a valid integer."],
        "what": ["Unknown field."],
    }
    assert (
        both_loads(Request(), [data, {"age": 1}], many=True)[0]
        == both_loads(Request(), [data, {"age": 1}], many=True)[1]
    )
    assert both_loads(Request(), {"age": 1}, partial=True)[0] == ({"age": 1}, {})
    assert both_loads(Request(), "not a mapping")[0] == both_loads(Request(), "not a mapping")[1]


def _spoilt(data: dict[str, Any]) -> dict[str, Any]:
    """Every field of an event's data given a value of the wrong kind, and one field unknown."""
    wrong = {str: 12, bool: "perhaps", int: "many", float: "much", list: {"a": 1}, dict: [1]}
    spoilt = {k: wrong.get(type(v), "?") for k, v in data.items()}
    return spoilt | {"added_by_a_newer_producer": 1}


EVENT_SCHEMAS = [
    (kind.name, version, cls)
    for kind in CATALOGUE.values()
    for version, cls in sorted(kind.versions.items())
]


@pytest.mark.parametrize(("name", "version", "cls"), EVENT_SCHEMAS)
def test_every_events_data_loads_as_marshmallow_loads_it(name: str, version: int, cls) -> None:  # type: ignore[no-untyped-def]
    example = CATALOGUE[name].example.data
    for data in (example, _spoilt(example), {}, {k: None for k in example}):
        ours, theirs = both_loads(cls(), data, unknown=EXCLUDE)
        assert ours == theirs, (name, version, data)
