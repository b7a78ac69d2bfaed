"""Events routing consumes: one function per type. The consumer records each in the inbox."""

from __future__ import annotations

from services.routing import commands
from shared.db import Transaction
from shared.events import Event
from shared.service import Handler


def on_case_opened(tx: Transaction, event: Event) -> None:
    data = event.data
    commands.start_customer_clock(
        tx,
        case_id=data["case_id"],
        kind=data["kind"],
        priority=data["priority"],
        received_at=data.get("received_at") or data["opened_at"],
        close_of_business=tx.settings.close_of_business,
    )


EVENT_HANDLERS: dict[str, Handler] = {
    "case.opened": on_case_opened,
}
