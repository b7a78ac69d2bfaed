"""Quarters as the evaluation counts them: calendar quarters in Asia/Shanghai."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# years 1000-2999: year 0000 (or the quarter after 9999-Q4) is not a date
_QUARTER = re.compile(r"^([12]\d{3})-Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """`2026-Q4`; raises ValueError for anything else."""
        m = _QUARTER.match(text.strip())
        if not m:
            raise ValueError(f"{text!r} is not a quarter like 2026-Q4")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, when: datetime) -> Quarter:
        local = when.astimezone(SHANGHAI)
        return cls(local.year, (local.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def start(self) -> datetime:
        """The first instant of the quarter in Shanghai."""
        return datetime.combine(self.first_day, time(0), tzinfo=SHANGHAI)

    @property
    def end(self) -> datetime:
        """The first instant after the quarter (exclusive bound)."""
        return self.next().start

    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    def months(self) -> list[str]:
        """`['2026-10', '2026-11', '2026-12']`."""
        return [f"{self.year}-{m:02d}" for m in range(3 * self.number - 2, 3 * self.number + 1)]

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end
