"""`/departments`: the departments cases are transferred to, their heads and time targets."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.routing import queries
from services.routing.commands import directory
from shared.etags import check_if_match, etag
from shared.paging import page_field, page_of, per_page_field
from shared.web import StrictSchema, created, requires, service_db

blp = Blueprint(
    "departments", __name__, url_prefix="/departments", description="Departments and their heads"
)

MANAGERS = ("supervisor",)  # and admin, who passes every check
READERS = ("agent", "department_staff", "department_head", "supervisor", "system")


db = service_db


code_format = validate.Regexp(
    directory.CODE_PATTERN, error="2-32 characters: letters, digits, _ or -"
)
# numeric(6, 2): the smallest target stored is 0.01 h, the largest 9999.99 h
_hours = validate.Range(min=0.01, max=9999)


class DepartmentIn(StrictSchema):
    code = fields.Str(required=True, validate=code_format)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    head_id = fields.Str(load_default=None, allow_none=True, validate=validate.Length(1, 64))
    ola_hours = fields.Float(
        load_default=None,
        allow_none=True,
        validate=_hours,
        metadata={"description": "the department's own target, in working hours"},
    )
    is_default = fields.Bool(
        load_default=False, metadata={"description": "takes what no routing rule matches"}
    )
    active = fields.Bool(load_default=True)


class DepartmentPatch(StrictSchema):
    name = fields.Str(validate=validate.Length(min=1, max=120))
    head_id = fields.Str(allow_none=True, validate=validate.Length(1, 64))
    ola_hours = fields.Float(allow_none=True, validate=_hours)
    is_default = fields.Bool()
    active = fields.Bool()


class DepartmentOut(Schema):
    code = fields.Str()
    name = fields.Str()
    head_id = fields.Str(allow_none=True)
    ola_hours = fields.Float(allow_none=True)
    is_default = fields.Bool()
    active = fields.Bool()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class DepartmentListQuery(StrictSchema):
    active = fields.Bool()
    page = page_field()
    per_page = per_page_field()


DepartmentPageOut = page_of(DepartmentOut)


@blp.post("")
@requires(*MANAGERS)
@blp.arguments(DepartmentIn)
@blp.response(201, DepartmentOut)
def create_department(body: dict[str, Any]) -> Any:
    """A new department; an existing code is 409."""
    with db().transaction() as tx:
        department = directory.create_department(tx, body)
    return created(department, "departments.get_department", code=department["code"])


@blp.get("")
@requires(*READERS)
@blp.arguments(DepartmentListQuery, location="query")
@blp.response(200, DepartmentPageOut)
def list_departments(query: dict[str, Any]) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.departments_page(tx, query.get("active"), query["page"], query["per_page"])


@blp.get("/<code>")
@requires(*READERS)
@blp.response(200, DepartmentOut)
@etag
def get_department(code: str) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.get_department(tx, code)


@blp.patch("/<code>")
@requires(*MANAGERS)
@blp.arguments(DepartmentPatch)
@blp.response(200, DepartmentOut)
@etag
def update_department(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Name, head, time target, default flag, active flag: only the fields given change.
    `If-Match`: the ETag of its GET."""
    with db().transaction() as tx:
        check_if_match(lambda: directory.lock_department(tx, code))
        return directory.update_department(tx, code, body)
