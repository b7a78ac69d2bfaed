"""Improvement measures: where they come from and how their status may move (no I/O)."""

from __future__ import annotations

SOURCES = ("quarterly_analysis", "inspection", "feedback")
STATUSES = ("open", "in_progress", "done", "verified", "closed")
FINAL = "closed"
# status -> statuses it may move to; staying (a progress note) is allowed while not closed
_MOVES: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "done", "closed"}),
    "in_progress": frozenset({"done", "closed"}),
    # verification failed: back to work
    "done": frozenset({"verified", "in_progress", "closed"}),
    "verified": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
}


class IllegalStatus(Exception):
    """The move is not possible from the measure's current status (HTTP 409)."""


def check_move(current: str, new: str) -> None:
    if current == FINAL:
        raise IllegalStatus("the measure is closed; its history is kept as it is")
    if new != current and new not in _MOVES[current]:
        allowed = ", ".join(sorted(_MOVES[current] | {current}))
        raise IllegalStatus(f"cannot go from {current} to {new}; possible: {allowed}")
