from datetime import UTC, date, datetime

import pytest

from shared.clock import SHANGHAI
from shared.periods import BadPeriod, Period


def test_a_quarter_and_a_month_have_their_days_in_shanghai():
    q = Period.parse("2026-Q4")
    assert (q.kind, q.first_day, q.last_day, q.end_day) == (
        "quarter",
        date(2026, 10, 1),
        date(2026, 12, 31),
        date(2027, 1, 1),
    )
    assert q.start == datetime(2026, 10, 1, tzinfo=SHANGHAI)
    assert q.months() == ["2026-10", "2026-11", "2026-12"]
    m = Period.parse("2026-02")
    assert (m.kind, m.last_day, str(m)) == ("month", date(2026, 2, 28), "2026-02")


def test_neighbours_cross_the_year():
    assert str(Period.parse("2026-Q4").next()) == "2027-Q1"
    assert str(Period.parse("2026-Q1").previous()) == "2025-Q4"
    assert str(Period.parse("2026-12").next()) == "2027-01"
    assert str(Period.parse("2026-01").previous()) == "2025-12"


def test_a_moment_belongs_to_the_shanghai_period():
    # 2026-09-30 17:00 UTC is already 1 October in Shanghai
    moment = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
    assert str(Period.of(moment, "quarter")) == "2026-Q4"
    assert str(Period.of(moment, "month")) == "2026-10"
    assert Period.parse("2026-Q4").contains(moment)
    assert not Period.parse("2026-Q3").contains(moment)


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "0000-Q1", "9999-Q4", "2026Q4", "", "x"])
def test_anything_else_is_refused(text):
    with pytest.raises(BadPeriod):
        Period.parse(text)


def test_the_kinds_asked_for_are_the_only_ones_accepted():
    with pytest.raises(BadPeriod, match="a quarter like 2026-Q4"):
        Period.parse("2026-11", kinds=("quarter",))


def test_standing_figures_are_taken_at_the_end_or_now():
    q = Period.parse("2026-Q4")
    inside = datetime(2026, 11, 5, tzinfo=UTC)
    assert q.as_of(inside) == inside
    assert q.as_of(datetime(2027, 3, 1, tzinfo=UTC)) == q.end
