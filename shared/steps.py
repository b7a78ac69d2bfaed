"""When a step happened: the server's time for people's own actions; for a step another system
reports (the call-centre system, a legacy system being migrated), the time it gives.

A reported time is bounded (architecture, "Time is an input"): not later than now plus a small
clock skew, not before 2000, and not before the step it follows (a case's receipt, its previous
step). A caller that may not date steps, or a date out of bounds, is refused with 422 naming
`occurred_at` and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.auth import Caller
from shared.errors import Invalid
from shared.limits import EARLIEST, MAX_CLOCK_SKEW, time_problem

__all__ = ["EARLIEST", "MAX_CLOCK_SKEW", "REPORTING_ROLES", "Step", "step_of", "time_problem"]

# the roles that report steps on behalf of the people who did them
REPORTING_ROLES = ("system",)


@dataclass(frozen=True)
class Step:
    """Who did a step and when; `reported` when another system gave the time."""

    at: datetime
    by: str
    reported: bool = False

    def not_before(self, earlier: datetime | None, what: str) -> Step:
        """This step, checked to come no earlier than `earlier` (the step it follows)."""
        if self.reported and earlier is not None and self.at < earlier:
            raise Invalid(
                "occurred_at", f"lies before {what} ({earlier.isoformat()}): steps keep their order"
            )
        return self


def step_of(
    caller: Caller,
    now: datetime,
    occurred_at: datetime | None = None,
    actor_id: str | None = None,
) -> Step:
    """The step a request describes: the caller now, or for a reporting system the time and
    the person it names. Raises Invalid (422) for a caller that may not, or a time out of
    bounds."""
    if occurred_at is None and actor_id is None:
        return Step(now, caller.subject)
    if not caller.has_role(*REPORTING_ROLES):
        field = "occurred_at" if occurred_at is not None else "actor_id"
        raise Invalid(field, "only a reporting system (role system) may date a step or say who")
    if occurred_at is None:
        return Step(now, actor_id or caller.subject)
    problem = time_problem(occurred_at, now)
    if problem:
        raise Invalid("occurred_at", problem)
    return Step(occurred_at, actor_id or caller.subject, reported=True)
