from datetime import date

import pytest

from shared.workdays import (
    WorkingCalendar,
    WorkingDay,
    official_exceptions,
    official_years_available,
)


def test_official_years_available() -> None:
    assert official_years_available() == range(2004, 2027)


def test_official_exceptions_2026() -> None:
    exc = official_exceptions(2026)
    assert exc is not None
    assert exc[date(2026, 2, 14)] == (True, "makeup workday for Spring Festival")
    assert exc[date(2026, 2, 16)] == (False, "Spring Festival")
    assert exc[date(2026, 1, 1)] == (False, "New Year's Day")
    assert exc[date(2026, 1, 3)] == (False, "New Year's Day")  # weekend holiday kept
    assert exc[date(2026, 10, 10)] == (True, "makeup workday for National Day")
    assert exc[date(2026, 9, 20)] == (True, "makeup workday for National Day")
    assert sorted(d for d, (working, _) in exc.items() if working) == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert len(exc) == 33 + 6
    assert all(d.year == 2026 for d in exc)


@pytest.mark.parametrize("year", [1990, 2003, 2027, 2100])
def test_official_exceptions_not_covered(year: int) -> None:
    assert official_exceptions(year) is None


def test_day_official(calendar: WorkingCalendar) -> None:
    assert calendar.day(date(2026, 2, 14)) == WorkingDay(
        date(2026, 2, 14), True, "makeup workday for Spring Festival", False
    )
    assert calendar.day(date(2026, 2, 17)) == WorkingDay(
        date(2026, 2, 17), False, "Spring Festival", False
    )
    assert calendar.day(date(2026, 3, 7)) == WorkingDay(date(2026, 3, 7), False, "weekend", False)
    assert calendar.day(date(2026, 3, 9)) == WorkingDay(date(2026, 3, 9), True, "weekday", False)


def test_day_provisional_uses_holidays_package(calendar: WorkingCalendar) -> None:
    assert calendar.day(date(2027, 1, 1)) == WorkingDay(
        date(2027, 1, 1), False, "New Year's Day", True
    )
    assert calendar.day(date(2027, 1, 2)) == WorkingDay(date(2027, 1, 2), False, "weekend", True)
    assert calendar.day(date(2027, 1, 4)) == WorkingDay(date(2027, 1, 4), True, "weekday", True)
    assert calendar.day(date(2027, 10, 4)) == WorkingDay(
        date(2027, 10, 4), False, "National Day (observed)", True
    )


def test_day_never_raises_for_extreme_dates() -> None:
    cal = WorkingCalendar()
    assert cal.day(date.min) == WorkingDay(date.min, True, "weekday", True)  # Monday
    assert cal.day(date.max) == WorkingDay(date.max, True, "weekday", True)  # Friday


def test_year_without_holiday_data_is_plain_weekdays() -> None:
    cal = WorkingCalendar()
    assert cal.day(date(1900, 1, 1)) == WorkingDay(date(1900, 1, 1), True, "weekday", True)
    assert [d.date for d in cal.working_days_after(date(1900, 1, 5), 2)] == [
        date(1900, 1, 8),
        date(1900, 1, 9),
    ]


def test_holidays_package_failure_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import holidays

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no data")

    monkeypatch.setattr(holidays, "country_holidays", boom)
    cal = WorkingCalendar()
    assert cal.day(date(2027, 1, 1)) == WorkingDay(date(2027, 1, 1), True, "weekday", True)
    assert cal.day(date(2027, 1, 2)) == WorkingDay(date(2027, 1, 2), False, "weekend", True)


def test_holidays_lookup_cached_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    import holidays

    calls: list[object] = []
    real = holidays.country_holidays

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)

    monkeypatch.setattr(holidays, "country_holidays", counting)
    cal = WorkingCalendar()
    for day in range(1, 32):
        cal.day(date(2027, 1, day))
    cal.day(date(2028, 1, 3))
    assert calls == [2027, 2028]


def test_exceptions_override_everything() -> None:
    cal = WorkingCalendar(
        {date(2027, 1, 1): (True, "company duty day"), date(2030, 3, 4): (False, "outage")},
        official_years=[2030],
    )
    assert cal.day(date(2027, 1, 1)) == WorkingDay(
        date(2027, 1, 1), True, "company duty day", False
    )
    assert cal.day(date(2030, 3, 4)) == WorkingDay(date(2030, 3, 4), False, "outage", False)
    assert cal.day(date(2030, 1, 1)) == WorkingDay(date(2030, 1, 1), True, "weekday", False)


def test_working_days_after(calendar: WorkingCalendar) -> None:
    days = calendar.working_days_after(date(2026, 2, 13), 3)
    assert [d.date for d in days] == [date(2026, 2, 14), date(2026, 2, 24), date(2026, 2, 25)]
    assert all(d.working and not d.provisional for d in days)
    assert calendar.working_days_after(date(2026, 2, 13), 0) == []
