"""`/staff`: who works in which department, in which role, on which categories and regions."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.routing import queries
from services.routing.api.departments import (
    MANAGERS,
    READERS,
    code_format,
    db,
)
from services.routing.commands import directory, work_items
from shared.etags import check_if_match, etag, tag
from shared.paging import page_field, page_of, per_page_field
from shared.web import StrictSchema, caller, created, requires

blp = Blueprint("staff", __name__, url_prefix="/staff", description="The staff directory")

_role = validate.OneOf(directory.STAFF_ROLES)
_staff_id = validate.Regexp(r"^[A-Za-z0-9._-]{1,64}$", error="1-64 letters, digits, '.', '_', '-'")


def _skills(**kw: Any) -> fields.List:
    return fields.List(
        fields.Str(validate=validate.Length(1, 40)),
        metadata={"description": "case categories this member handles; empty: any"},
        **kw,
    )


def _regions(**kw: Any) -> fields.List:
    return fields.List(
        fields.Str(validate=validate.Length(1, 80)),
        metadata={"description": "regions this member covers; empty: any"},
        **kw,
    )


class StaffIn(StrictSchema):
    staff_id = fields.Str(required=True, validate=_staff_id)
    display_name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    role = fields.Str(required=True, validate=_role)
    department = fields.Str(load_default=None, allow_none=True, validate=code_format)
    skills = _skills(load_default=list)
    regions = _regions(load_default=list)
    active = fields.Bool(load_default=True)

    @validates_schema
    def placed(self, data: dict, **_: object) -> None:
        if data.get("role") in directory.DEPARTMENT_ROLES and not data.get("department"):
            raise ValidationError(f"a {data['role']} belongs to a department", "department")


class StaffPatch(StrictSchema):
    display_name = fields.Str(validate=validate.Length(min=1, max=120))
    role = fields.Str(validate=_role)
    department = fields.Str(allow_none=True, validate=code_format)
    skills = _skills()
    regions = _regions()
    active = fields.Bool()


class StaffOut(Schema):
    staff_id = fields.Str()
    display_name = fields.Str()
    role = fields.Str()
    department = fields.Str(allow_none=True)
    active = fields.Bool()
    skills = fields.List(fields.Str())
    regions = fields.List(fields.Str())
    updated_by = fields.Str()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class MovedOut(Schema):
    work_item_id = fields.Int(attribute="id")
    case_id = fields.Str()
    assignee_id = fields.Str(allow_none=True)


class StaffChangedOut(StaffOut):
    reassigned = fields.List(
        fields.Nested(MovedOut),
        metadata={"description": "open work items moved to others (or back to the queue)"},
    )


class StaffListQuery(StrictSchema):
    department = fields.Str(validate=code_format)
    role = fields.Str(validate=_role)
    active = fields.Bool()
    page = page_field()
    per_page = per_page_field()


StaffPageOut = page_of(StaffOut)


@blp.post("")
@requires(*MANAGERS)
@blp.arguments(StaffIn)
@blp.response(201, StaffOut)
def create_staff(body: dict[str, Any]) -> Any:
    """A new member of staff (announced as `staff.upserted`); an existing id is 409."""
    with db().transaction() as tx:
        staff = directory.create_staff(tx, body, by=caller().subject)
    return created(staff, "staff.get_staff", staff_id=staff["staff_id"])


@blp.get("")
@requires(*READERS)
@blp.arguments(StaffListQuery, location="query")
@blp.response(200, StaffPageOut)
def list_staff(query: dict[str, Any]) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.list_staff(tx, **query)


@blp.get("/<staff_id>")
@requires(*READERS)
@blp.response(200, StaffOut)
@etag
def get_staff(staff_id: str) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.get_staff(tx, staff_id)


@blp.patch("/<staff_id>")
@requires(*MANAGERS)
@blp.arguments(StaffPatch)
@blp.response(200, StaffChangedOut)
@etag
def update_staff(body: dict[str, Any], staff_id: str) -> dict[str, Any]:
    """Only the fields given change. Someone deactivated, or moved out of a department, loses
    their open work items to the least-loaded qualified colleague (or the queue). `If-Match`:
    the ETag of its GET."""
    by = caller().subject
    with db().transaction() as tx:
        check_if_match(lambda: directory.lock_staff(tx, staff_id))
        staff = directory.update_staff(tx, staff_id, body, by=by)
        moved = work_items.release_items_of(tx, staff_id, by=by)
    tag(staff)  # the record as its GET shows it, without `reassigned`
    return dict(staff, reassigned=moved)
