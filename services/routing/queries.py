"""Read-only SQL behind routing's GET endpoints."""

from __future__ import annotations

from typing import Any

from shared.db import Database


def case_clocks(db: Database, case_id: str) -> list[dict[str, Any]]:
    """Every clock of a case, the newest generation first, customer before department."""
    with db.transaction() as tx:
        return tx.all(
            "SELECT c.clock, c.generation, c.kind, c.priority, c.working_days, c.policy_version,"
            " c.received_at, c.started_at, c.due_at, c.provisional, c.state, c.stopped_at"
            " FROM sla_clocks c WHERE c.case_id = %s"
            " ORDER BY c.generation DESC, c.clock = 'customer' DESC",
            (case_id,),
        )
