"""The object rules on their own: who may act on a case where it is, and whose work a caller
reads (shared/scoping.py), and where intake's states put a case (lifecycle.holder)."""

from __future__ import annotations

import pytest

from services.intake.domain.lifecycle import STATES, holder
from shared.errors import Forbidden
from shared.scoping import (
    TRANSFERRING,
    Actor,
    case_refusal,
    reading_confined_to,
    require,
    require_reading,
)

AGENT = Actor("a-1", frozenset({"agent"}))
STAFF_A = Actor("s-a", frozenset({"department_staff"}), "A")
HEAD_B = Actor("h-b", frozenset({"department_head"}), "B")
STRANGER = Actor("s-x", frozenset({"department_staff"}), None)
SUPERVISOR = Actor("sup", frozenset({"supervisor"}))
SYSTEM = Actor("cti", frozenset({"system"}))
ADMIN = Actor("root", frozenset({"admin"}))


@pytest.mark.parametrize("anywhere", [SUPERVISOR, SYSTEM, ADMIN])
@pytest.mark.parametrize("where", [None, "A", TRANSFERRING])
def test_supervisors_systems_and_admin_act_anywhere(anywhere: Actor, where: object) -> None:
    assert case_refusal(anywhere, where, "resolve", "case X") is None  # type: ignore[arg-type]


def test_a_department_acts_on_its_own_cases_only() -> None:
    assert case_refusal(STAFF_A, "A", "resolve", "case X") is None
    refusal = case_refusal(HEAD_B, "A", "resolve", "case X")
    assert refusal == (
        "case X is with department A: only its staff and head (or supervisors) may resolve it"
    )
    assert "not an active member" in str(case_refusal(STRANGER, "A", "resolve", "case X"))
    assert "with the front line" in str(case_refusal(STAFF_A, None, "resolve", "case X"))


def test_agents_act_on_front_line_cases_only() -> None:
    assert case_refusal(AGENT, None, "give an ETA for", "case X") is None
    assert "is with department A" in str(case_refusal(AGENT, "A", "give an ETA for", "case X"))
    refusal = str(case_refusal(AGENT, TRANSFERRING, "resolve", "case X"))
    assert "being transferred" in refusal and "only supervisors" in refusal


def test_roles_add_up() -> None:
    both = Actor("x", frozenset({"agent", "department_staff"}), "A")
    assert case_refusal(both, None, "resolve", "c") is None
    assert case_refusal(both, "A", "resolve", "c") is None
    assert case_refusal(both, "B", "resolve", "c") is not None


def test_require_raises_forbidden_with_the_reason() -> None:
    with pytest.raises(Forbidden, match="^case X is with department A"):
        require(HEAD_B, "A", "pause", "case X")
    require(STAFF_A, "A", "pause", "case X")


def test_reading() -> None:
    for everyone in (AGENT, SUPERVISOR, SYSTEM, ADMIN, Actor("t", frozenset({"trainer"}))):
        assert reading_confined_to(everyone) is None
        require_reading(everyone, "Z", "work item 1")
    assert reading_confined_to(STAFF_A) == "A"
    require_reading(STAFF_A, "A", "work item 1")
    with pytest.raises(Forbidden, match="^work item 1 is not B's"):
        require_reading(HEAD_B, "A", "work item 1")
    with pytest.raises(Forbidden, match="not an active member of a department"):
        reading_confined_to(STRANGER)


def test_where_intake_states_put_a_case() -> None:
    where = {state: holder(state, "A") for state in STATES}
    assert where == {
        "open": None,
        "transferred": TRANSFERRING,
        "in_department": "A",
        "resolved": None,
        "closed": None,
        "reopened": None,
    }
