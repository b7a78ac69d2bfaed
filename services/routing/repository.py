"""SQL that loads and saves routing's domain objects; the rules live in domain/."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from shared.db import Transaction
from shared.workdays import WorkingCalendar

# far enough ahead for any time limit, even across a Spring Festival
_CALENDAR_WINDOW = timedelta(days=120)


def calendar_from(tx: Transaction, start: date) -> WorkingCalendar:
    """The calendar from `start` onwards, as far as a time limit can reach."""
    rows = tx.execute(
        "SELECT day, working, reason FROM calendar_days WHERE day > %s AND day <= %s",
        (start, start + _CALENDAR_WINDOW),
    ).fetchall()
    years = [r[0] for r in tx.execute("SELECT year FROM calendar_years").fetchall()]
    return WorkingCalendar({day: (working, reason) for day, working, reason in rows}, years)


def sla_policy(tx: Transaction, kind: str, priority: str, at: datetime) -> dict | None:
    """The policy in effect on the (Shanghai) date of `at` for kind and priority, else the
    kind's normal one."""
    return tx.one(
        "SELECT kind, priority, working_days, warning_ratio, version FROM sla_policies"
        " WHERE kind = %s AND priority IN (%s, 'normal')"
        " AND effective_from <= (%s AT TIME ZONE 'Asia/Shanghai')::date"
        " ORDER BY priority = %s DESC, effective_from DESC, version DESC LIMIT 1",
        (kind, priority, at, priority),
    )
