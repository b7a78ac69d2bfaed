"""Scorecard and incentive periods: a month (`2026-11`) or a quarter (`2026-Q4`), in
Asia/Shanghai time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# years 1000-2999: year 0000 (or 9999-Q4's end, in year 10000) is not a date
PERIOD_PATTERN = r"^[12]\d{3}-(Q[1-4]|0[1-9]|1[0-2])$"
PERIOD_KINDS = ("month", "quarter")
PeriodKind = Literal["month", "quarter"]


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    code: str
    kind: PeriodKind
    first_day: date
    end_day: date  # the day after the last one

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), SHANGHAI)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_day, datetime.min.time(), SHANGHAI)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end_day.toordinal() - 1)

    def as_of(self, now: datetime) -> datetime:
        """The moment standing figures (training compliance) are taken: the period's end, or
        now while it runs."""
        return min(now, self.end)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def parse_period(text: str) -> Period:
    """`2026-Q4` or `2026-11`; raises BadPeriod."""
    if not re.fullmatch(PERIOD_PATTERN, text or ""):
        raise BadPeriod(f"{text!r} is not a period: use YYYY-MM or YYYY-Qn (2026-11, 2026-Q4)")
    year, rest = int(text[:4]), text[5:]
    if rest.startswith("Q"):
        first = 3 * (int(rest[1]) - 1) + 1
        return Period(text, "quarter", _month_start(year, first), _month_start(year, first + 3))
    month = int(rest)
    return Period(text, "month", _month_start(year, month), _month_start(year, month + 1))


def period_of(moment: datetime, kind: PeriodKind) -> Period:
    """The month or quarter a moment falls in, in Asia/Shanghai."""
    local = moment.astimezone(SHANGHAI)
    if kind == "month":
        return parse_period(f"{local.year}-{local.month:02d}")
    return parse_period(f"{local.year}-Q{(local.month - 1) // 3 + 1}")
