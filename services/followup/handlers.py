"""Events followup consumes: one function per type. The consumer records each in the inbox.

`case.opened` is an additive consumption (the catalogue lists routing and training): followup
needs each case's channel, region, category and opaque customer id for complaint volumes per
quarter, campaign samples and the do-not-call check, and it learns them only from this event.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.followup import commands
from shared.db import Transaction
from shared.events import Event
from shared.service import Handler


def on_case_opened(tx: Transaction, event: Event) -> None:
    commands.record_case_opened(tx, event.data)


def on_case_resolved(tx: Transaction, event: Event) -> None:
    """Schedules the follow-up call: one per resolution, however often the event arrives."""
    commands.schedule_followup(tx, event.data, datetime.now(UTC))


def on_case_reopened(tx: Transaction, event: Event) -> None:
    commands.record_case_reopened(tx, event.data)


def on_case_closed(tx: Transaction, event: Event) -> None:
    commands.record_case_closed(tx, event.data)


def on_sla_met(tx: Transaction, event: Event) -> None:
    commands.record_sla_result(tx, event.data, met=True)


def on_sla_breached(tx: Transaction, event: Event) -> None:
    commands.record_sla_result(tx, event.data, met=False)


def on_staff_upserted(tx: Transaction, event: Event) -> None:
    commands.record_staff(tx, event.data, event.time)


EVENT_HANDLERS: dict[str, Handler] = {
    "case.opened": on_case_opened,
    "case.resolved": on_case_resolved,
    "case.reopened": on_case_reopened,
    "case.closed": on_case_closed,
    "sla.met": on_sla_met,
    "sla.breached": on_sla_breached,
    "staff.upserted": on_staff_upserted,
}
