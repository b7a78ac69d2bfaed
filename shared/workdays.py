"""Which days are working days in mainland China (pure, no I/O); routing keeps the calendar data.

Official schedules (statutory holidays and 调休 makeup workdays) come from the
``chinese_calendar`` package; years it does not cover are estimated from the
``holidays`` package and flagged provisional.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

Exceptions = Mapping[date, tuple[bool, str]]


@dataclass(frozen=True)
class WorkingDay:
    """One calendar date classified as working or not, with the reason."""

    date: date
    working: bool
    reason: str
    provisional: bool


class WorkingCalendar:
    """Working days: explicit exceptions, else Mon–Fri for official years, else provisional."""

    def __init__(
        self,
        exceptions: Exceptions | None = None,
        official_years: Collection[int] = (),
    ) -> None:
        self._exceptions: dict[date, tuple[bool, str]] = dict(exceptions or {})
        self._official_years = frozenset(official_years)
        self._provisional_cache: dict[int, dict[date, str]] = {}

    def day(self, d: date) -> WorkingDay:
        """Classify ``d``; never raises."""
        if d in self._exceptions:
            working, reason = self._exceptions[d]
            return WorkingDay(d, working, reason, provisional=False)
        if d.year in self._official_years:
            return _weekday_rule(d, provisional=False)
        name = self._provisional_holidays(d.year).get(d)
        if name is not None:
            return WorkingDay(d, False, name, provisional=True)
        return _weekday_rule(d, provisional=True)

    def iter_days_after(self, d: date) -> Iterator[WorkingDay]:
        """Every day strictly after ``d``, classified, in order."""
        while True:
            d += timedelta(days=1)
            yield self.day(d)

    def working_days_after(self, d: date, n: int) -> list[WorkingDay]:
        """The first ``n`` working days strictly after ``d``."""
        found: list[WorkingDay] = []
        if n <= 0:
            return found
        for wd in self.iter_days_after(d):
            if wd.working:
                found.append(wd)
                if len(found) == n:
                    break
        return found

    def _provisional_holidays(self, year: int) -> dict[date, str]:
        if year not in self._provisional_cache:
            self._provisional_cache[year] = _holidays_package(year)
        return self._provisional_cache[year]


def _weekday_rule(d: date, *, provisional: bool) -> WorkingDay:
    if d.weekday() < 5:
        return WorkingDay(d, True, "weekday", provisional)
    return WorkingDay(d, False, "weekend", provisional)


def _holidays_package(year: int) -> dict[date, str]:
    """China holidays of ``year`` from the ``holidays`` package; empty on any failure."""
    try:
        import holidays

        return {d: str(name) for d, name in holidays.country_holidays("CN", years=year).items()}
    except Exception:
        return {}


def official_years_available() -> range:
    """Years covered by the installed ``chinese_calendar`` package."""
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def official_exceptions(year: int) -> dict[date, tuple[bool, str]] | None:
    """Statutory holidays and makeup workdays of ``year``, or None if not covered."""
    if year not in official_years_available():
        return None
    result: dict[date, tuple[bool, str]] = {
        d: (False, str(name)) for d, name in chinese_calendar.holidays.items() if d.year == year
    }
    for d, name in chinese_calendar.workdays.items():
        if d.year == year:
            result[d] = (True, f"makeup workday for {name}")
    return result
