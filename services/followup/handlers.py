"""Events followup consumes: one function per type. The consumer records each in the inbox."""

from __future__ import annotations

from shared.db import Transaction
from shared.events import Event
from shared.service import Handler


def on_case_resolved(tx: Transaction, event: Event) -> None:
    """Remembers a resolved case; a later resolution of the same case replaces it."""
    d = event.data
    tx.execute(
        "INSERT INTO resolved_cases (case_id, kind, category, department, resolved_by,"
        " first_contact, resolved_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (case_id) DO UPDATE SET department = excluded.department,"
        " resolved_by = excluded.resolved_by, first_contact = excluded.first_contact,"
        " resolved_at = excluded.resolved_at",
        (
            d["case_id"],
            d["kind"],
            d["category"],
            d["department"],
            d["resolved_by"],
            d["first_contact"],
            d["resolved_at"],
        ),
    )


EVENT_HANDLERS: dict[str, Handler] = {
    "case.resolved": on_case_resolved,
}
