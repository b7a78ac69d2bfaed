"""Improvement measures and their status changes (announced as events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.followup.commands import SOURCE
from services.followup.domain import (
    improvements,
)
from shared.db import Transaction
from shared.errors import Conflict, NotFound
from shared.events import new_event

# --- improvement measures ----------------------------------------------------------------------


def create_improvement(tx: Transaction, body: dict[str, Any], by: str, now: datetime) -> uuid.UUID:
    improvement_id = uuid.uuid4()
    tx.execute(
        "INSERT INTO improvements (id, problem, department, measure, due_on, source, source_ref,"
        " created_by, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            improvement_id,
            body["problem"],
            body["department"],
            body["measure"],
            body.get("due_on"),
            body["source"],
            body.get("source_ref"),
            by,
            now,
        ),
    )
    tx.execute(
        "INSERT INTO improvement_history (improvement_id, status, note, by, at)"
        " VALUES (%s, 'open', %s, %s, %s)",
        (improvement_id, body.get("note"), by, now),
    )
    _announce(tx, "improvement.created", improvement_id, body)
    return improvement_id


def _announce(
    tx: Transaction, type_: str, improvement_id: uuid.UUID, measure: dict[str, Any]
) -> None:
    tx.emit(
        new_event(
            type_,
            str(improvement_id),
            {
                "improvement_id": str(improvement_id),
                "department": measure["department"],
                "source": measure["source"],
                "due_on": measure.get("due_on"),
            },
            source=SOURCE,
        )
    )


def change_improvement_status(
    tx: Transaction, improvement_id: uuid.UUID, body: dict[str, Any], by: str, now: datetime
) -> None:
    """A new entry in the measure's history; closing it announces `improvement.closed`."""
    measure = tx.one("SELECT * FROM improvements WHERE id = %s FOR UPDATE", (improvement_id,))
    if measure is None:
        raise NotFound(f"no improvement measure {improvement_id}")
    current = tx.one(
        "SELECT status FROM improvement_history WHERE improvement_id = %s ORDER BY id DESC LIMIT 1",
        (improvement_id,),
    )
    try:
        improvements.check_move(current["status"] if current else "open", body["status"])
    except improvements.IllegalStatus as e:
        raise Conflict(str(e)) from None
    tx.execute(
        "INSERT INTO improvement_history (improvement_id, status, note, evidence, by, at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (improvement_id, body["status"], body.get("note"), body.get("evidence"), by, now),
    )
    if body["status"] == improvements.FINAL:
        _announce(tx, "improvement.closed", improvement_id, measure)
