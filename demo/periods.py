"""Quarters and working time as routing counts them: the operator's zone, quarters like
2026-Q4, and a working-day calendar (routing's exceptions — holidays, 调休 — else Mon-Fri;
08:30 to close of business). No I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from shared.clock import SHANGHAI

TZ = SHANGHAI
OPENING = time(8, 30)  # departments and the back office work 08:30 to close of business
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        m = _QUARTER.match(text.strip())
        if not m:
            raise ValueError(f"{text!r} is not a quarter like 2026-Q4")
        return cls(int(m[1]), int(m[2]))

    @classmethod
    def of(cls, at: datetime) -> Quarter:
        local = at.astimezone(TZ)
        return cls(local.year, (local.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def tag(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), TZ)

    @property
    def end(self) -> datetime:
        """The first instant after the quarter."""
        if self.number == 4:
            return datetime(self.year + 1, 1, 1, tzinfo=TZ)
        return datetime(self.year, 3 * self.number + 1, 1, tzinfo=TZ)

    def previous(self) -> Quarter:
        return Quarter(self.year, self.number - 1) if self.number > 1 else Quarter(self.year - 1, 4)


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
