"""What a client may send: the bounds every service applies the same way (no I/O).

Sizes (JSON nesting; request bodies are bounded in shared/web.py from the settings), times (a
window around now for anything that happened, a horizon for an ETA, the years a period may
name) and the window of anything stored, so that no value a client chose makes a later read
fail. Each `..._problem` function says why a value is refused, or None when it is fine; the
text goes into a 422 naming the field and never repeats the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.periods import KINDS, BadPeriod, Period, PeriodKind

# two systems' clocks a little apart
MAX_CLOCK_SKEW = timedelta(minutes=5)
# nothing the operator handles predates its systems; earlier is a typo (year 1, 0202, ...)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# nothing stored lies this far ahead: the bound of every time in an event
LATEST_STORABLE = datetime(2100, 1, 1, tzinfo=UTC)
# how far ahead a customer may be told a complex case will be done
ETA_HORIZON = timedelta(days=180)
# periods (months, quarters) name years from 2000 to this many years after the current one
PERIOD_YEARS_AHEAD = 5
# the deepest JSON a request body may nest: our deepest schema nests 4 levels
MAX_JSON_DEPTH = 32


def storable_problem(value: date) -> str | None:
    """Why a date or time is outside the years anything is kept for (2000 to 2100), or None."""
    if isinstance(value, datetime):
        at = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        inside = EARLIEST <= at < LATEST_STORABLE
    else:
        inside = EARLIEST.date() <= value < LATEST_STORABLE.date()
    return None if inside else "must lie between 2000-01-01 and 2100-01-01"


def offset_problem(at: datetime) -> str | None:
    if at.tzinfo is None or at.utcoffset() is None:
        return "must carry a UTC offset, e.g. 2026-02-13T10:00:00+08:00"
    return None


def time_problem(at: datetime, now: datetime) -> str | None:
    """Why `at` cannot be a time something happened, or None when it can."""
    problem = offset_problem(at)
    if problem:
        return problem
    if at > now + MAX_CLOCK_SKEW:
        return "lies in the future"
    if at < EARLIEST:
        return "lies before 2000-01-01: a typo in the year?"
    return None


def eta_problem(eta: datetime, at: datetime) -> str | None:
    """Why `eta` cannot be an estimated completion time given at `at`, or None when it can:
    it lies ahead of `at`, by at most ETA_HORIZON."""
    problem = offset_problem(eta)
    if problem:
        return problem
    if eta < at - MAX_CLOCK_SKEW:
        return "lies in the past: an estimated completion time is still to come"
    if eta > at + ETA_HORIZON:
        return f"lies more than {ETA_HORIZON.days} days ahead"
    return None


def supported_years(now: datetime) -> range:
    """The years a month or quarter may name."""
    return range(EARLIEST.year, now.year + PERIOD_YEARS_AHEAD + 1)


def year_problem(year: int, now: datetime) -> str | None:
    """Why a period of `year` is not one the system keeps figures for, or None."""
    years = supported_years(now)
    if year not in years:
        return f"the year must lie between {years[0]} and {years[-1]}"
    return None


def period_problem(text: str, now: datetime, kinds: tuple[PeriodKind, ...] = KINDS) -> str | None:
    """Why `text` is not a month or quarter (of `kinds`) the system keeps figures for, or None."""
    try:
        period = Period.parse(text, kinds)
    except BadPeriod as e:
        return str(e)
    return year_problem(period.year, now)


def json_depth(value: Any) -> int:
    """How deep `value` (parsed JSON) nests: 0 for a scalar, 1 for `[]` or `{}`, ...
    Iterative: a deep value costs no stack."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in children)
    return deepest
