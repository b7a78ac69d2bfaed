"""Who in a department gets a work item (no I/O).

Least-loaded: among the department's active members who may take work (department_staff or
department_head) whose skills include the case's category (no skills: any category) and whose
regions include the case's region (no regions: any region), the one with the fewest open work
items. Ties go round-robin: the one whose last assignment is longest ago (never assigned comes
first), then the smallest staff id, so the choice is always the same for the same facts.
Nobody qualifying is an answer too: the item waits unassigned in the department's queue.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from services.routing.domain.rules import normalise

ASSIGNABLE_ROLES = frozenset({"department_staff", "department_head"})


@dataclass(frozen=True)
class Candidate:
    staff_id: str
    role: str
    active: bool = True
    skills: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    open_items: int = 0
    last_assigned_at: datetime | None = None


def _covers(accepted: tuple[str, ...], value: str | None) -> bool:
    if not accepted:
        return True
    return value is not None and normalise(value) in {normalise(a) for a in accepted}


def qualifies(candidate: Candidate, *, category: str | None, region: str | None) -> bool:
    return (
        candidate.active
        and candidate.role in ASSIGNABLE_ROLES
        and _covers(candidate.skills, category)
        and _covers(candidate.regions, region)
    )


def _turn(candidate: Candidate) -> tuple:
    never = candidate.last_assigned_at is None
    return (
        candidate.open_items,
        not never,
        candidate.last_assigned_at.timestamp() if candidate.last_assigned_at else 0.0,
        candidate.staff_id,
    )


def choose_assignee(
    candidates: Iterable[Candidate],
    *,
    category: str | None,
    region: str | None,
    exclude: Collection[str] = (),
) -> str | None:
    """The staff id that gets the item, or None when nobody qualifies."""
    eligible = [
        c
        for c in candidates
        if c.staff_id not in exclude and qualifies(c, category=category, region=region)
    ]
    return min(eligible, key=_turn).staff_id if eligible else None
