"""Events training consumes: one function per type. The consumer records each in the inbox.

Beyond the staff projection, each event becomes at most one scorecard fact keyed by its id,
so a second delivery changes nothing. `case.handled` is not consumed: intake turns it into a
`case.resolved` (resolved_by = the handler), which would count the same work twice.
"""

from __future__ import annotations

from services.training import queries
from services.training.commands import scorecards, staff
from services.training.domain import scorecard
from shared.db import Transaction
from shared.events import Event
from shared.service import Handler


def on_staff_upserted(tx: Transaction, event: Event) -> None:
    staff.record(tx, event.data, event.time)


def on_case_resolved(tx: Transaction, event: Event) -> None:
    """A resolution for the resolver's scorecard (first contact or not)."""
    d = event.data
    scorecards.record_resolution(tx, event.id, d["case_id"], d["resolved_by"], d["resolved_at"])
    scorecards.record_fact(
        tx,
        event_id=event.id,
        event_type=event.type,
        fact=scorecard.RESOLUTION,
        staff_id=d["resolved_by"],
        value=1 if d["first_contact"] else 0,
        occurred_at=d["resolved_at"],
        subject=d["case_id"],
    )


def on_case_reopened(tx: Transaction, event: Event) -> None:
    """Not solved after all: counts against whoever had resolved it."""
    d = event.data
    scorecards.record_fact(
        tx,
        event_id=event.id,
        event_type=event.type,
        fact=scorecard.REOPENED,
        staff_id=queries.resolver(tx, d["case_id"], d["reopened_at"]),
        value=1,
        occurred_at=d["reopened_at"],
        subject=d["case_id"],
    )


def _time_limit(tx: Transaction, event: Event, met: bool, at_field: str) -> None:
    d = event.data
    scorecards.record_time_limit(
        tx,
        event_id=event.id,
        event_type=event.type,
        staff_id=d.get("assignee_id"),
        met=met,
        occurred_at=d[at_field],
        case_id=d["case_id"],
        clock=d["clock"],
        due_at=d["due_at"],
    )


def on_sla_met(tx: Transaction, event: Event) -> None:
    _time_limit(tx, event, True, "completed_at")


def on_sla_breached(tx: Transaction, event: Event) -> None:
    _time_limit(tx, event, False, "breached_at")


def on_followup_completed(tx: Transaction, event: Event) -> None:
    """The customer's satisfaction counts for whoever resolved the case, when someone else
    made the call; a call the resolver made counts for no one (commands/scorecards.py)."""
    d = event.data
    if d["satisfaction"] is None:
        return
    resolver = queries.resolver(tx, d["case_id"], d["completed_at"])
    scorecards.record_fact(
        tx,
        event_id=event.id,
        event_type=event.type,
        fact=scorecard.SATISFACTION,
        staff_id=None if resolver == d["agent_id"] else resolver,
        value=d["satisfaction"],
        occurred_at=d["completed_at"],
        subject=d["case_id"],
        recorded_by=d["agent_id"],
    )


EVENT_HANDLERS: dict[str, Handler] = {
    "staff.upserted": on_staff_upserted,
    "case.resolved": on_case_resolved,
    "case.reopened": on_case_reopened,
    "sla.met": on_sla_met,
    "sla.breached": on_sla_breached,
    "followup.completed": on_followup_completed,
}
