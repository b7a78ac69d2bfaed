"""Assessments, certificates and where a staff member stands on a mandatory course."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from shared.clock import SHANGHAI

DEFAULT_EXPIRING_WITHIN_DAYS = 30
Status = Literal["overdue", "expiring", "compliant"]
Reason = Literal["never_passed", "expired"]


def passed(score: float, pass_mark: float) -> bool:
    return score >= pass_mark


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it is shorter (01-31 + 1 → 02-28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expires_on(assessed_at: datetime, validity_months: int) -> date:
    """The first day a certificate is no longer valid: its Asia/Shanghai date + validity."""
    return add_months(assessed_at.astimezone(SHANGHAI).date(), validity_months)


@dataclass(frozen=True)
class Standing:
    status: Status
    reason: Reason | None
    expires_on: date | None
    days_left: int | None  # until expires_on; 0 or less once expired


def standing(expires: date | None, today: date, expiring_within_days: int) -> Standing:
    """Overdue (never passed, or the latest certificate expired), expiring (expires within the
    window), else compliant."""
    if expires is None:
        return Standing("overdue", "never_passed", None, None)
    days_left = (expires - today).days
    if days_left <= 0:
        return Standing("overdue", "expired", expires, days_left)
    if days_left <= expiring_within_days:
        return Standing("expiring", None, expires, days_left)
    return Standing("compliant", None, expires, days_left)
