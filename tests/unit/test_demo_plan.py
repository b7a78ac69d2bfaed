"""`cs demo`'s plan (demo/quarter.py builds it): two quarters of history up to now, every step at
its own time and in order, a few per cent late spread over the span, fictitious people intake
accepts. No servers."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from demo import data
from demo.periods import TZ, Calendar
from demo.plan import Plan
from demo.quarter import TIME_LIMITS, build
from services.intake.domain.masking import normalise_id_number, normalise_phone
from shared.periods import Period

Q4 = Period(2026, "quarter", 4)
NOW = datetime(2026, 11, 25, 13, 40, tzinfo=TZ)  # a Wednesday
# National Day 10-01..10-08 off, Sun 09-28 and Sat 10-11 makeup workdays (routing's calendar)
CALENDAR = Calendar(
    {date(2026, 10, d): False for d in range(1, 9)}
    | {date(2026, 9, 28): True, date(2026, 10, 11): True}
)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build(Q4, 7, 3000, NOW, CALENDAR)


def _week(at: datetime) -> date:
    day = at.astimezone(TZ).date()
    return day - timedelta(days=day.weekday())


def test_the_same_seed_gives_the_same_plan_shaped_as_intended(plan: Plan) -> None:
    assert build(Q4, 7, 3000, NOW, CALENDAR) == plan
    assert build(Q4, 8, 3000, NOW, CALENDAR).customers != plan.customers
    n = len(plan.cases)
    channels = Counter(c.channel for c in plan.cases)
    assert 0.58 < channels["hotline"] / n < 0.72 and 0.06 < channels["email"] / n < 0.14
    routes = Counter(c.route for c in plan.cases)
    assert 0.55 < routes["first_contact"] / n < 0.67
    assert 0.30 < routes["transfer"] / n < 0.42
    transfers = [c.department for c in plan.cases if c.department]
    assert 0.10 < sum(bool(d.eta) for d in transfers) / len(transfers) < 0.20
    reached = [k for c in plan.cases for k in c.calls if k.result == "reached"]
    assert sum(k.satisfaction >= 4 for k in reached if k.satisfaction) / len(reached) > 0.75
    assert 0.02 < sum(k.solved is False for k in reached) / len(reached) < 0.08
    assert all(c.reopening for c in plan.cases if any(k.solved is False for k in c.calls))
    outage = [c for c in plan.cases if c.outage]
    assert outage and {(c.category, c.customer.region) for c in outage} == {
        ("broadband", plan.outage_region)
    }


def test_the_history_spans_the_quarter_before_and_this_one_up_to_now(plan: Plan) -> None:
    before = Period(2026, "quarter", 3)
    assert min(c.received_at for c in plan.cases) < before.start + timedelta(days=3)
    assert max(c.received_at for c in plan.cases) > NOW - timedelta(days=1)
    assert all(before.start <= c.received_at < NOW for c in plan.cases)
    complaints = Counter(c.received_at >= Q4.start for c in plan.cases if c.kind == "complaint")
    assert complaints[False] > complaints[True] > 0  # a full quarter before, fewer now
    # every week of the span has cases received and time limits ending (met or breached)
    weeks = {_week(c.received_at) for c in plan.cases}
    ended = {_week(min(c.resolved_at, c.due_at)) for c in plan.cases if plan.done(c.resolved_at)}
    week, all_weeks = _week(before.start), set()
    while week <= _week(NOW):
        all_weeks.add(week)
        week += timedelta(days=7)
    assert weeks == all_weeks and all_weeks - ended <= {_week(NOW)}


def test_every_step_comes_after_the_one_before_and_what_is_to_come_waits(plan: Plan) -> None:
    for c in plan.cases:
        steps = list(c.steps())
        assert steps == sorted(steps), c.number
        assert c.due_at == CALENDAR.due(c.received_at, TIME_LIMITS[c.kind])
        if c.department:  # departments work office hours
            for at in (c.department.accepted_at, c.department.handled_at):
                local = at.astimezone(TZ)
                assert CALENDAR.working(local.date()) and "08:30" <= f"{local:%H:%M}" <= "17:30"
            # before today's rules applied, a transfer names its department
            if c.acted_at.astimezone(TZ).date() < plan.rules_from:
                assert c.department.named
    later = [c for c in plan.cases if not plan.done(c.resolved_at)]
    assert later and all(c.received_at > NOW - timedelta(days=5) for c in later)


def test_a_few_per_cent_breach_spread_over_the_history(plan: Plan) -> None:
    late = [c for c in plan.cases if c.late]
    again = [c for c in plan.cases if c.reopening and c.reopening.late]
    assert 0.03 < (len(late) + len(again)) / len(plan.cases) < 0.07
    assert all(c.route != "first_contact" and not c.outage for c in late)
    months = Counter(c.due_at.astimezone(TZ).month for c in late)
    assert set(months) == {7, 8, 9, 10, 11} and max(months.values()) < 0.35 * len(late)
    # the late ones are resolved an hour to a working day and a half after their time limit
    for c in late:
        overdue = CALENDAR.working_between(c.due_at, c.resolved_at)
        assert timedelta(minutes=59) < overdue < timedelta(hours=13.6)


def test_a_quarter_that_is_over_is_played_to_its_end_and_one_not_begun_is_refused() -> None:
    q3 = build(Period(2026, "quarter", 3), 7, 300, NOW, CALENDAR)
    assert max(c.received_at for c in q3.cases) < Period(2026, "quarter", 3).end
    assert min(c.received_at for c in q3.cases) < Period(2026, "quarter", 2).start + timedelta(
        days=7
    )
    assert all(q3.done(c.resolved_at) for c in q3.cases)
    with pytest.raises(ValueError):
        build(Period(2027, "quarter", 1), 7, 10, NOW, CALENDAR)


def test_working_time_as_routing_counts_it() -> None:
    friday_evening = datetime(2026, 10, 16, 17, 0, tzinfo=TZ)
    # 30 minutes on Friday, then Monday from 08:30
    assert CALENDAR.add_working(friday_evening, timedelta(hours=2)) == datetime(
        2026, 10, 19, 10, 0, tzinfo=TZ
    )
    assert CALENDAR.next_open(datetime(2026, 10, 3, 12, 0, tzinfo=TZ)) == datetime(
        2026, 10, 9, 8, 30, tzinfo=TZ
    )  # National Day holiday
    assert CALENDAR.working_between(friday_evening, datetime(2026, 10, 19, 10, 0, tzinfo=TZ)) == (
        timedelta(hours=2)
    )


def test_personal_data_passes_intake_and_cannot_be_anyones(plan: Plan) -> None:
    for c in plan.customers:
        assert c.account_no.startswith("DEMO-7-2026Q4-1-")
        for phone in c.phones:  # `00…` is the international prefix: no subscriber's number
            assert normalise_phone(phone) == phone and phone.startswith(data.PHONE_PREFIX)
        if c.id_number is not None:  # province 99 does not exist
            assert normalise_id_number(c.id_number) == c.id_number
            assert c.id_number.startswith(data.ID_AREA)
        assert c.email is None or c.email.endswith("@example.com")
    staff_names = " ".join(str(s["display_name"]) for s in data.staff_directory())
    assert not any(c.name in staff_names for c in plan.customers)
