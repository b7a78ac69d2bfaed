"""The states of a case and the moves between them (no I/O).

open → (transferred → in_department) → resolved → closed; a resolved or closed case can be
reopened, and a reopened case moves on like an open one.
"""

from __future__ import annotations

from shared.scoping import TRANSFERRING, Holder
from shared.statemachine import IllegalTransition, machine

STATES = ("open", "transferred", "in_department", "resolved", "closed", "reopened")
_WORKING = frozenset({"open", "reopened", "transferred", "in_department"})

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "transfer": (frozenset({"open", "reopened"}), "transferred"),
    "route": (frozenset({"transferred", "in_department"}), "in_department"),
    "resolve": (_WORKING, "resolved"),
    "close": (frozenset({"resolved"}), "closed"),
    "reopen": (frozenset({"resolved", "closed"}), "reopened"),
}
# closing by hand (a supervisor): without the customer's confirmation; a case is closed as
# `confirmed` only by its follow-up call (followup.completed), never by hand
HAND_CLOSE_OUTCOMES = ("withdrawn", "duplicate", "not_followed_up")
# actions that only add to the timeline but need a case still being worked on
ACTIVE_ONLY = frozenset({"eta"})


CASE = machine("case", STATES, TRANSITIONS, sort_allowed=True)


def next_state(state: str, action: str) -> str:
    """The state `action` leads to; IllegalTransition (409) when the case's state forbids it."""
    return CASE.next_state(state, action)


def refuse(action: str, state: str) -> IllegalTransition:
    """The error for an action the case's state does not allow (one not in TRANSITIONS)."""
    return IllegalTransition(action, state, CASE.allowed(state), CASE.noun)


def is_active(state: str) -> bool:
    """Still being worked on: an ETA can be given, interactions are expected."""
    return state in _WORKING


def working_states() -> list[str]:
    """The states of a case still being worked on, for a query."""
    return sorted(_WORKING)


def holder(state: str, department: str | None) -> Holder:
    """Who has the case now (shared/scoping.py): its department while it is in_department; no
    one yet while it is transferred and routing has not named the department; otherwise the
    front line (None). A resolved or closed case is the front line's again: its reopening,
    and anything after, start there."""
    if state == "in_department":
        return department
    if state == "transferred":
        return TRANSFERRING
    return None
