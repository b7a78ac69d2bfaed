"""A work item's states and the moves between them (no I/O).

queued → assigned → accepted → handled, with hand-backs to the queue and reassignment on the
way; an open item is closed when the case is resolved or routed again.
"""

from __future__ import annotations

from datetime import datetime

from shared.statemachine import machine

STATES = ("queued", "assigned", "accepted", "handed_back", "handled", "closed")
OPEN = ("queued", "assigned", "accepted", "handed_back")
ASSIGNED = ("assigned", "accepted")
# still waiting for the department: past its due time, such an item is overdue
WAITING = OPEN

# action -> (the states it may start from, the state it leads to; None: the move decides)
WORK_ITEM = machine(
    "work item",
    STATES,
    {
        "accept": (
            ("queued", "assigned", "handed_back"),
            "accepted",
        ),  # unassigned: the caller takes it
        "progress": (OPEN, None),
        "hand back": (ASSIGNED, None),
        "handle": (ASSIGNED, "handled"),
        "reassign": (OPEN, "assigned"),
    },
)


def check(action: str, state: str) -> None:
    """IllegalTransition (409) unless the item's `state` allows `action`."""
    WORK_ITEM.check(action, state)


def assignment_state(current: str, assignee: str | None) -> str:
    """The state after the item goes to `assignee`, or back to the queue (None): an item never
    assigned stays queued, one taken away is handed back."""
    if assignee is not None:
        return "assigned"
    return "queued" if current == "queued" else "handed_back"


def routed_state(assignee: str | None) -> str:
    """A newly routed item: assigned when someone was chosen, else queued."""
    return "assigned" if assignee else "queued"


def is_overdue(state: str, due_at: datetime | None, now: datetime) -> bool:
    """Waiting past its due time; an item with none (an incident's without an ETA) never is."""
    return state in WAITING and due_at is not None and due_at < now


def still_held_by(state: str, assignee: str | None, staff_id: str) -> bool:
    """The item is still `staff_id`'s to give away (not handled, closed or moved meanwhile)."""
    return assignee == staff_id and state in ASSIGNED
