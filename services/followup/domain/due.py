"""When a follow-up call is due: N working days after the resolution (default 1).

The calendar: followup builds its own `shared.workdays.WorkingCalendar` from the
`chinese_calendar` package, `official_exceptions(year)` for every year in
`official_years_available()`, and the provisional rule (Mon–Fri minus the `holidays` package's
China holidays) beyond; a due date that counted a provisional day is flagged `due_provisional`.

Why not routing's calendar: routing publishes no calendar events, so followup could only keep a
projection by asking routing's API, and no service here depends on another at run time (a
routing outage must not stop follow-ups being scheduled). The cost: a year an operator loads
into routing (`cs calendar import`) and company exceptions (`PUT /calendar/{date}`) are not seen
here until the package covers that year; until then those due dates are provisional. A
follow-up's due date is an internal target, not the customer's time limit (routing keeps that),
so an occasional day's difference is acceptable.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, time

from shared.clock import SHANGHAI
from shared.workdays import WorkingCalendar, official_exceptions, official_years_available


@dataclass(frozen=True)
class Due:
    due_at: datetime
    provisional: bool


@functools.lru_cache(maxsize=1)
def package_calendar() -> WorkingCalendar:
    """The official schedules the installed package knows; provisional for other years."""
    years = official_years_available()
    exceptions: dict = {}
    for year in years:
        exceptions.update(official_exceptions(year) or {})
    return WorkingCalendar(exceptions, years)


def followup_due(
    resolved_at: datetime,
    working_days: int,
    calendar: WorkingCalendar,
    close_of_business: time,
) -> Due:
    """Close of business of the Nth working day strictly after the Shanghai resolution date."""
    if resolved_at.tzinfo is None:
        raise ValueError("resolved_at must be timezone-aware")
    if working_days < 1:
        raise ValueError(f"working_days must be >= 1, got {working_days}")
    resolved_on = resolved_at.astimezone(SHANGHAI).date()
    provisional = False
    counted = 0
    for day in calendar.iter_days_after(resolved_on):
        provisional = provisional or day.provisional
        if day.working:
            counted += 1
            if counted == working_days:
                return Due(datetime.combine(day.date, close_of_business, SHANGHAI), provisional)
    raise AssertionError("unreachable: the calendar never ends")
