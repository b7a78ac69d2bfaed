"""What training's blueprints share: roles, the database, use-case errors as JSON."""

from __future__ import annotations

from marshmallow import validate

from shared import clock
from shared.errors import Invalid
from shared.limits import period_problem
from shared.periods import Period
from shared.web import period_validator, service_db

# admin passes every check
TRAINERS = ("trainer",)
SUPERVISORS = ("supervisor",)
READERS = ("supervisor", "department_head", "trainer")

code_format = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$", error="1-40 letters, digits, '.', '_' or '-'"
)
role_format = validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$", error="a role such as agent")
staff_format = validate.Length(min=1, max=64)
# the years scorecards are kept for, written 2026-11 or 2026-Q4
period_format = period_validator()


db = service_db


def period_or_422(text: str, field: str = "period") -> Period:
    problem = period_problem(text, clock.now())
    if problem:
        raise Invalid(field, problem)
    return Period.parse(text)
