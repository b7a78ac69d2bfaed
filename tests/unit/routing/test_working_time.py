"""Working time (business hours of working days): where a clock's warning and a breach's
escalation fall. Nights, weekends and holidays do not count; makeup workdays (调休) do."""

from datetime import date, datetime, time, timedelta

import pytest

from services.routing.domain.deadlines import (
    SHANGHAI,
    BusinessHours,
    clock_working_time,
    escalation_time,
    running_stretches,
    share_used,
    warning_time,
    working_day_deadline,
    working_hours_deadline,
)
from shared.workdays import WorkingCalendar

from .conftest import CalendarFactory

CONSULTATION, COMPLAINT = 1, 2
RATIO = 0.75


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


@pytest.fixture
def hours(calendar: WorkingCalendar) -> BusinessHours:
    """08:30–17:30 on the official calendar (2004–2026), provisional after."""
    return BusinessHours(calendar)


def warning_of(received: datetime, working_days: int, hours: BusinessHours) -> datetime:
    """Where a clock started at receipt is warned, with its policy deadline."""
    due = working_day_deadline(received, working_days, hours.calendar).due_at
    return warning_time(received, due, RATIO, hours)


def in_business_hours(moment: datetime, hours: BusinessHours) -> bool:
    local = moment.astimezone(SHANGHAI)
    return hours.calendar.day(local.date()).working and time(8, 30) <= local.time() <= time(17, 30)


# --- working time itself ---------------------------------------------------------------


def test_working_time_counts_only_business_hours_of_working_days(hours: BusinessHours) -> None:
    # Thu 01:50 to Fri 17:30: Thursday 08:30–17:30 and Friday 08:30–17:30
    assert hours.between(at(2026, 11, 26, 1, 50), at(2026, 11, 27, 17, 30)) == timedelta(hours=18)
    # Friday evening to Monday morning: nothing
    assert hours.between(at(2026, 11, 27, 17, 30), at(2026, 11, 30, 8, 30)) == timedelta(0)
    assert hours.between(at(2026, 11, 27, 12), at(2026, 11, 27, 11)) == timedelta(0)
    assert list(hours.periods(at(2026, 11, 27, 16), at(2026, 11, 30, 9))) == [
        (at(2026, 11, 27, 16), at(2026, 11, 27, 17, 30)),
        (at(2026, 11, 30, 8, 30), at(2026, 11, 30, 9)),
    ]


def test_after_starts_at_the_next_opening_outside_business_hours(hours: BusinessHours) -> None:
    assert hours.after(at(2026, 11, 27, 20), timedelta(0)) == at(2026, 11, 30, 8, 30)
    assert hours.after(at(2026, 11, 26, 1, 50), timedelta(hours=1)) == at(2026, 11, 26, 9, 30)
    # exactly a day's hours end at that day's close, not the next morning
    assert hours.after(at(2026, 11, 26, 8, 30), timedelta(hours=9)) == at(2026, 11, 26, 17, 30)
    with pytest.raises(ValueError, match="amount"):
        hours.after(at(2026, 11, 26, 9), timedelta(hours=-1))


def test_business_hours_follow_the_settings(calendar: WorkingCalendar) -> None:
    late = BusinessHours(calendar, opening=time(9, 0), close_of_business=time(18, 0))
    assert late.after(at(2026, 11, 27, 17, 0), timedelta(hours=2)) == at(2026, 11, 30, 10, 0)
    with pytest.raises(ValueError, match="before close of business"):
        BusinessHours(calendar, opening=time(18, 0), close_of_business=time(17, 30))


def test_a_calendar_without_working_days_is_an_error_not_a_loop() -> None:
    start = date(2026, 1, 1)
    no_work = {start + timedelta(days=n): (False, "closed") for n in range(3700)}
    hours = BusinessHours(WorkingCalendar(no_work, [2026]))
    with pytest.raises(ValueError, match="no working time"):
        hours.after(at(2026, 1, 1, 9), timedelta(hours=1))


def test_naive_times_are_refused(hours: BusinessHours) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.between(datetime(2026, 11, 26, 9), at(2026, 11, 27))


# --- the warning ---------------------------------------------------------------------------


def test_a_night_receipt_is_warned_in_the_afternoon_not_before_dawn(hours: BusinessHours) -> None:
    """The issue's case: received Thu 01:50, due Fri 17:30. At 75 % of the wall-clock time the
    warning came Fri 07:35; at 75 % of the 18 working hours it comes Fri 13:00."""
    received = at(2026, 11, 26, 1, 50)
    due = at(2026, 11, 27, 17, 30)
    assert received + (due - received) * RATIO == at(2026, 11, 27, 7, 35)  # the old rule
    assert clock_working_time(received, due, hours) == timedelta(hours=18)
    assert warning_of(received, CONSULTATION, hours) == at(2026, 11, 27, 13, 0)


def test_a_receipt_in_business_hours_counts_from_its_minute(hours: BusinessHours) -> None:
    # Mon 10:00 to Tue 17:30 is 7.5 + 9 working hours; 75 % of 16.5 h is 12 h 22 min 30 s
    assert warning_of(at(2026, 11, 23, 10), CONSULTATION, hours) == at(2026, 11, 24, 13, 22, 30)


