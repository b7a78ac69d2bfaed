"""Intake's copy of the staff directory, from `staff.upserted`: the department of each active
member, which the object rules need (shared/scoping.py). The token says who a caller is and
their roles; only the directory says where they work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.auth import Caller
from shared.db import Transaction
from shared.scoping import Actor


def record(tx: Transaction, data: dict[str, Any], as_of: datetime) -> None:
    """The latest word on a member of staff wins; an older event arriving late is ignored."""
    tx.execute(
        "INSERT INTO staff (staff_id, role, department, active, as_of)"
        " VALUES (%(staff_id)s, %(role)s, %(department)s, %(active)s, %(as_of)s)"
        " ON CONFLICT (staff_id) DO UPDATE SET role = excluded.role,"
        " department = excluded.department, active = excluded.active, as_of = excluded.as_of"
        " WHERE staff.as_of <= excluded.as_of",
        dict(data, as_of=as_of),
    )


def actor(tx: Transaction, caller: Caller) -> Actor:
    """The caller with the department the directory gives them (None unless active)."""
    row = tx.one("SELECT department FROM staff WHERE staff_id = %s AND active", (caller.subject,))
    return Actor.of(caller, row["department"] if row else None)
