"""The SLA clock's lifecycle as domain rules: no database, no broker, milliseconds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from services.routing.domain import clock
from services.routing.domain.deadlines import SHANGHAI, BusinessHours
from shared.errors import Conflict
from shared.statemachine import IllegalTransition
from shared.workdays import WorkingCalendar


def at(d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A time in the week of Monday 2026-11-09, no holiday in it."""
    return datetime(2026, 11, d, hh, mm, tzinfo=SHANGHAI)


@pytest.fixture
def hours(calendar: WorkingCalendar) -> BusinessHours:
    return BusinessHours(calendar)


def row(**changes: Any) -> dict[str, Any]:
    """A clock as stored: running, started Monday 09:00, due Tuesday at close of business."""
    return {
        "state": "running",
        "stopped_at": None,
        "due_at": at(10, 17, 30),
        "warning_at": at(10, 10, 45),
        "warned_at": None,
        "breached_at": None,
        "escalation_level": 0,
        "next_escalation_at": None,
        "paused_at": None,
        "pause_ends_at": None,
        **changes,
    }


def test_a_customer_deadline_is_working_days_to_close_of_business(hours: BusinessHours) -> None:
    deadline = clock.customer_deadline(at(9, 9), 2, hours)
    assert deadline.due_at == at(11, 17, 30)
    assert not deadline.provisional


def test_the_warning_is_the_policy_share_of_working_time(hours: BusinessHours) -> None:
    # 9:00 Monday to 17:30 Tuesday: 8.5 + 9 working hours; three quarters of it, 13.125 h,
    # ends 4.625 h into Tuesday
    warned = clock.warning_at(at(9, 9), at(10, 17, 30), 0.75, hours)
    assert warned == at(10, 13, 7) + timedelta(seconds=30)


def test_a_pause_may_start_only_on_a_running_clock_and_ends_by_its_bound() -> None:
    assert clock.pause_ends_at("running", at(9, 10), 72) == at(12, 10)
    for state in ("paused", "met", "breached"):
        with pytest.raises(IllegalTransition) as refused:
            clock.pause_ends_at(state, at(9, 10), 72)
        assert isinstance(refused.value, Conflict)
    with pytest.raises(IllegalTransition, match="cannot resume a clock that is running"):
        clock.check_resume("running")
    clock.check_resume("paused")


def test_resuming_moves_the_deadline_by_the_pause_and_never_past_its_bound() -> None:
    resumed = clock.resume(
        paused_at=at(9, 10),
        pause_ends_at=at(12, 10),
        paused_seconds=60.0,
        due_at=at(10, 17, 30),
        at=at(9, 12),
    )
    assert (resumed.at, resumed.paused_seconds) == (at(9, 12), 60.0 + 2 * 3600)
    assert resumed.due_at == at(10, 19, 30)
    late = clock.resume(
        paused_at=at(9, 10),
        pause_ends_at=at(12, 10),
        paused_seconds=0.0,
        due_at=at(10, 17, 30),
        at=at(13, 10),
    )
    assert late.at == at(12, 10)  # the bound ended it
    assert late.due_at == at(13, 17, 30)


def test_stopping_in_time_is_met_even_after_an_announced_breach() -> None:
    assert clock.stop(due_at=at(10, 17, 30), breached_at=None, at=at(10, 17, 30)) == clock.Stopped(
        "met", True, False
    )
    # a step reported later with its own time, after the scheduler announced the breach
    assert clock.stop(due_at=at(10, 17, 30), breached_at=at(10, 17, 30), at=at(10, 12)).met


def test_stopping_late_is_a_breach_announced_once() -> None:
    assert clock.stop(due_at=at(10, 17, 30), breached_at=None, at=at(11, 9)) == clock.Stopped(
        "breached", False, True
    )
    assert not clock.stop(
        due_at=at(10, 17, 30), breached_at=at(10, 17, 30), at=at(11, 9)
    ).breach_to_announce


def test_warning_breach_and_escalation_are_due_by_their_stored_times() -> None:
    assert not clock.warning_due(row(), at(10, 10, 44))
    assert clock.warning_due(row(), at(10, 10, 45))
    assert not clock.warning_due(row(warned_at=at(10, 10, 45)), at(10, 11))
    assert not clock.warning_due(row(state="paused"), at(10, 11))
    assert not clock.breach_due(row(), at(10, 17, 29))
    assert clock.breach_due(row(), at(10, 17, 30))
    assert not clock.breach_due(row(stopped_at=at(10, 12), state="met"), at(11))
    breached = row(state="breached", escalation_level=2, next_escalation_at=at(11, 12))
    assert not clock.escalation_due(breached, at(11, 11, 59))
    assert clock.escalation_due(breached, at(11, 12))
    assert not clock.escalation_due(dict(breached, escalation_level=3), at(12))
    paused = row(state="paused", paused_at=at(9, 10), pause_ends_at=at(12, 10))
    assert not clock.pause_over(paused, at(12, 9))
    assert clock.pause_over(paused, at(12, 10))


def test_the_head_is_followed_by_the_supervision_group_in_working_hours(
    hours: BusinessHours,
) -> None:
    # told Friday 16:30; 4 working hours later is Monday 11:30
    assert clock.next_escalation_at(2, at(13, 16, 30), 4, hours) == at(16, 11, 30)
    assert clock.next_escalation_at(3, at(13, 16, 30), 4, hours) is None
    assert clock.ESCALATION == {2: "department_head", 3: "supervision_group"}


def test_a_department_deadline_never_passes_the_customer_one(hours: BusinessHours) -> None:
    own, provisional = clock.department_deadline(
        customer_due=at(11, 17, 30),
        customer_provisional=False,
        ola_hours=4,
        routed_at=at(9, 9),
        hours=hours,
    )
    assert (own, provisional) == (at(9, 13), False)
    capped, _ = clock.department_deadline(
        customer_due=at(9, 11),
        customer_provisional=False,
        ola_hours=4,
        routed_at=at(9, 9),
        hours=hours,
    )
    assert capped == at(9, 11)


def test_without_a_target_the_customer_deadline_then_the_fallback(hours: BusinessHours) -> None:
    assert clock.department_deadline(
        customer_due=at(11, 17, 30),
        customer_provisional=True,
        ola_hours=None,
        routed_at=at(9, 9),
        hours=hours,
    ) == (at(11, 17, 30), True)
    due, provisional = clock.department_deadline(
        customer_due=None,
        customer_provisional=False,
        ola_hours=None,
        routed_at=at(9, 9),
        hours=hours,
    )
    assert (due, provisional) == (at(11, 17, 30), False)  # FALLBACK_WORKING_DAYS


def test_a_department_clock_takes_its_customer_clock_terms_or_the_fallback() -> None:
    assert clock.department_terms(None) == {
        "kind": "complaint",
        "priority": "normal",
        "working_days": 2,
        "policy_version": 1,
        "warning_ratio": 0.75,
        "generation": 1,
    }
    customer = {
        "kind": "consultation",
        "priority": "urgent",
        "working_days": 1,
        "policy_version": 3,
        "warning_ratio": 0.5,
        "generation": 2,
        "due_at": at(9, 17, 30),
    }
    assert clock.department_terms(customer) == {k: v for k, v in customer.items() if k != "due_at"}
