"""Events training consumes: one function per type. The consumer records each in the inbox."""

from __future__ import annotations

from shared.db import Transaction
from shared.events import Event
from shared.service import Handler


def on_staff_upserted(tx: Transaction, event: Event) -> None:
    d = event.data
    tx.execute(
        "INSERT INTO staff (staff_id, display_name, role, department, active, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (staff_id) DO UPDATE SET display_name = excluded.display_name,"
        " role = excluded.role, department = excluded.department, active = excluded.active,"
        " updated_at = excluded.updated_at WHERE staff.updated_at <= excluded.updated_at",
        (d["staff_id"], d["display_name"], d["role"], d["department"], d["active"], event.time),
    )


EVENT_HANDLERS: dict[str, Handler] = {
    "staff.upserted": on_staff_upserted,
}
