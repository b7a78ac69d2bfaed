from datetime import UTC, date, datetime

import pytest

from services.training.domain.periods import BadPeriod, parse_period, period_of


def test_a_quarter_runs_from_its_first_month_to_the_next_quarter_in_shanghai_time():
    q = parse_period("2026-Q4")
    assert (q.kind, q.first_day, q.last_day, q.end_day) == (
        "quarter",
        date(2026, 10, 1),
        date(2026, 12, 31),
        date(2027, 1, 1),
    )
    # 2026-09-30 16:00 UTC is already 1 October in Shanghai
    assert q.contains(datetime(2026, 9, 30, 16, 0, tzinfo=UTC))
    assert not q.contains(datetime(2026, 9, 30, 15, 59, tzinfo=UTC))
    assert not q.contains(datetime(2026, 12, 31, 16, 0, tzinfo=UTC))


def test_a_month():
    m = parse_period("2026-11")
    assert (m.kind, m.first_day, m.last_day) == ("month", date(2026, 11, 1), date(2026, 11, 30))
    assert parse_period("2026-12").end_day == date(2027, 1, 1)


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "2026-Q0", "26-Q1", "2026Q4", "", "2026-1"])
def test_other_text_is_not_a_period(text):
    with pytest.raises(BadPeriod):
        parse_period(text)


def test_as_of_is_the_end_or_now_while_the_period_runs():
    q = parse_period("2026-Q4")
    now = datetime(2026, 11, 25, tzinfo=UTC)
    assert q.as_of(now) == now
    assert parse_period("2026-Q3").as_of(now) == parse_period("2026-Q3").end


def test_period_of_a_moment():
    moment = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # 2027-01-01 01:00 in Shanghai
    assert period_of(moment, "quarter").code == "2027-Q1"
    assert period_of(moment, "month").code == "2027-01"
