"""The state-machine helper shared by routing's work items and intake's case lifecycle."""

from __future__ import annotations

import pytest

from services.intake.domain.lifecycle import next_state, refuse
from shared.errors import Conflict
from shared.statemachine import IllegalTransition, machine

DOOR = machine(
    "door",
    ("open", "closed", "locked"),
    {
        "close": (("open",), "closed"),
        "lock": (("closed",), "locked"),
        "knock": (("closed", "locked"), None),
    },
)


def test_an_allowed_action_leads_to_its_target_or_stays() -> None:
    assert DOOR.next_state("open", "close") == "closed"
    assert DOOR.next_state("locked", "knock") == "locked"


def test_an_action_from_the_wrong_state_is_a_conflict_that_says_what_is_possible() -> None:
    with pytest.raises(IllegalTransition) as refused:
        DOOR.next_state("open", "lock")
    assert isinstance(refused.value, Conflict)  # answered 409 by shared.web
    assert str(refused.value) == "cannot lock a door that is open; possible now: close"
    assert (refused.value.action, refused.value.state, refused.value.allowed) == (
        "lock",
        "open",
        ["close"],
    )


def test_a_machine_naming_an_unknown_state_is_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="unknown states"):
        machine("door", ("open",), {"close": (("open",), "shut")})


def test_the_case_lifecycle_uses_it() -> None:
    assert next_state("open", "transfer") == "transferred"
    possible = "cannot close a case that is open; possible now: resolve, transfer"
    with pytest.raises(IllegalTransition, match=possible):
        next_state("open", "close")
    assert str(refuse("give an ETA for", "closed")) == (
        "cannot give an ETA for a case that is closed; possible now: reopen"
    )
