"""Fixtures: a real working calendar built from the chinese_calendar package."""

from collections.abc import Callable, Mapping
from datetime import date

import pytest

from shared.workdays import (
    WorkingCalendar,
    official_exceptions,
    official_years_available,
)

CalendarFactory = Callable[[Mapping[date, tuple[bool, str]]], WorkingCalendar]


def _official() -> dict[date, tuple[bool, str]]:
    merged: dict[date, tuple[bool, str]] = {}
    for year in official_years_available():
        merged.update(official_exceptions(year) or {})
    return merged


@pytest.fixture(scope="session")
def official_data() -> dict[date, tuple[bool, str]]:
    return _official()


@pytest.fixture
def make_calendar(official_data: dict[date, tuple[bool, str]]) -> CalendarFactory:
    """Official 2004–2026 calendar plus company exceptions (which win)."""

    def make(company: Mapping[date, tuple[bool, str]]) -> WorkingCalendar:
        return WorkingCalendar({**official_data, **company}, official_years_available())

    return make


@pytest.fixture
def calendar(make_calendar: CalendarFactory) -> WorkingCalendar:
    return make_calendar({})
