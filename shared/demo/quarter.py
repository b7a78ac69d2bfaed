"""A demo quarter as a plan: who calls, about what, when, and what becomes of each case (no I/O).

The same quarter, seed, set number, clock and calendar always give the same plan.

When things happen. Intake accepts the time a case was received, in the past; every later step —
transfer, resolution, follow-up call — the services stamp with the real time, as an audit trail
must. So a case received weeks ago and resolved today is late, whatever the demo does. For the
quarter that is running, the demo therefore places the receipt of every case it will handle in
time inside that case's time limit counted back from now (a consultation within about the last
working day, a complaint within about the last two), and receives the few cases meant to breach
earlier in the quarter. `spread=True`, and any quarter that is over, spreads every receipt over
the whole quarter instead: realistic volumes per month, but the time limits of whatever the demo
handles then show as breached.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from shared.demo import data

TZ = ZoneInfo("Asia/Shanghai")
TIME_LIMITS = {"consultation": 1, "complaint": 2}  # working days (policy)
# a case the demo handles is resolved within this of the plan's `now`
MARGIN = timedelta(minutes=45)
# how busy each hour of the day is, per channel (0-1)
_NIGHT = (0.03,) * 7
_HOTLINE = (*_NIGHT, 0.1, 0.5, 1, 1, 1, 0.7, 0.7, 0.9, 0.9, 0.9, 0.8, 0.6, 0.5, 0.3, 0.2, 0.1, 0.05)
_ONLINE = (*_NIGHT, 0.2, 0.6, 0.6, 0.6, 0.6, 0.7, 0.7, 0.6, 0.6, 0.6, 0.6, 1, 1, 1, 1, 0.8, 0.4)
BUSY = {"hotline": _HOTLINE, "online": _ONLINE, "email": _ONLINE}
assert all(len(hours) == 24 for hours in BUSY.values())
# follow-up satisfaction: mostly 4 and 5 when handled in time, worse when late
SCORES_IN_TIME = ((5, 56), (4, 30), (3, 9), (2, 4), (1, 1))
SCORES_LATE = ((5, 25), (4, 35), (3, 25), (2, 10), (1, 5))
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

    result: str  # reached | no_answer
    solved: bool | None = None
    satisfaction: int | None = None
    comment: str | None = None


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
    identity_method: str | None
    agent: str
    route: str  # first_contact | transfer | waiting (the front line has not finished)
    department: str | None  # named by the agent on transfer; None: routing's rules decide
    eta_days: int | None  # a complex case: the department tells the customer an ETA
    finished: bool  # the department reports it handled during the demo
    late: bool  # received too long ago to be handled in time
    outage: bool
    calls: tuple[Call, ...]  # follow-up call attempts, in order; none: not called yet
    fix_after_reopen: bool  # not solved after all: the agent resolves it again

    @property
    def resolved(self) -> bool:
        return self.route == "first_contact" or (self.route == "transfer" and self.finished)

    @property
    def reopens(self) -> bool:
        return any(c.result == "reached" and c.solved is False for c in self.calls)


@dataclass(frozen=True)
class Plan:
    quarter: Quarter
    seed: int
    set_no: int
    live: bool
    customers: list[Customer]
    cases: list[CasePlan]
    outage_region: str | None
    outage_at: datetime | None

    @property
    def tag(self) -> str:
        return account_tag(self.quarter, self.seed, self.set_no)


def account_tag(quarter: Quarter, seed: int, set_no: int) -> str:
    """What every account number of one demo set starts with."""
    return f"DEMO-{seed}-{quarter.tag}-{set_no}-"


def first_account(quarter: Quarter, seed: int, set_no: int) -> str:
    return f"{account_tag(quarter, seed, set_no)}{1:05d}"


def _pick(rng: random.Random, weighted: Sequence[tuple[T, float]]) -> T:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def earliest_in_time(kind: str, now: datetime, calendar: Calendar) -> datetime:
    """The earliest receipt whose time limit still ends after `now` + MARGIN."""
    day = now.astimezone(TZ).date()
    for _ in range(60):
        before = day - timedelta(days=1)
        due = calendar.due(datetime.combine(before, time(12), TZ), TIME_LIMITS[kind])
        if due < now + MARGIN:
            break
        day = before
    return datetime.combine(day, time(0), TZ)


def latest_breached(now: datetime, calendar: Calendar) -> datetime:
    """The end of the last day whose cases (either kind) are past their time limit by now."""
    day = now.astimezone(TZ).date()
    longest = max(TIME_LIMITS.values())
    while calendar.due(datetime.combine(day, time(12), TZ), longest) > now - timedelta(hours=1):
        day -= timedelta(days=1)
    return datetime.combine(day, time(23, 59, 59), TZ)


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
    """Three hours of a working evening inside [start, end), or the last three hours."""
    day = end.astimezone(TZ).date()
    while datetime.combine(day, time(0), TZ) >= start:
        begin = datetime.combine(day, time(19), TZ)
        if calendar.working(day) and begin + timedelta(hours=3) <= end:
            return begin, begin + timedelta(hours=3)
        day -= timedelta(days=1)
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


def _calls(rng: random.Random, late: bool) -> tuple[Call, ...]:
    r = rng.random()
    if r < 0.04:
        return ()  # still in the follow-up queue
    if r < 0.08:
        return (Call("no_answer"),) * 3  # unreachable
    first = (Call("no_answer"),) if r < 0.20 else ()
    if rng.random() < (0.12 if late else 0.05):
        return (*first, Call("reached", False, rng.choice((1, 2, 2, 3)), "问题还没有解决"))
    score = _pick(rng, SCORES_LATE if late else SCORES_IN_TIME)
    comment = data.FOLLOWUP_COMMENTS[score] if rng.random() < 0.4 else None
    return (*first, Call("reached", True, score, comment))


def build(
    quarter: Quarter,
    seed: int,
    cases: int,
    now: datetime,
    calendar: Calendar,
    *,
    set_no: int = 1,
    spread: bool = False,
) -> Plan:
    """The plan of one demo set; ValueError when the quarter has not begun."""
    if now < quarter.start + timedelta(hours=1):
        raise ValueError(f"{quarter} has not begun yet: choose a quarter that has")
    end = min(now - timedelta(minutes=2), quarter.end - timedelta(seconds=1))
    live = not spread and now < quarter.end
    rng = random.Random(f"{quarter}/{seed}/{set_no}")
    tag = account_tag(quarter, seed, set_no)
    customers = _customers(rng, tag, max(8, round(cases * 0.65)))
    with_email = [c for c in customers if c.email] or customers

    windows = {
        kind: max(quarter.start, earliest_in_time(kind, now, calendar)) if live else quarter.start
        for kind in TIME_LIMITS
    }
    late_end = min(latest_breached(now, calendar), end) if live else quarter.start
    n_late = round(cases * 0.03) if late_end > quarter.start + timedelta(hours=12) else 0
    n_outage = max(2, round(cases * 0.04)) if cases >= 20 else 0
    outage_region = _pick(rng, data.REGIONS) if n_outage else None
    outage_from, outage_to = _outage_interval(rng, windows["consultation"], end, calendar)
    in_region = [c for c in customers if c.region == outage_region] or customers
    agent_weights = [(data.agent_id(i), 0.7 + 0.6 * ((i * 7) % 24) / 23) for i in range(1, 25)]

    planned: list[CasePlan] = []
    for i in range(cases):
        late, outage = i < n_late, n_late <= i < n_late + n_outage
        complaint_share = 0.7 if outage else data.COMPLAINT_SHARE
        kind = "complaint" if rng.random() < complaint_share else "consultation"
        category = "broadband" if outage else _pick(rng, data.CATEGORIES[kind])
        channel = _pick(rng, (("hotline", 75), ("online", 25)) if outage else data.CHANNELS)
        pool = with_email if channel == "email" else in_region if outage else customers
        customer = rng.choice(pool)
        if late:
            received = _when(rng, quarter.start, late_end, channel, calendar)
        elif outage:
            span = (outage_to - outage_from).total_seconds()
            received = outage_from + timedelta(seconds=int(rng.random() * span))
        else:
            received = _when(rng, windows[kind], end, channel, calendar)
        route = _route(rng, kind, category, channel, late, outage)
        eta = rng.choice((1, 2, 3)) if route == "transfer" and rng.random() < 0.15 else None
        finished = route == "transfer" and (late or rng.random() > (0.4 if eta else 0.04))
        resolved = route == "first_contact" or finished
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
                identity_method=(
                    _pick(rng, (("caller_id", 50), ("account_id_digits", 35), ("sms_code", 15)))
                    if channel == "hotline"
                    else None
                ),
                agent=_pick(rng, agent_weights),
                route=route,
                department=(
                    data.DEPARTMENT_FOR[category]
                    if route == "transfer" and (channel == "email" or rng.random() < 0.2)
                    else None
                ),
                eta_days=eta,
                finished=finished,
                late=late,
                outage=outage,
                calls=_calls(rng, late) if resolved else (),
                fix_after_reopen=rng.random() < 0.5,
            )
        )
    planned.sort(key=lambda c: (c.received_at, c.customer.account_no))
    numbered = [_renumber(c, n) for n, c in enumerate(planned, 1)]
    return Plan(
        quarter,
        seed,
        set_no,
        live,
        customers,
        numbered,
        outage_region,
        outage_from if n_outage else None,
    )


def _route(
    rng: random.Random, kind: str, category: str, channel: str, late: bool, outage: bool
) -> str:
    if late:
        return "waiting" if rng.random() < 0.5 else "transfer"
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
    return "waiting" if r < first_contact + 0.03 else "transfer"


def _renumber(case: CasePlan, number: int) -> CasePlan:
    return replace(case, number=number)
