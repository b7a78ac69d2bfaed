from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from services.routing.domain.deadlines import (
    DEFAULT_CLOSE_OF_BUSINESS,
    SHANGHAI,
    Deadline,
    working_day_deadline,
)
from shared.workdays import WorkingCalendar

from .conftest import CalendarFactory

CN = timezone(timedelta(hours=8))
CONSULTATION, COMPLAINT = 1, 2


def at(y: int, m: int, d: int, hh: int = 17, mm: int = 30) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def test_constants() -> None:
    assert (DEFAULT_CLOSE_OF_BUSINESS.hour, DEFAULT_CLOSE_OF_BUSINESS.minute) == (17, 30)
    assert str(SHANGHAI) == "Asia/Shanghai"


def test_complaint_over_spring_festival(calendar: WorkingCalendar) -> None:
    dl = working_day_deadline(datetime(2026, 2, 13, 10, 0, tzinfo=CN), COMPLAINT, calendar)
    assert dl == Deadline(
        due_at=at(2026, 2, 24),
        provisional=False,
        working_days=(date(2026, 2, 14), date(2026, 2, 24)),
    )
    assert dl.due_at.tzinfo is SHANGHAI
    assert dl.due_at.weekday() == 1  # Tuesday


def test_consultation_friday_evening_due_on_makeup_saturday(calendar: WorkingCalendar) -> None:
    dl = working_day_deadline(datetime(2026, 2, 13, 20, 0, tzinfo=CN), CONSULTATION, calendar)
    assert dl == Deadline(at(2026, 2, 14), False, (date(2026, 2, 14),))
    assert dl.due_at.weekday() == 5  # Saturday


def test_consultation_received_during_spring_festival(calendar: WorkingCalendar) -> None:
    dl = working_day_deadline(datetime(2026, 2, 15, 9, 0, tzinfo=CN), CONSULTATION, calendar)
    assert dl == Deadline(at(2026, 2, 24), False, (date(2026, 2, 24),))


def test_consultation_due_on_makeup_sunday(calendar: WorkingCalendar) -> None:
    dl = working_day_deadline(datetime(2026, 9, 18, 11, 0, tzinfo=CN), CONSULTATION, calendar)
    assert dl == Deadline(at(2026, 9, 20), False, (date(2026, 9, 20),))
    assert dl.due_at.weekday() == 6  # Sunday


def test_complaint_over_national_day(calendar: WorkingCalendar) -> None:
    dl = working_day_deadline(datetime(2026, 9, 30, 15, 0, tzinfo=CN), COMPLAINT, calendar)
    assert dl == Deadline(at(2026, 10, 9), False, (date(2026, 10, 8), date(2026, 10, 9)))


def test_new_years_eve_gets_provisional_deadline(calendar: WorkingCalendar) -> None:
    dl = working_day_deadline(datetime(2026, 12, 31, 12, 0, tzinfo=CN), CONSULTATION, calendar)
    assert dl.due_at != at(2027, 1, 1)
    assert dl == Deadline(at(2027, 1, 4), True, (date(2027, 1, 4),))


def test_utc_receipt_uses_shanghai_date(calendar: WorkingCalendar) -> None:
    received = datetime(2026, 2, 13, 13, 0, tzinfo=UTC)  # 21:00 Shanghai, still Fri 02-13
    dl = working_day_deadline(received, CONSULTATION, calendar)
    assert dl == Deadline(at(2026, 2, 14), False, (date(2026, 2, 14),))
    late = datetime(2026, 2, 13, 16, 30, tzinfo=UTC)  # 00:30 Sat 02-14 Shanghai
    assert working_day_deadline(late, CONSULTATION, calendar).due_at == at(2026, 2, 24)


def test_company_exception_shifts_deadline(make_calendar: CalendarFactory) -> None:
    received = datetime(2026, 3, 10, 9, 0, tzinfo=CN)  # Tuesday
    assert working_day_deadline(received, CONSULTATION, make_calendar({})).due_at == at(2026, 3, 11)
    cal = make_calendar({date(2026, 3, 11): (False, "company training day")})
    dl = working_day_deadline(received, CONSULTATION, cal)
    assert dl == Deadline(at(2026, 3, 12), False, (date(2026, 3, 12),))


def test_non_official_year_without_data_falls_back_to_weekdays() -> None:
    cal = WorkingCalendar()
    dl = working_day_deadline(datetime(1900, 1, 5, 10, 0, tzinfo=CN), COMPLAINT, cal)  # Friday
    assert dl == Deadline(
        datetime(1900, 1, 9, 17, 30, tzinfo=SHANGHAI), True, (date(1900, 1, 8), date(1900, 1, 9))
    )


def test_skipped_provisional_day_makes_deadline_provisional() -> None:
    cal = WorkingCalendar(
        {date(2030, 1, 2): (True, "official"), date(2030, 1, 3): (True, "official")},
        official_years=[],
    )
    # 2030-01-01 (holiday, provisional) is skipped; counted days are both explicit.
    dl = working_day_deadline(datetime(2029, 12, 31, 10, 0, tzinfo=CN), COMPLAINT, cal)
    assert dl == Deadline(at(2030, 1, 3), True, (date(2030, 1, 2), date(2030, 1, 3)))


def test_close_of_business_override(calendar: WorkingCalendar) -> None:
    dl = working_day_deadline(
        datetime(2026, 2, 13, 10, 0, tzinfo=CN), COMPLAINT, calendar, close_of_business=time(18, 0)
    )
    assert dl.due_at == datetime(2026, 2, 24, 18, 0, tzinfo=SHANGHAI)


def test_naive_datetime_rejected(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        working_day_deadline(datetime(2026, 2, 13, 10, 0), CONSULTATION, calendar)


@pytest.mark.parametrize("n", [0, -1])
def test_non_positive_working_days_rejected(calendar: WorkingCalendar, n: int) -> None:
    with pytest.raises(ValueError, match="working_days"):
        working_day_deadline(datetime(2026, 2, 13, 10, 0, tzinfo=CN), n, calendar)
