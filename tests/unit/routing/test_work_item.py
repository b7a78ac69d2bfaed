"""The work item's state machine (domain/work_item.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.routing.domain import work_item
from shared.statemachine import IllegalTransition


def test_each_move_starts_only_from_its_states() -> None:
    work_item.check("accept", "queued")
    work_item.check("handle", "accepted")
    with pytest.raises(
        IllegalTransition,
        match="cannot handle a work item that is queued; possible now: accept, progress, reassign",
    ):
        work_item.check("handle", "queued")
    for action in ("accept", "progress", "hand back", "handle", "reassign"):
        with pytest.raises(IllegalTransition):
            work_item.check(action, "closed")


def test_an_item_taken_away_is_handed_back_and_one_never_assigned_stays_queued() -> None:
    assert work_item.assignment_state("accepted", "s-2") == "assigned"
    assert work_item.assignment_state("accepted", None) == "handed_back"
    assert work_item.assignment_state("queued", None) == "queued"
    assert work_item.routed_state(None) == "queued"
    assert work_item.routed_state("s-1") == "assigned"


def test_overdue_is_waiting_past_its_due_time() -> None:
    now = datetime(2026, 11, 9, 9, tzinfo=UTC)
    past = now - timedelta(seconds=1)
    assert work_item.is_overdue("accepted", past, now)
    assert not work_item.is_overdue("handled", past, now)
    assert not work_item.is_overdue("queued", now, now)


def test_an_item_is_still_held_only_while_assigned_to_the_same_member() -> None:
    assert work_item.still_held_by("accepted", "s-1", "s-1")
    assert not work_item.still_held_by("handled", "s-1", "s-1")
    assert not work_item.still_held_by("assigned", "s-2", "s-1")