def test_friday_evening_is_warned_on_the_next_working_days(hours: BusinessHours) -> None:
    friday_evening = at(2026, 11, 27, 20, 0)
    assert warning_of(friday_evening, CONSULTATION, hours) == at(2026, 11, 30, 15, 15)
    assert warning_of(friday_evening, COMPLAINT, hours) == at(2026, 12, 1, 13, 0)


def test_a_weekend_receipt_counts_from_monday(hours: BusinessHours) -> None:
    assert warning_of(at(2026, 11, 28, 11, 0), CONSULTATION, hours) == at(2026, 11, 30, 15, 15)
    assert warning_of(at(2026, 11, 29, 23, 59), COMPLAINT, hours) == at(2026, 12, 1, 13, 0)


def test_spring_festival_2026(hours: BusinessHours) -> None:
    # Fri 02-13 20:00, due on the makeup Saturday 02-14: warned that Saturday
    assert warning_of(at(2026, 2, 13, 20), CONSULTATION, hours) == at(2026, 2, 14, 15, 15)
    # Fri 02-13 10:00 complaint, due Tue 02-24: 7.5 h Fri + 9 h Sat + 9 h Tue; 75 % of 25.5 h
    # is 19 h 7 min 30 s, which reaches past the whole holiday into Tuesday
    assert warning_of(at(2026, 2, 13, 10), COMPLAINT, hours) == at(2026, 2, 24, 11, 7, 30)
    # received during the holiday: only Tue 02-24 counts
    assert warning_of(at(2026, 2, 15, 9), CONSULTATION, hours) == at(2026, 2, 24, 15, 15)
    assert warning_of(at(2026, 2, 20, 3), COMPLAINT, hours) == at(2026, 2, 25, 13, 0)
    # Thu 02-26 complaint, due on the makeup Saturday 02-28, warned that Saturday morning
    assert warning_of(at(2026, 2, 26, 10), COMPLAINT, hours) == at(2026, 2, 28, 11, 7, 30)


def test_national_day_2026(hours: BusinessHours) -> None:
    # Fri 09-18 11:00, due on the makeup Sunday 09-20: 6.5 h Fri + 9 h Sun
    assert warning_of(at(2026, 9, 18, 11), CONSULTATION, hours) == at(2026, 9, 20, 13, 37, 30)
    # Wed 09-30 15:00 complaint, due Fri 10-09: 2.5 h + 9 h Thu 10-08 + 9 h Fri 10-09
    assert warning_of(at(2026, 9, 30, 15), COMPLAINT, hours) == at(2026, 10, 9, 12, 22, 30)
    assert warning_of(at(2026, 10, 1, 9), CONSULTATION, hours) == at(2026, 10, 8, 15, 15)
    # Fri 10-09 evening, due on the makeup Saturday 10-10
    assert warning_of(at(2026, 10, 9, 18), CONSULTATION, hours) == at(2026, 10, 10, 15, 15)


def test_a_year_the_official_calendar_does_not_cover(hours: BusinessHours) -> None:
    """2027 is provisional: Mon–Fri, holidays from the `holidays` package, no makeup days."""
    assert hours.calendar.day(date(2027, 6, 16)).provisional
    # Wed 2027-06-16 01:50: Wednesday and Thursday count
    assert warning_of(at(2027, 6, 16, 1, 50), CONSULTATION, hours) == at(2027, 6, 17, 13, 0)
    # New Year's Eve 2026 into 2027: Fri 01-01 is off, Mon 01-04 counts
    assert warning_of(at(2026, 12, 31, 11), CONSULTATION, hours) == at(2027, 1, 4, 13, 37, 30)
    # Dragon Boat Festival, Wed 2027-06-09, is off (provisionally)
    assert warning_of(at(2027, 6, 8, 22), CONSULTATION, hours) == at(2027, 6, 10, 15, 15)


def test_warnings_of_every_hour_of_2026_and_2027_fall_in_business_hours(
    hours: BusinessHours,
) -> None:
    """What the acceptance check samples: receipts at any minute, warned on a working day
    between opening and close of business."""
    received = at(2026, 1, 1, 0, 7)
    while received.year < 2028:
        for working_days in (CONSULTATION, COMPLAINT):
            warned = warning_of(received, working_days, hours)
            assert in_business_hours(warned, hours), (received, warned)
        received += timedelta(hours=5, minutes=13)


def test_the_warning_never_comes_after_the_deadline(hours: BusinessHours) -> None:
    started, due = at(2026, 11, 23, 10), at(2026, 11, 24, 17, 30)
    assert warning_time(started, due, 1.0, hours) == due
    assert warning_time(started, due, 0.0, hours) == started
    # routed after the customer deadline: no working time left, warned at the deadline
    assert warning_time(at(2026, 11, 25, 9), due, RATIO, hours) == due
    with pytest.raises(ValueError, match="ratio"):
        warning_time(started, due, 1.5, hours)


