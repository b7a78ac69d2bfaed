from datetime import UTC, date, datetime

from services.training.domain.certificates import add_months, expires_on, passed, standing


def test_a_score_at_the_pass_mark_passes():
    assert passed(80, 80) and passed(92, 80) and not passed(79.5, 80)


def test_months_are_added_to_the_day_clamped_to_short_months():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 12) == date(2027, 11, 15)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)


def test_a_certificate_expires_validity_months_after_its_shanghai_date():
    # 2026-03-31 20:00 UTC is 1 April in Shanghai
    assert expires_on(datetime(2026, 3, 31, 20, 0, tzinfo=UTC), 12) == date(2027, 4, 1)


def test_standing():
    today = date(2026, 11, 25)
    assert standing(None, today, 30).status == "overdue"
    assert standing(None, today, 30).reason == "never_passed"
    expired = standing(date(2026, 11, 25), today, 30)
    assert (expired.status, expired.reason, expired.days_left) == ("overdue", "expired", 0)
    next_week = standing(date(2026, 12, 2), today, 30)
    assert (next_week.status, next_week.days_left) == ("expiring", 7)
    assert standing(date(2026, 12, 25), today, 30).status == "expiring"
    assert standing(date(2026, 12, 26), today, 30).status == "compliant"
    assert standing(date(2026, 12, 2), today, 5).status == "compliant"
