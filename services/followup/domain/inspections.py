"""Quality inspection of a case: the supervision group's checklist and its score (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping

RULES = ("random", "complaints", "breached")
# item -> the most points it gives; True/False items count as 1 or 0 of 1
CHECKLIST: dict[str, int | None] = {
    "identity_verified": None,
    "courtesy": 5,
    "accuracy": 5,
    "time_limit_kept": None,
    "followup_done": None,
}


def checklist_problems(checklist: Mapping[str, object]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for item, top in CHECKLIST.items():
        value = checklist.get(item)
        if value is None:
            problems[item] = ["required"]
        elif top is None and not isinstance(value, bool):
            problems[item] = ["true or false"]
        elif top is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top
        ):
            problems[item] = [f"a whole number from 0 to {top}"]
    for item in checklist:
        if item not in CHECKLIST:
            problems[item] = ["not a checklist item"]
    return problems


def score(checklist: Mapping[str, int | bool]) -> float:
    """0–100: each item weighs the same, as the share of its points."""
    shares = []
    for item, top in CHECKLIST.items():
        value = checklist[item]
        shares.append(float(bool(value)) if top is None else int(value) / top)
    return round(100 * sum(shares) / len(shares), 1)
