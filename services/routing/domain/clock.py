"""An SLA clock's lifecycle (no I/O): start, pause, resume, stop as met or breached; when its
warning, breach and next escalation are due; the department deadline and its fallbacks.

A clock is running, paused (waiting for the customer, at most CS_SLA_PAUSE_MAX_H), or stopped
as met or breached; a running clock past its deadline is breached before it stops. Its times
(`warning_at`, `due_at`, `next_escalation_at`) are computed in working time when it starts,
resumes, breaches or its calendar changes (domain/deadlines.py), so whether something is due is
a comparison with now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.routing.domain.deadlines import (
    BusinessHours,
    Deadline,
    Interval,
    escalation_time,
    warning_time,
    working_day_deadline,
    working_hours_deadline,
)
from shared.statemachine import machine

STATES = ("running", "paused", "met", "breached")
# what a caller may do to a clock; stopping and breaching follow the case and the time
CLOCK = machine(
    "clock",
    STATES,
    {"pause": (("running",), "paused"), "resume": (("paused",), "running")},
)
# escalation level -> who is told
ESCALATION = {2: "department_head", 3: "supervision_group"}
# a department clock of a case without a customer clock takes these terms
FALLBACK_TERMS: dict[str, Any] = {
    "kind": "complaint",
    "priority": "normal",
    "working_days": 2,
    "policy_version": 1,
    "warning_ratio": 0.75,
}
# a department without a target, on a case without a customer deadline: 2 working days
FALLBACK_WORKING_DAYS = 2


# start


def customer_deadline(received_at: datetime, working_days: int, hours: BusinessHours) -> Deadline:
    """The customer clock's deadline: `working_days` working days from receipt, at close of
    business (provisional while a year it reaches has no official schedule)."""
    return working_day_deadline(received_at, working_days, hours.calendar, hours.close_of_business)


def warning_at(
    started_at: datetime,
    due_at: datetime,
    ratio: float,
    hours: BusinessHours,
    pauses: Sequence[Interval] = (),
) -> datetime:
    """When the clock is warned: the policy's share of its working time, pauses not counted."""
    return warning_time(started_at, due_at, ratio, hours, list(pauses))


def department_terms(customer: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a department clock takes from the customer clock of its generation, or the
    fallback terms when the case has none."""
    if customer is None:
        return dict(FALLBACK_TERMS, generation=1)
    return {k: customer[k] for k in (*FALLBACK_TERMS, "generation")}


def department_deadline(
    *,
    customer_due: datetime | None,
    customer_provisional: bool,
    ola_hours: float | None,
    routed_at: datetime,
    hours: BusinessHours,
) -> tuple[datetime, bool]:
    """The department clock's due time and whether it is provisional.

    The department's target (`ola_hours`, working hours) never reaches past the customer
    deadline; without a target the customer deadline is the department's too; without either,
    FALLBACK_WORKING_DAYS.
    """
    if ola_hours:
        deadline = working_hours_deadline(
            routed_at, float(ola_hours), hours.calendar, hours.opening, hours.close_of_business
        )
        due, provisional = deadline.due_at, customer_provisional or deadline.provisional
        if customer_due is not None and customer_due < due:
            due = customer_due
        return due, provisional
    if customer_due is not None:
        return customer_due, customer_provisional
    deadline = working_day_deadline(
        routed_at, FALLBACK_WORKING_DAYS, hours.calendar, hours.close_of_business
    )
    return deadline.due_at, deadline.provisional


# pause and resume


def pause_ends_at(state: str, at: datetime, max_hours: float) -> datetime:
    """Pausing a clock in `state` at `at`: when the pause ends by itself.
    IllegalTransition (409) unless it is running."""
    CLOCK.check("pause", state)
    return at + timedelta(hours=max_hours)


def check_resume(state: str) -> None:
    """IllegalTransition (409) unless the clock is paused."""
    CLOCK.check("resume", state)


@dataclass(frozen=True)
class Resumed:
    at: datetime  # when the pause ended: the asked time, or the bound if that came first
    paused_seconds: float  # all the clock's paused time, this pause included
    due_at: datetime  # the deadline moved by this pause


def resume(
    *,
    paused_at: datetime,
    pause_ends_at: datetime | None,
    paused_seconds: float,
    due_at: datetime,
    at: datetime,
) -> Resumed:
    """Ends a pause at `at`, or where its bound ended it; the deadline moves by the time the
    clock stood still."""
    if pause_ends_at is not None and pause_ends_at < at:
        at = pause_ends_at
    paused = max(0.0, (at - paused_at).total_seconds())
    return Resumed(at, paused_seconds + paused, due_at + timedelta(seconds=paused))


# stop


@dataclass(frozen=True)
class Stopped:
    state: str  # met or breached
    met: bool
    breach_to_announce: bool  # late, and the scheduler has not announced its breach yet


def stop(*, due_at: datetime, breached_at: datetime | None, at: datetime) -> Stopped:
    """Stopped at `at`, the time of the step that stopped it: met when in time, even after a
    breach was announced (a step reported later with its own time), else breached."""
    met = at <= due_at
    return Stopped("met" if met else "breached", met, not met and breached_at is None)


# what is due


def warning_due(clock: Mapping[str, Any], now: datetime) -> bool:
    return (
        clock["stopped_at"] is None
        and clock["state"] == "running"
        and clock["warned_at"] is None
        and clock["warning_at"] is not None
        and clock["warning_at"] <= now
    )


def breach_due(clock: Mapping[str, Any], now: datetime) -> bool:
    return (
        clock["stopped_at"] is None
        and clock["state"] == "running"
        and clock["breached_at"] is None
        and clock["due_at"] <= now
    )


def escalation_due(clock: Mapping[str, Any], now: datetime) -> bool:
    """A breach the department head was told of goes on to the supervision group."""
    return (
        clock["stopped_at"] is None
        and clock["state"] == "breached"
        and clock["escalation_level"] == 2
        and clock["next_escalation_at"] is not None
        and clock["next_escalation_at"] <= now
    )


def pause_over(clock: Mapping[str, Any], now: datetime) -> bool:
    """A pause that reached its bound: the clock runs again, as of the bound."""
    return (
        clock["state"] == "paused"
        and clock["pause_ends_at"] is not None
        and clock["pause_ends_at"] <= now
    )


def next_escalation_at(
    level: int, told_at: datetime, after_hours: float, hours: BusinessHours
) -> datetime | None:
    """After level `level` was told at `told_at`: when the next level is, if there is one."""
    if level in ESCALATION and level + 1 in ESCALATION:
        return escalation_time(told_at, after_hours, hours)
    return None
