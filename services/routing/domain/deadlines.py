"""Working-day time limits.

Policy: consultation 1 working day, complaint 2. "Within N working days" means by
close of business (default 17:30 Asia/Shanghai) of the Nth working day strictly
after the date of receipt; only the Shanghai date of receipt counts, not the hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.workdays import WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_CLOSE_OF_BUSINESS = time(17, 30)


@dataclass(frozen=True)
class Deadline:
    """When a time limit expires and which working days it counted."""

    due_at: datetime
    provisional: bool
    working_days: tuple[date, ...]


def working_day_deadline(
    received_at: datetime,
    working_days: int,
    calendar: WorkingCalendar,
    close_of_business: time = DEFAULT_CLOSE_OF_BUSINESS,
) -> Deadline:
    """Deadline at close of business of the Nth working day after the Shanghai receipt date.

    Provisional if any day from receipt (exclusive) to the due date came from the
    provisional rule. Raises ValueError for a naive ``received_at`` or ``working_days < 1``.
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    if working_days < 1:
        raise ValueError(f"working_days must be >= 1, got {working_days}")
    received_on = received_at.astimezone(SHANGHAI).date()
    counted: list[date] = []
    provisional = False
    for day in calendar.iter_days_after(received_on):
        provisional = provisional or day.provisional
        if day.working:
            counted.append(day.date)
            if len(counted) == working_days:
                break
    due_at = datetime.combine(counted[-1], close_of_business, tzinfo=SHANGHAI)
    return Deadline(due_at=due_at, provisional=provisional, working_days=tuple(counted))


DEFAULT_OPENING = time(8, 30)


def working_hours_deadline(
    start: datetime,
    hours: float,
    calendar: WorkingCalendar,
    opening: time = DEFAULT_OPENING,
    close_of_business: time = DEFAULT_CLOSE_OF_BUSINESS,
) -> Deadline:
    """`hours` of working time after `start`: only business hours of working days count.

    A department's internal target (its OLA) is given in working hours: work handed over at
    17:00 on a Friday with a 4-hour target is due at 12:00 on Monday.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if hours <= 0:
        raise ValueError(f"hours must be > 0, got {hours}")
    local = start.astimezone(SHANGHAI)
    remaining = timedelta(hours=hours)
    day = calendar.day(local.date())
    provisional = day.provisional
    counted: list[date] = []
    cursor = local
    while True:
        if day.working:
            begin = max(cursor, datetime.combine(day.date, opening, tzinfo=SHANGHAI))
            end = datetime.combine(day.date, close_of_business, tzinfo=SHANGHAI)
            if begin < end:
                counted.append(day.date)
                if end - begin >= remaining:
                    return Deadline(begin + remaining, provisional, tuple(counted))
                remaining -= end - begin
        day = calendar.day(day.date + timedelta(days=1))
        provisional = provisional or day.provisional
        cursor = datetime.combine(day.date, opening, tzinfo=SHANGHAI)
