"""A demo history as a plan, as data: the fictitious customers, and each case with the time of
every step (demo/quarter.py builds it). No I/O."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.periods import Period


@dataclass(frozen=True)
class Customer:
    account_no: str
    name: str
    phones: tuple[str, ...]
    id_number: str | None
    email: str | None
    region: str
    line: str


@dataclass(frozen=True)
class Call:
    """One follow-up call attempt."""

    at: datetime
    result: str  # reached | no_answer
    solved: bool | None = None
    satisfaction: int | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Department:
    """What the department does with a transferred case, and when."""

    code: str  # where the demo sends it (the rules may choose the same for a named-less one)
    named: bool  # the transfer names the department (always before the rules of today applied)
    accepted_at: datetime
    handled_at: datetime
    progress_at: datetime | None = None  # a complex case: the customer is told an ETA
    eta: datetime | None = None


@dataclass(frozen=True)
class Reopening:
    """Not solved after all (the follow-up call said so): solved again, and called again."""

    reopened_at: datetime
    due_at: datetime
    resolved_at: datetime
    calls: tuple[Call, ...]

    @property
    def late(self) -> bool:
        return self.resolved_at > self.due_at


@dataclass(frozen=True)
class CasePlan:
    number: int
    customer: Customer
    kind: str
    channel: str
    category: str
    priority: str
    content: str
    received_at: datetime
    opened_at: datetime  # recorded (hotline: during the call; e-mail, online: on arrival)
    call_ended_at: datetime | None  # the hotline call
    identity_method: str | None
    agent: str
    route: str  # first_contact | transfer | later (the front line answers after checking)
    due_at: datetime  # the customer clock's time limit
    reply_at: datetime | None  # e-mail: the agent's acknowledgement
    acted_at: datetime  # first contact resolved, transferred, or noted for later
    department: Department | None
    resolved_at: datetime
    outage: bool
    calls: tuple[Call, ...]  # follow-up call attempts, in order; none: never called
    reopening: Reopening | None = None

    @property
    def late(self) -> bool:
        """Resolved after its time limit: a breach."""
        return self.resolved_at > self.due_at

    def steps(self) -> Iterator[datetime]:
        """The times of its steps, in order."""
        yield self.received_at
        yield self.opened_at
        for at in (self.call_ended_at, self.reply_at, self.acted_at):
            if at is not None:
                yield at
        if self.department:
            yield self.department.accepted_at
            if self.department.progress_at:
                yield self.department.progress_at
            yield self.department.handled_at
        yield self.resolved_at
        yield from (c.at for c in self.calls)
        if self.reopening:
            yield self.reopening.reopened_at
            yield self.reopening.resolved_at
            yield from (c.at for c in self.reopening.calls)


@dataclass(frozen=True)
class Plan:
    quarter: Period
    seed: int
    set_no: int
    now: datetime  # steps up to this time are done; later ones are left for later
    customers: list[Customer]
    cases: list[CasePlan]
    outage_region: str | None
    outage_at: datetime | None
    rules_from: date = field(default=date.min)  # routing's rules apply from this day

    @property
    def tag(self) -> str:
        return account_tag(self.quarter, self.seed, self.set_no)

    @property
    def start(self) -> datetime:
        return self.quarter.previous().start

    def done(self, at: datetime | None) -> bool:
        """Whether a step at `at` has happened by the plan's now."""
        return at is not None and at <= self.now


def account_tag(quarter: Period, seed: int, set_no: int) -> str:
    """What every account number of one demo set starts with."""
    return f"DEMO-{seed}-{quarter.year}Q{quarter.number}-{set_no}-"


def first_account(quarter: Period, seed: int, set_no: int) -> str:
    return f"{account_tag(quarter, seed, set_no)}{1:05d}"
