"""Routing's periodic work: clocks that reach their warning point, their deadline, or the next
escalation level, and pauses that reach their bound, even when no other event arrives (run by
`cs schedule routing`).

Each clock's `warned_at`, `breached_at` and escalation level change in the same transaction
as the event that announces them, so each event leaves exactly once, restarts included. When
each is due is stored on the clock, computed in working time when the clock starts, resumes,
breaches or its calendar changes (`warning_at`, `due_at`, `next_escalation_at`); a tick only
compares them with now, through partial indexes (the rules: domain/clock.py; the writes:
commands/clocks.py).
"""

from __future__ import annotations

from datetime import datetime

from services.routing.commands import clocks
from shared.db import Database
from shared.scheduler import BATCH


def tick(db: Database, now: datetime) -> int:
    """Pauses that ran out, then warnings, breaches and escalations that are due at `now`;
    returns how many."""
    with db.transaction() as tx:
        return (
            clocks.end_pauses_due(tx, now, BATCH)
            + clocks.warn_due(tx, now, BATCH)
            + clocks.breach_due(tx, now, BATCH)
            + clocks.escalate_due(tx, now, BATCH)
        )
