"""Routing's periodic work: clocks that reach their warning point, their deadline, or the next
escalation level, and pauses that reach their bound, even when no other event arrives (run by
`cs schedule routing`).

Each clock's `warned_at`, `breached_at` and escalation level change in the same transaction
as the event that announces them, so each event leaves exactly once, restarts included. When
each is due is stored on the clock, computed in working time when the clock starts, resumes,
breaches or its calendar changes (`warning_at`, `due_at`, `next_escalation_at`); a tick only
compares them with now, through partial indexes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.routing import clocks
from services.routing.domain.deadlines import share_used
from shared.db import Database, Transaction
from shared.events import new_event
from shared.scheduler import BATCH


def _due(tx: Transaction, condition: str, now: datetime) -> list[dict[str, Any]]:
    return tx.all(
        f"SELECT * FROM sla_clocks WHERE stopped_at IS NULL AND {condition}"
        " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        (now, BATCH),
    )


def elapsed_ratio(tx: Transaction, clock: dict[str, Any], now: datetime) -> float:
    """Share of the clock's working time used at `now`, paused time not counted."""
    pauses = clocks.pauses_of(tx, clock["id"]) if clock["paused_seconds"] else []
    hours = clocks.business_hours(tx, clock["started_at"], clock["due_at"])
    return round(share_used(clock["started_at"], clock["due_at"], now, hours, pauses), 3)


def _warn(tx: Transaction, clock: dict[str, Any], now: datetime) -> None:
    tx.execute("UPDATE sla_clocks SET warned_at = %s WHERE id = %s", (now, clock["id"]))
    clock["warned_at"] = now
    tx.emit(
        new_event(
            "sla.warning",
            clock["case_id"],
            {
                "case_id": clock["case_id"],
                "clock": clock["clock"],
                "due_at": clock["due_at"],
                "elapsed_ratio": elapsed_ratio(tx, clock, now),
            },
            source=clocks.SOURCE,
        )
    )


def tick(db: Database, now: datetime) -> int:
    """Pauses that ran out, then warnings, breaches and escalations that are due at `now`;
    returns how many."""
    with db.transaction() as tx:
        resumed = clocks.end_pauses_due(tx, now, BATCH)
        warnings = _due(tx, "state = 'running' AND warned_at IS NULL AND warning_at <= %s", now)
        for clock in warnings:
            _warn(tx, clock, now)
        breaches = _due(tx, "state = 'running' AND breached_at IS NULL AND due_at <= %s", now)
        for clock in breaches:
            if clock["warned_at"] is None:
                _warn(tx, clock, now)  # a warning always comes before its breach
            clocks.breach(tx, clock, now)
        escalations = _due(
            tx, "state = 'breached' AND escalation_level = 2 AND next_escalation_at <= %s", now
        )
        for clock in escalations:
            clocks.escalate(tx, clock, 3, now)
    return resumed + len(warnings) + len(breaches) + len(escalations)
