"""Builds a demo history as a plan (demo/plan.py): who calls, about what, when, and every later
step of each case at its own time (no I/O).

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
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import TypeVar

from demo import data
from demo.periods import TZ, Calendar
from demo.plan import Call, CasePlan, Customer, Department, Plan, Reopening, account_tag
from shared.periods import Period

TIME_LIMITS = {"consultation": 1, "complaint": 2}  # working days (policy)
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
T = TypeVar("T")


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
    quarter: Period,
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
