"""Routing's periodic work: clocks that reach their warning point, their deadline, or the next
escalation level, even when no other event arrives (run by `cs schedule routing`).

Each clock's `warned_at`, `breached_at` and escalation level change in the same transaction
as the event that announces them, so each event leaves exactly once, restarts included.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.routing import clocks
from shared.db import Database, Transaction
from shared.events import new_event
from shared.scheduler import BATCH


def _due(tx: Transaction, condition: str, now: datetime) -> list[dict[str, Any]]:
    return tx.all(
        f"SELECT * FROM sla_clocks WHERE stopped_at IS NULL AND {condition}"
        " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        (now, BATCH),
    )


def elapsed_ratio(clock: dict[str, Any], now: datetime) -> float:
    """Share of the clock's time used, paused time not counted."""
    total = (clock["due_at"] - clock["started_at"]).total_seconds() - clock["paused_seconds"]
    used = (now - clock["started_at"]).total_seconds() - clock["paused_seconds"]
    return round(min(max(used / total, 0.0), 1.0), 3) if total > 0 else 1.0


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
                "elapsed_ratio": elapsed_ratio(clock, now),
            },
            source=clocks.SOURCE,
        )
    )


def tick(db: Database, now: datetime) -> int:
    """Warnings, then breaches, then escalations that are due at `now`; returns how many."""
    with db.transaction() as tx:
        warnings = _due(tx, "state = 'running' AND warned_at IS NULL AND warning_at <= %s", now)
        for clock in warnings:
            _warn(tx, clock, now)
        breaches = _due(tx, "state = 'running' AND breached_at IS NULL AND due_at <= %s", now)
        for clock in breaches:
            if clock["warned_at"] is None:
                _warn(tx, clock, now)  # a warning always comes before its breach
            clocks.breach(tx, clock, now)
        later = now - timedelta(hours=tx.settings.escalation_after_h)
        escalations = _due(
            tx, "state = 'breached' AND escalation_level = 2 AND escalated_at <= %s", later
        )
        for clock in escalations:
            clocks.escalate(tx, clock, 3, now)
    return len(warnings) + len(breaches) + len(escalations)
