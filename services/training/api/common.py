"""What training's blueprints share: roles, the database, use-case errors as JSON."""

from __future__ import annotations

import re

from marshmallow import ValidationError, validate

from services.training.domain.periods import PERIOD_PATTERN, BadPeriod, Period, parse_period
from shared import clock
from shared.errors import Invalid
from shared.limits import year_problem
from shared.web import service_db

# admin passes every check
TRAINERS = ("trainer",)
SUPERVISORS = ("supervisor",)
READERS = ("supervisor", "department_head", "trainer")

code_format = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$", error="1-40 letters, digits, '.', '_' or '-'"
)
role_format = validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$", error="a role such as agent")
staff_format = validate.Length(min=1, max=64)
_PERIOD_TEXT = "YYYY-MM or YYYY-Qn, e.g. 2026-11, 2026-Q4"


def _supported_year(text: str) -> None:
    if not re.fullmatch(PERIOD_PATTERN, text):
        return  # the form's own validator says so
    problem = year_problem(int(text[:4]), clock.now())
    if problem:
        raise ValidationError(problem)


# the form (also in the OpenAPI document), then the years scorecards are kept for
period_format = [validate.Regexp(PERIOD_PATTERN, error=_PERIOD_TEXT), _supported_year]


db = service_db


def period_or_422(text: str, field: str = "period") -> Period:
    try:
        period = parse_period(text)
    except BadPeriod as e:
        raise Invalid(field, str(e)) from None
    problem = year_problem(period.first_day.year, clock.now())
    if problem:
        raise Invalid(field, problem)
    return period
