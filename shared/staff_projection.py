"""A service's local copy of the staff directory, kept from `staff.upserted` (routing, or HR
through routing, own who works here). Intake and training keep one each, in the same shape:

    staff_id text PRIMARY KEY, display_name text NOT NULL, role text NOT NULL,
    department text, active boolean NOT NULL, as_of timestamptz NOT NULL
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.db import Transaction

COLUMNS = ("staff_id", "display_name", "role", "department", "active")


def apply(tx: Transaction, data: dict[str, Any], as_of: datetime, table: str = "staff") -> None:
    """The latest word on a member of staff wins; an older event arriving late is ignored.
    `table` is a name from the service's own code, never from the event."""
    values = {c: data.get(c) for c in COLUMNS}
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*COLUMNS[1:], "as_of"))
    tx.execute(
        f"INSERT INTO {table} ({', '.join(COLUMNS)}, as_of)"
        f" VALUES ({', '.join(f'%({c})s' for c in COLUMNS)}, %(as_of)s)"
        f" ON CONFLICT (staff_id) DO UPDATE SET {updates} WHERE {table}.as_of <= excluded.as_of",
        dict(values, as_of=as_of),
    )
