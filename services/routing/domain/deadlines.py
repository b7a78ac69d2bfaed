"""Working-day time limits, and working time: where a clock's warning and a breach's
escalation fall (pure, no I/O).

Policy: consultation 1 working day, complaint 2. "Within N working days" means by
close of business (default 17:30 Asia/Shanghai) of the Nth working day strictly
after the date of receipt; only the Shanghai date of receipt counts, not the hour.

Working time is what lies between opening (default 08:30) and close of business on the
working days of the calendar: nights, weekends and holidays do not count, makeup workdays
(调休) do. A clock's working time runs from its start to its due time, less the time it
stood paused. Its warning comes when the policy's share (`warning_ratio`) of that working
time has been used, and a breach goes on to the supervision group a number of working
hours after the department head was told, so neither lands outside business hours.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from shared.clock import SHANGHAI
from shared.workdays import WorkingCalendar

DEFAULT_OPENING = time(8, 30)
DEFAULT_CLOSE_OF_BUSINESS = time(17, 30)
# far beyond any time limit: a calendar without working time is an error, not an endless loop
_SEARCH_LIMIT = timedelta(days=3660)


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


Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class BusinessHours:
    """Working time: from opening to close of business (Shanghai) on the calendar's working
    days."""

    calendar: WorkingCalendar
    opening: time = DEFAULT_OPENING
    close_of_business: time = DEFAULT_CLOSE_OF_BUSINESS

    def __post_init__(self) -> None:
        if not self.opening < self.close_of_business:
            raise ValueError(
                f"opening {self.opening} must come before close of business"
                f" {self.close_of_business}"
            )

    def _day_hours(self, day: date) -> Interval | None:
        if not self.calendar.day(day).working:
            return None
        return (
            datetime.combine(day, self.opening, tzinfo=SHANGHAI),
            datetime.combine(day, self.close_of_business, tzinfo=SHANGHAI),
        )

    def periods(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """The stretches of working time within [start, end), in order."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        day = start.astimezone(SHANGHAI).date()
        last = end.astimezone(SHANGHAI).date()
        while day <= last:
            hours = self._day_hours(day)
            if hours is not None:
                begin, finish = max(start, hours[0]), min(end, hours[1])
                if begin < finish:
                    yield begin.astimezone(SHANGHAI), finish.astimezone(SHANGHAI)
            day += timedelta(days=1)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """How much working time lies within [start, end) (none when end <= start)."""
        return sum((finish - begin for begin, finish in self.periods(start, end)), timedelta())

    def after(self, start: datetime, amount: timedelta) -> datetime:
        """The moment `amount` of working time has passed since `start`; with a zero amount,
        the first moment of working time from `start` on. Always within business hours."""
        _require_aware(start, "start")
        if amount < timedelta(0):
            raise ValueError(f"amount must be >= 0, got {amount}")
        day = start.astimezone(SHANGHAI).date()
        last = day + _SEARCH_LIMIT
        remaining = amount
        while day <= last:
            hours = self._day_hours(day)
            if hours is not None:
                begin, finish = max(start, hours[0]), hours[1]
                if begin < finish:
                    if finish - begin >= remaining:
                        return (begin + remaining).astimezone(SHANGHAI)
                    remaining -= finish - begin
            day += timedelta(days=1)
        raise ValueError(f"no working time within {_SEARCH_LIMIT.days} days of {start}")


def working_hours_deadline(
    start: datetime,
    hours: float,
    calendar: WorkingCalendar,
    opening: time = DEFAULT_OPENING,
    close_of_business: time = DEFAULT_CLOSE_OF_BUSINESS,
) -> Deadline:
    """`hours` of working time after `start`: only business hours of working days count.

    A department's internal target (its OLA) is given in working hours: work handed over at
    17:00 on a Friday with a 4-hour target is due at 12:00 on Monday. Provisional if any day
    from `start` to the due date came from the provisional rule.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if hours <= 0:
        raise ValueError(f"hours must be > 0, got {hours}")
    business = BusinessHours(calendar, opening, close_of_business)
    due = business.after(start, timedelta(hours=hours))
    counted = tuple(dict.fromkeys(begin.date() for begin, _ in business.periods(start, due)))
    first, last = start.astimezone(SHANGHAI).date(), due.date()
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    provisional = any(calendar.day(d).provisional for d in days)
    return Deadline(due_at=due, provisional=provisional, working_days=counted)


def running_stretches(
    started_at: datetime, due_at: datetime, pauses: Sequence[Interval] = ()
) -> list[Interval]:
    """[started_at, due_at) less the pauses: the stretches in which the clock ran."""
    stretches: list[Interval] = []
    cursor = started_at
    for paused_at, resumed_at in sorted(pauses):
        if paused_at > cursor:
            stretches.append((cursor, min(paused_at, due_at)))
        cursor = max(cursor, resumed_at)
        if cursor >= due_at:
            break
    if cursor < due_at:
        stretches.append((cursor, due_at))
    return [(a, b) for a, b in stretches if a < b]


def clock_working_time(
    started_at: datetime,
    due_at: datetime,
    business: BusinessHours,
    pauses: Sequence[Interval] = (),
) -> timedelta:
    """A clock's working time: business hours of working days from its start to its due
    time, the time it stood paused not counted."""
    return sum(
        (business.between(a, b) for a, b in running_stretches(started_at, due_at, pauses)),
        timedelta(),
    )


def warning_time(
    started_at: datetime,
    due_at: datetime,
    ratio: float,
    business: BusinessHours,
    pauses: Sequence[Interval] = (),
) -> datetime:
    """When the clock has used `ratio` of its working time (pauses not counted): a moment
    of business hours on a working day, never after the due time. A clock with no working
    time at all (started after its deadline) is warned at its due time."""
    if not 0 <= ratio <= 1:
        raise ValueError(f"ratio must be within [0, 1], got {ratio}")
    stretches = running_stretches(started_at, due_at, pauses)
    spans = [business.between(a, b) for a, b in stretches]
    left = sum(spans, timedelta()) * ratio
    for (begin, _), span in zip(stretches, spans, strict=True):
        if span > timedelta(0) and span >= left:
            return business.after(begin, left)
        left -= span
    return due_at


def share_used(
    started_at: datetime,
    due_at: datetime,
    now: datetime,
    business: BusinessHours,
    pauses: Sequence[Interval] = (),
) -> float:
    """How much of the clock's working time is used at `now`, from 0 to 1 (pauses not
    counted); 1 for a clock with no working time."""
    total = clock_working_time(started_at, due_at, business, pauses)
    if total <= timedelta(0):
        return 1.0
    used = clock_working_time(started_at, min(max(now, started_at), due_at), business, pauses)
    return min(max(used / total, 0.0), 1.0)


def escalation_time(told_at: datetime, after_hours: float, business: BusinessHours) -> datetime:
    """When a breach the department head was told of at `told_at` goes on to the supervision
    group: `after_hours` working hours later (CS_ESCALATION_AFTER_H), in business hours."""
    if after_hours < 0:
        raise ValueError(f"after_hours must be >= 0, got {after_hours}")
    return business.after(told_at, timedelta(hours=after_hours))


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
