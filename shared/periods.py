"""Months and quarters as the operator counts them: calendar periods in Asia/Shanghai.

One definition for every service: scorecards and incentives (a month or a quarter), the
quarterly evaluation and campaigns (a quarter), SLA reports (either). Written `2026-11` and
`2026-Q4`; years 1000-2999 only (year 0000, or the period after 9999-Q4, is not a date).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

from shared.clock import SHANGHAI

PeriodKind = Literal["month", "quarter"]
KINDS: tuple[PeriodKind, ...] = ("month", "quarter")
PATTERN = r"^[12]\d{3}-(Q[1-4]|0[1-9]|1[0-2])$"
_MONTHS = {"month": 1, "quarter": 3}


class BadPeriod(ValueError):
    """Text that is not a period of the kinds asked for."""


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: PeriodKind
    number: int  # 1-12 for a month, 1-4 for a quarter

    @classmethod
    def parse(cls, text: str, kinds: tuple[PeriodKind, ...] = KINDS) -> Period:
        """`2026-Q4` or `2026-11` (of the kinds given); raises BadPeriod."""
        text = (text or "").strip()
        kind: PeriodKind = "quarter" if text[5:6] == "Q" else "month"
        if not re.fullmatch(PATTERN, text) or kind not in kinds:
            raise BadPeriod(f"{text!r} is not {_spoken(kinds)}")
        return cls(int(text[:4]), kind, int(text[6:] if kind == "quarter" else text[5:]))

    @classmethod
    def of(cls, moment: datetime, kind: PeriodKind) -> Period:
        """The month or quarter a moment falls in, in Asia/Shanghai."""
        local = moment.astimezone(SHANGHAI)
        number = local.month if kind == "month" else (local.month - 1) // 3 + 1
        return cls(local.year, kind, number)

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return f"{self.year}-{self.number:02d}"

    @property
    def _first_month(self) -> int:
        return self.number if self.kind == "month" else 3 * self.number - 2

    @property
    def first_day(self) -> date:
        return _month_start(self.year, self._first_month)

    @property
    def end_day(self) -> date:
        """The day after the last one."""
        return _month_start(self.year, self._first_month + _MONTHS[self.kind])

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end_day.toordinal() - 1)

    @property
    def start(self) -> datetime:
        """Its first instant in Shanghai."""
        return datetime.combine(self.first_day, time(0), SHANGHAI)

    @property
    def end(self) -> datetime:
        """The first instant after it (exclusive bound)."""
        return datetime.combine(self.end_day, time(0), SHANGHAI)

    def next(self) -> Period:
        return self._shifted(1)

    def previous(self) -> Period:
        return self._shifted(-1)

    def _shifted(self, by: int) -> Period:
        per_year = 12 if self.kind == "month" else 4
        index = self.year * per_year + self.number - 1 + by
        return Period(index // per_year, self.kind, index % per_year + 1)

    def months(self) -> list[str]:
        """`['2026-10', '2026-11', '2026-12']` for 2026-Q4."""
        first = self._first_month
        return [f"{self.year}-{m:02d}" for m in range(first, first + _MONTHS[self.kind])]

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def as_of(self, now: datetime) -> datetime:
        """When standing figures are taken: its end, or now while it runs."""
        return min(now, self.end)


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _spoken(kinds: tuple[PeriodKind, ...]) -> str:
    examples = {"month": "a month like 2026-11", "quarter": "a quarter like 2026-Q4"}
    return " or ".join(examples[k] for k in kinds)