def test_a_department_target_in_working_hours(hours: BusinessHours) -> None:
    # handed over Fri 17:00 with 4 h: 30 min Friday, 3.5 h Monday
    routed = at(2026, 11, 27, 17, 0)
    due = working_hours_deadline(routed, 4, hours.calendar)
    assert (due.due_at, due.working_days) == (
        at(2026, 11, 30, 12, 0),
        (date(2026, 11, 27), date(2026, 11, 30)),
    )
    assert warning_time(routed, due.due_at, RATIO, hours) == at(2026, 11, 30, 11, 0)


def test_a_department_target_starting_on_a_holiday(hours: BusinessHours) -> None:
    # National Day: handed over Thu 10-01 (a holiday) with 4 h: due Thu 10-08 12:30
    due = working_hours_deadline(at(2026, 10, 1, 10), 4, hours.calendar)
    assert (due.due_at, due.working_days) == (at(2026, 10, 8, 12, 30), (date(2026, 10, 8),))


# --- pauses --------------------------------------------------------------------------------


def test_paused_time_does_not_count(hours: BusinessHours) -> None:
    """Mon 10:00, due Tue 17:30 (16.5 working hours). Paused Mon 11:00 to Thu 11:00: the due
    time moves by the 72 h paused to Fri 17:30, and the warning comes when 75 % of the working
    time the clock ran is used: 1 h on Monday, then 11 h 22 min 30 s from Thursday 11:00."""
    started = at(2026, 11, 23, 10)
    pause = (at(2026, 11, 23, 11), at(2026, 11, 26, 11))
    due = at(2026, 11, 24, 17, 30) + (pause[1] - pause[0])
    assert due == at(2026, 11, 27, 17, 30)
    assert running_stretches(started, due, [pause]) == [(started, pause[0]), (pause[1], due)]
    assert clock_working_time(started, due, hours, [pause]) == timedelta(hours=16.5)
    assert warning_time(started, due, RATIO, hours, [pause]) == at(2026, 11, 27, 13, 22, 30)


def test_a_pause_that_moves_the_deadline_into_the_night(hours: BusinessHours) -> None:
    # paused 16:00–18:00 on Tue: the deadline moves from Tue 17:30 to 19:30, the warning
    # stays in business hours
    started = at(2026, 11, 23, 10)
    pause = (at(2026, 11, 24, 16), at(2026, 11, 24, 18))
    due = at(2026, 11, 24, 19, 30)
    warned = warning_time(started, due, RATIO, hours, [pause])
    assert in_business_hours(warned, hours)
    # 7.5 h Mon + 7.5 h Tue before the pause = 15 h; 75 % is 11 h 15 min: Tue 12:15
    assert warned == at(2026, 11, 24, 12, 15)


def test_share_used_counts_working_time(hours: BusinessHours) -> None:
    received, due = at(2026, 11, 26, 1, 50), at(2026, 11, 27, 17, 30)
    assert share_used(received, due, at(2026, 11, 27, 13, 0), hours) == RATIO
    assert share_used(received, due, at(2026, 11, 26, 23, 0), hours) == 0.5  # overnight: 9 h
    assert share_used(received, due, at(2026, 11, 25), hours) == 0.0
    assert share_used(received, due, at(2026, 11, 30), hours) == 1.0
    assert share_used(due, due, due, hours) == 1.0


# --- escalation ----------------------------------------------------------------------------


def test_escalation_after_working_hours_across_a_weekend(hours: BusinessHours) -> None:
    # breached at Friday's close of business: four working hours later is Monday 12:30
    assert escalation_time(at(2026, 11, 27, 17, 30, 5), 4, hours) == at(2026, 11, 30, 12, 30)
    # told Fri 16:00: 1.5 h Friday, 2.5 h Monday
    assert escalation_time(at(2026, 11, 27, 16), 4, hours) == at(2026, 11, 30, 11, 0)
    # told at night: counted from the next opening
    assert escalation_time(at(2026, 11, 24, 2), 4, hours) == at(2026, 11, 24, 12, 30)


def test_escalation_across_spring_festival(hours: BusinessHours) -> None:
    # told Fri 02-13 16:00: 1.5 h Friday, then the makeup Saturday 02-14
    assert escalation_time(at(2026, 2, 13, 16), 4, hours) == at(2026, 2, 14, 11, 0)
    # told Sat 02-14 16:00: 1.5 h Saturday, then nothing until Tue 02-24
    assert escalation_time(at(2026, 2, 14, 16), 4, hours) == at(2026, 2, 24, 11, 0)


def test_escalation_after_more_than_a_days_hours(hours: BusinessHours) -> None:
    # 12 h from Thu 2026-11-26 10:00: 7.5 h Thursday, 4.5 h Friday
    assert escalation_time(at(2026, 11, 26, 10), 12, hours) == at(2026, 11, 27, 13, 0)


def test_escalation_in_a_provisional_year(make_calendar: CalendarFactory) -> None:
    hours = BusinessHours(make_calendar({}))
    # Fri 2027-04-02 16:00; Mon 04-05 (Tomb-Sweeping Day) is off provisionally
    assert escalation_time(at(2027, 4, 2, 16), 4, hours) == at(2027, 4, 6, 11, 0)
