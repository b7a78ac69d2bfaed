"""What followup's blueprints share: the database, roles, error answers, field formats."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, validate

from services.followup.domain.periods import Quarter
from shared.web import service_db

# who may do what
CALLERS = ("agent", "supervisor", "system")  # make calls, record attempts and answers
READERS = ("agent", "supervisor", "system", "department_head", "department_staff")
SUPERVISION = ("supervisor",)  # campaigns, inspections, reports (admin passes every check)
REPORT_READERS = ("supervisor", "department_head")
MEASURE_OWNERS = ("supervisor", "department_head", "department_staff")

code = validate.Length(min=1, max=40)
MAX_PAGE = 1_000_000
# a sample's seed is kept in a bigint column
seed_range = validate.Range(min=-(2**63), max=2**63 - 1)


db = service_db


def now() -> datetime:
    return datetime.now(UTC)


def quarter_text(value: str) -> None:
    try:
        Quarter.parse(value)
    except ValueError as e:
        raise ValidationError(str(e)) from None


def page_field() -> fields.Int:
    # bounded: (page - 1) * per_page is an OFFSET, a bigint in PostgreSQL
    return fields.Int(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


def per_page_field() -> fields.Int:
    return fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


def page_of(item: type[Schema]) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "page": fields.Int(),
            "per_page": fields.Int(),
            "total": fields.Int(),
        },
        name=f"{item.__name__.removesuffix('Out')}PageOut",
    )
