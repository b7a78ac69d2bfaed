"""`AnswerSchema` dumps exactly what marshmallow's `Schema.dump` dumps, in fewer steps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import Schema, fields, post_dump

from services.intake.api.schemas import CaseOut
from shared.answers import AnswerSchema


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
