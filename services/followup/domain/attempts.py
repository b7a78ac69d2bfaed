"""A follow-up call attempt and what it does to the task (no I/O).

A task is `due` until it ends: `completed` when the customer was reached (outcome `confirmed`
when they say it is solved, `unresolved` when not), or `unreachable` after the configured
number of failed attempts (no answer, wrong number). Solved, satisfaction and comment belong to a
reached call only.
"""

from __future__ import annotations

from dataclasses import dataclass

RESULTS = ("reached", "no_answer", "wrong_number")
STATES = ("due", "completed", "unreachable", "cancelled", "skipped_do_not_call")
OPEN_STATES = ("due",)
REACHED_ONLY = ("solved", "satisfaction", "comment")


@dataclass(frozen=True)
class Ending:
    """How a task ends after an attempt; None fields mean it stays due."""

    state: str
    outcome: str | None


def attempt_problems(result: str, answers: dict[str, object]) -> dict[str, list[str]]:
    """Field errors, as a 422 names them: reached needs `solved`; others take none of the three."""
    problems: dict[str, list[str]] = {}
    if result == "reached":
        if answers.get("solved") is None:
            problems["solved"] = ["say whether the customer's problem is solved"]
    else:
        for name in REACHED_ONLY:
            if answers.get(name) is not None:
                problems[name] = [f"only when the customer was reached, not {result}"]
    return problems


def after_attempt(
    result: str, solved: bool | None, failed_before: int, max_failed: int
) -> Ending | None:
    """What the task becomes after this attempt; None while it stays due."""
    if result == "reached":
        return Ending("completed", "confirmed" if solved else "unresolved")
    if failed_before + 1 >= max_failed:
        return Ending("unreachable", "unreachable")
    return None
