"""Working time as routing counts it: the operator's zone and a working-day calendar
(routing's exceptions — holidays, 调休 — else Mon-Fri; 08:30 to close of business). No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from shared.clock import SHANGHAI

TZ = SHANGHAI
OPENING = time(8, 30)  # departments and the back office work 08:30 to close of business


@dataclass(frozen=True)
class Calendar:
    """Working days as routing counts them: its exceptions (holidays, 调休), else Mon-Fri."""

    exceptions: Mapping[date, bool]
    close_of_business: time = time(17, 30)

    def working(self, day: date) -> bool:
        return self.exceptions.get(day, day.weekday() < 5)

    def due(self, received: datetime, working_days: int) -> datetime:
        """Close of business of the Nth working day strictly after the date of receipt."""
        day, counted = received.astimezone(TZ).date(), 0
        while counted < working_days:
            day += timedelta(days=1)
            counted += self.working(day)
        return datetime.combine(day, self.close_of_business, TZ)

    def _hours(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, OPENING, TZ),
            datetime.combine(day, self.close_of_business, TZ),
        )

    def next_open(self, at: datetime) -> datetime:
        """`at` when it falls in working hours of a working day, else the next opening."""
        day = at.astimezone(TZ).date()
        for _ in range(60):
            begin, end = self._hours(day)
            if self.working(day) and at < end:
                return max(at, begin)
            day += timedelta(days=1)
        raise ValueError(f"no working day within 60 days after {at}")  # pragma: no cover

    def add_working(self, at: datetime, span: timedelta) -> datetime:
        """`span` of working time after `at` (as routing counts a department's target)."""
        cursor, left = self.next_open(at), span
        while True:
            _, end = self._hours(cursor.astimezone(TZ).date())
            if end - cursor >= left:
                return cursor + left
            left -= end - cursor
            cursor = self.next_open(end + timedelta(seconds=1))

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end`."""
        total, cursor = timedelta(0), self.next_open(start)
        while cursor < end:
            _, close = self._hours(cursor.astimezone(TZ).date())
            total += min(close, end) - cursor
            cursor = self.next_open(close + timedelta(seconds=1))
        return total
