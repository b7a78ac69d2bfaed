"""A demo history as a plan: who calls, about what, when, and every later step of each case at
its own time (no I/O).

The same quarter, seed, set number, clock and calendar always give the same plan.

The history runs from the first day of the quarter before `quarter` up to `now` (or the end of
`quarter`, when that is over). Cases are received over all of it, busy hours and working days
more often, and each step after receipt — recording, the e-mail reply, transfer, the
department's acceptance, progress and handling, resolution, follow-up calls, reopening — gets
its own time: the front line during the call or in office hours, departments in working hours,
call-backs the next working day. The demo reports each step with that time (`occurred_at`),
as the call-centre system and the departments' systems would, so events, clocks, scorecards and
reports see the history as it happened. A few per cent of the cases, spread over the whole
span, are resolved after their time limit. Steps whose time has not come yet (cases received
in the last day or two) are left for later: those cases are still open, as real work is.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from demo import data

TZ = ZoneInfo("Asia/Shanghai")
TIME_LIMITS = {"consultation": 1, "complaint": 2}  # working days (policy)
OPENING = time(8, 30)  # departments and the back office work 08:30 to close of business
# of the cases the front line does not solve at once, the share resolved after their time
# limit (a few per cent of all cases, spread over the history)
LATE_SHARE = 0.11
# how busy each hour of the day is, per channel (0-1)
_NIGHT = (0.03,) * 7
_HOTLINE = (*_NIGHT, 0.1, 0.5, 1, 1, 1, 0.7, 0.7, 0.9, 0.9, 0.9, 0.8, 0.6, 0.5, 0.3, 0.2, 0.1, 0.05)
_ONLINE = (*_NIGHT, 0.2, 0.6, 0.6, 0.6, 0.6, 0.7, 0.7, 0.6, 0.6, 0.6, 0.6, 1, 1, 1, 1, 0.8, 0.4)
BUSY = {"hotline": _HOTLINE, "online": _ONLINE, "email": _ONLINE}
assert all(len(hours) == 24 for hours in BUSY.values())
# follow-up satisfaction: mostly 4 and 5 when handled in time, worse when late
SCORES_IN_TIME = ((5, 56), (4, 30), (3, 9), (2, 4), (1, 1))
SCORES_LATE = ((5, 25), (4, 35), (3, 25), (2, 10), (1, 5))
# complaints fall a little from one quarter to the next: the report shows the trend
COMPLAINT_SHARE = {"previous": 0.38, "current": 0.33}
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
T = TypeVar("T")


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        m = _QUARTER.match(text.strip())
        if not m:
            raise ValueError(f"{text!r} is not a quarter like 2026-Q4")
        return cls(int(m[1]), int(m[2]))

    @classmethod
    def of(cls, at: datetime) -> Quarter:
        local = at.astimezone(TZ)
        return cls(local.year, (local.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def tag(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), TZ)

    @property
    def end(self) -> datetime:
        """The first instant after the quarter."""
        if self.number == 4:
            return datetime(self.year + 1, 1, 1, tzinfo=TZ)
        return datetime(self.year, 3 * self.number + 1, 1, tzinfo=TZ)

    def previous(self) -> Quarter:
        return Quarter(self.year, self.number - 1) if self.number > 1 else Quarter(self.year - 1, 4)


@dataclass(frozen=True)
class Calendar:
    """Working days as routing counts them: its exceptions (holidays, 调休), else Mon-Fri."""

    exceptions: Mapping[date, bool]
    close_of_business: time = time(17, 30)

    def working(self, day: date) -> bool:
        return self.exceptions.get(day, day.weekday() < 5)

    def due(self, received: datetime, working_days: int) -> datetime:
        """Close of business of the Nth working day strictly after the date of receipt."""
        day, counted = received.astimezone(TZ).date(), 0
        while counted < working_days:
            day += timedelta(days=1)
            counted += self.working(day)
        return datetime.combine(day, self.close_of_business, TZ)

    def _hours(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, OPENING, TZ),
            datetime.combine(day, self.close_of_business, TZ),
        )

    def next_open(self, at: datetime) -> datetime:
        """`at` when it falls in working hours of a working day, else the next opening."""
        day = at.astimezone(TZ).date()
        for _ in range(60):
            begin, end = self._hours(day)
            if self.working(day) and at < end:
                return max(at, begin)
            day += timedelta(days=1)
        raise ValueError(f"no working day within 60 days after {at}")  # pragma: no cover

    def add_working(self, at: datetime, span: timedelta) -> datetime:
        """`span` of working time after `at` (as routing counts a department's target)."""
        cursor, left = self.next_open(at), span
        while True:
            _, end = self._hours(cursor.astimezone(TZ).date())
            if end - cursor >= left:
                return cursor + left
            left -= end - cursor
            cursor = self.next_open(end + timedelta(seconds=1))

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end`."""
        total, cursor = timedelta(0), self.next_open(start)
        while cursor < end:
            _, close = self._hours(cursor.astimezone(TZ).date())
            total += min(close, end) - cursor
            cursor = self.next_open(close + timedelta(seconds=1))
        return total


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
    quarter: Quarter
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


def account_tag(quarter: Quarter, seed: int, set_no: int) -> str:
    """What every account number of one demo set starts with."""
    return f"DEMO-{seed}-{quarter.tag}-{set_no}-"


def first_account(quarter: Quarter, seed: int, set_no: int) -> str:
    return f"{account_tag(quarter, seed, set_no)}{1:05d}"


def _pick(rng: random.Random, weighted: Sequence[tuple[T, float]]) -> T:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=round(60 * rng.uniform(low, high)))


def _when(
    rng: random.Random, start: datetime, end: datetime, channel: str, calendar: Calendar
) -> datetime:
    """A time in [start, end), busy hours and working days more likely."""
    span = (end - start).total_seconds()
    if span <= 0:
        return end
    t = start
    for _ in range(200):
        t = start + timedelta(seconds=rng.random() * span)
        local = t.astimezone(TZ)
        weight = BUSY[channel][local.hour] * (1.0 if calendar.working(local.date()) else 0.4)
        if rng.random() < weight:
            break
    return t.replace(microsecond=0)


def _outage_interval(
    rng: random.Random, start: datetime, end: datetime, calendar: Calendar
) -> tuple[datetime, datetime]:
    """Three hours of a working evening in [start, end), a week or more before `end` when the
    span allows it (its cases are handled by now), else the last working evening."""
    days = [
        start.astimezone(TZ).date() + timedelta(days=n)
        for n in range((end - start).days + 1)
        if calendar.working(start.astimezone(TZ).date() + timedelta(days=n))
    ]
    evenings = [datetime.combine(d, time(19), TZ) for d in days]
    fits = [e for e in evenings if start <= e and e + timedelta(hours=3) <= end]
    early = [e for e in fits if e + timedelta(days=7) <= end]
    if early or fits:
        begin = rng.choice(early or fits)
        return begin, begin + timedelta(hours=3)
    return max(start, end - timedelta(hours=3)), end


def _customers(rng: random.Random, tag: str, n: int) -> list[Customer]:
    customers = []
    for i in range(1, n + 1):
        email = f"{tag.lower()}{i:05d}@{data.EMAIL_DOMAIN}" if rng.random() < 0.35 else None
        customers.append(
            Customer(
                account_no=f"{tag}{i:05d}",
                name=data.fictitious_name(rng),
                phones=tuple(data.fictitious_phone(rng) for _ in range(1 + (rng.random() < 0.15))),
                id_number=data.fictitious_id_number(rng) if rng.random() < 0.85 else None,
                email=email,
                region=_pick(rng, data.REGIONS),
                line=f"{rng.choice(data.STREETS)}{rng.randrange(1, 300)}号",
            )
        )
    return customers


def _calls(
    rng: random.Random, resolved: datetime, late: bool, calendar: Calendar, reopen: bool = True
) -> tuple[Call, ...]:
    """The follow-up call attempts after a resolution: the next working day or so, a retry a
    few working hours after each unanswered one."""
    at = calendar.next_open(resolved + _minutes(rng, 60, 20 * 60))
    r = rng.random()
    if r < 0.02:
        return ()  # never called: the task is still waiting
    if r < 0.06:  # unreachable: three unanswered calls
        calls = []
        for _ in range(3):
            calls.append(Call(at, "no_answer"))
            at = calendar.add_working(at, _minutes(rng, 90, 240))
        return tuple(calls)
    first: tuple[Call, ...] = ()
    if r < 0.18:
        first = (Call(at, "no_answer"),)
        at = calendar.add_working(at, _minutes(rng, 90, 240))
    if reopen and rng.random() < (0.12 if late else 0.05):
        return (*first, Call(at, "reached", False, rng.choice((1, 2, 2, 3)), "问题还没有解决"))
    score = _pick(rng, SCORES_LATE if late else SCORES_IN_TIME)
    comment = data.FOLLOWUP_COMMENTS[score] if rng.random() < 0.4 else None
    return (*first, Call(at, "reached", True, score, comment))


def _route(rng: random.Random, kind: str, category: str, channel: str, outage: bool) -> str:
    if outage:
        return "transfer" if rng.random() < 0.75 else "first_contact"
    first_contact = 0.74 if kind == "consultation" else 0.46
    if category == "service_attitude":
        first_contact = 0.2
    if channel != "hotline":
        first_contact -= 0.05
    r = rng.random()
    if r < first_contact:
        return "first_contact"
    return "later" if r < first_contact + 0.04 else "transfer"


def _in_time(rng: random.Random, start: datetime, due: datetime, calendar: Calendar) -> datetime:
    """A time after `start` well inside the working time left before `due`."""
    window = calendar.working_between(start, due)
    return calendar.add_working(start, window * rng.uniform(0.15, 0.8))


def _late(rng: random.Random, due: datetime, calendar: Calendar) -> datetime:
    """A time after `due`: from an hour to a working day and a half of working time."""
    return calendar.add_working(due, _minutes(rng, 60, 13.5 * 60))


def _department(
    rng: random.Random,
    code: str,
    named: bool,
    transferred: datetime,
    due: datetime,
    late: bool,
    outage: bool,
    calendar: Calendar,
) -> Department:
    accepted = calendar.next_open(transferred + _minutes(rng, 3, 40))
    if late:
        handled = _late(rng, due, calendar)
    elif outage:  # the line is repaired overnight and confirmed in the morning
        handled = accepted + _minutes(rng, 10, 90)
    else:
        target = next(d.ola_hours for d in data.DEPARTMENTS if d.code == code) or 8.0
        window = min(timedelta(hours=target), calendar.working_between(accepted, due))
        handled = calendar.add_working(accepted, window * rng.uniform(0.2, 0.9))
    handled = max(handled, accepted + timedelta(minutes=5))
    if rng.random() < 0.15 and not outage:  # complex: the customer is told when
        worked = calendar.working_between(accepted, handled) * rng.uniform(0.1, 0.4)
        progress = calendar.add_working(accepted, worked).replace(microsecond=0)
        eta = datetime.combine(handled.astimezone(TZ).date(), time(18), TZ)
        return Department(code, named, accepted, handled, progress, eta)
    return Department(code, named, accepted, handled)


def build(
    quarter: Quarter,
    seed: int,
    cases: int,
    now: datetime,
    calendar: Calendar,
    *,
    set_no: int = 1,
) -> Plan:
    """The plan of one demo set: `quarter` and the one before, up to `now`; ValueError when
    the quarter has not begun."""
    if now < quarter.start + timedelta(hours=1):
        raise ValueError(f"{quarter} has not begun yet: choose a quarter that has")
    start = quarter.previous().start
    end = min(now - timedelta(minutes=5), quarter.end - timedelta(seconds=1))
    rules_from = now.astimezone(TZ).date()
    rng = random.Random(f"{quarter}/{seed}/{set_no}")
    tag = account_tag(quarter, seed, set_no)
    customers = _customers(rng, tag, max(8, round(cases * 0.65)))
    with_email = [c for c in customers if c.email] or customers

    n_outage = max(2, round(cases * 0.02)) if cases >= 20 else 0
    outage_region = _pick(rng, data.REGIONS) if n_outage else None
    outage_from, outage_to = _outage_interval(rng, max(start, quarter.start), end, calendar)
    in_region = [c for c in customers if c.region == outage_region] or customers
    agent_weights = [(data.agent_id(i), 0.7 + 0.6 * ((i * 7) % 24) / 23) for i in range(1, 25)]

    planned: list[CasePlan] = []
    for i in range(cases):
        outage = i < n_outage
        channel = _pick(rng, (("hotline", 75), ("online", 25)) if outage else data.CHANNELS)
        if outage:
            span = (outage_to - outage_from).total_seconds()
            received = outage_from + timedelta(seconds=int(rng.random() * span))
        else:
            received = _when(rng, start, end, channel, calendar)
        share = COMPLAINT_SHARE["previous" if received < quarter.start else "current"]
        kind = "complaint" if rng.random() < (0.7 if outage else share) else "consultation"
        category = "broadband" if outage else _pick(rng, data.CATEGORIES[kind])
        pool = with_email if channel == "email" else in_region if outage else customers
        customer = rng.choice(pool)
        route = _route(rng, kind, category, channel, outage)
        late = route != "first_contact" and not outage and rng.random() < LATE_SHARE
        due = calendar.due(received, TIME_LIMITS[kind])

        call_ended = reply = None
        if channel == "hotline":
            call_ended = received + timedelta(seconds=rng.randint(90, 690))
            opened = received + (call_ended - received) * rng.uniform(0.2, 0.6)
            acted = call_ended
        elif channel == "email":
            opened = received + _minutes(rng, 1, 3)
            reply = calendar.next_open(opened + _minutes(rng, 5, 90))
            acted = reply + _minutes(rng, 2, 30)
        else:
            opened = received + timedelta(seconds=rng.randint(2, 30))
            acted = calendar.next_open(opened + _minutes(rng, 10, 120))
        opened = opened.replace(microsecond=0)
        department = None
        if route == "transfer":
            code = data.DEPARTMENT_FOR[category]
            named = acted.astimezone(TZ).date() < rules_from or channel == "email"
            named = named or rng.random() < 0.2
            department = _department(rng, code, named, acted, due, late, outage, calendar)
            resolved = department.handled_at
        elif route == "later":
            resolved = _late(rng, due, calendar) if late else _in_time(rng, acted, due, calendar)
        else:
            resolved = acted
        calls = _calls(rng, resolved, late, calendar)
        reopening = None
        unsolved = next((c for c in calls if c.solved is False), None)
        if unsolved is not None:
            again_due = calendar.due(unsolved.at, TIME_LIMITS[kind])
            again_late = rng.random() < 0.1
            again = (
                _late(rng, again_due, calendar)
                if again_late
                else calendar.add_working(unsolved.at, _minutes(rng, 60, 300))
            )
            reopening = Reopening(
                unsolved.at,
                again_due,
                again,
                _calls(rng, again, again_late, calendar, reopen=False),
            )
        planned.append(
            CasePlan(
                number=0,
                customer=customer,
                kind=kind,
                channel=channel,
                category=category,
                priority="high" if outage else _pick(rng, data.PRIORITIES),
                content=rng.choice(data.OUTAGE_TEXT if outage else data.TEXTS[category]),
                received_at=received,
                opened_at=opened,
                call_ended_at=call_ended,
                identity_method=(
                    _pick(rng, (("caller_id", 50), ("account_id_digits", 35), ("sms_code", 15)))
                    if channel == "hotline"
                    else None
                ),
                agent=_pick(rng, agent_weights),
                route=route,
                due_at=due,
                reply_at=reply,
                acted_at=acted,
                department=department,
                resolved_at=resolved,
                outage=outage,
                calls=calls,
                reopening=reopening,
            )
        )
    planned.sort(key=lambda c: (c.received_at, c.customer.account_no))
    numbered = [replace(c, number=n) for n, c in enumerate(planned, 1)]
    return Plan(
        quarter,
        seed,
        set_no,
        now,
        customers,
        numbered,
        outage_region,
        outage_from if n_outage else None,
        rules_from,
    )
