"""The daily compliance check (run by the scheduler): flags staff who became overdue on a
mandatory course. A flag is recorded once per staff member, course and expiry; there is no
event for it, supervisors read `GET /compliance/flags`."""

from __future__ import annotations

from datetime import date, datetime

from services.training import queries
from shared.db import Transaction


def flag_overdue(tx: Transaction, today: date) -> int:
    """Flags every overdue (staff, course, expiry) not flagged before; returns how many."""
    flagged = 0
    for row in queries.mandatory_standings(tx, None, today, 0):
        if row["status"] != "overdue":
            continue
        flagged += tx.execute(
            "INSERT INTO compliance_flags (staff_id, department, course_code, reason, expired_on,"
            " check_day, flagged_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (staff_id, course_code, expired_on) DO NOTHING",
            (
                row["staff_id"],
                row["department"],
                row["course_code"],
                row["reason"],
                row["expires_on"],
                today,
                tx.now,
            ),
        ).rowcount
    return flagged


def daily_check(tx: Transaction, today: date, now: datetime) -> int:
    """The day's check, if it has not run that day; returns the new flags."""
    first = tx.execute(
        "INSERT INTO compliance_checks (day, ran_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (today, now),
    ).rowcount
    if not first:
        return 0
    flagged = flag_overdue(tx, today)
    tx.execute("UPDATE compliance_checks SET flagged = %s WHERE day = %s", (flagged, today))
    return flagged
