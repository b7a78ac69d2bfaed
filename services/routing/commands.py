"""Routing's use cases; handlers and HTTP views write only through these."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from services.routing import repository
from services.routing.domain.deadlines import SHANGHAI, working_day_deadline
from shared.db import Transaction
from shared.events import new_event

SOURCE = "/routing"


def start_customer_clock(
    tx: Transaction,
    *,
    case_id: str,
    kind: str,
    priority: str,
    received_at: datetime,
    close_of_business: time,
) -> dict[str, Any] | None:
    """Starts the case's customer clock (policy: consultation 1 working day, complaint 2).

    Returns the clock, or None when the case already has one (the event came twice).
    """
    policy = repository.sla_policy(tx, kind, priority)
    if policy is None:
        raise LookupError(f"no SLA policy for kind {kind!r}")
    received_on = received_at.astimezone(SHANGHAI).date()
    calendar = repository.calendar_from(tx, received_on)
    deadline = working_day_deadline(
        received_at, policy["working_days"], calendar, close_of_business
    )
    clock = tx.one(
        "INSERT INTO sla_clocks (case_id, clock, kind, priority, working_days, policy_version,"
        " received_at, due_at, provisional)"
        " VALUES (%s, 'customer', %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (case_id, clock, generation) DO NOTHING"
        " RETURNING case_id, clock, due_at, provisional, policy_version",
        (
            case_id,
            kind,
            priority,
            policy["working_days"],
            policy["version"],
            received_at,
            deadline.due_at,
            deadline.provisional,
        ),
    )
    if clock is None:
        return None
    tx.emit(
        new_event(
            "sla.started",
            case_id,
            {
                "case_id": case_id,
                "clock": "customer",
                "policy_version": policy["version"],
                "due_at": deadline.due_at,
                "provisional": deadline.provisional,
            },
            source=SOURCE,
        )
    )
    return clock
