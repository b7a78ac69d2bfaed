"""Scorecards from events: a seeded quarter matches figures computed here from the events
published, each figure traced to its event ids, and nothing changes when every event is
delivered a second time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.events import Event, new_event
from shared.testing.waiting import publish, publish_and_wait

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUARTER = ("2025-Q4", datetime(2025, 10, 1, tzinfo=SHANGHAI), datetime(2026, 1, 1, tzinfo=SHANGHAI))
MONTH = ("2025-11", datetime(2025, 11, 1, tzinfo=SHANGHAI), datetime(2025, 12, 1, tzinfo=SHANGHAI))


@pytest.fixture
def consumer(run_service):
    return run_service("training", relay=False)


def at(month: int, day: int, hour: int = 10, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def staff_event(staff_id: str, department: str = "HOTLINE", role: str = "agent") -> Event:
    data = {
        "staff_id": staff_id,
        "display_name": f"Agent {staff_id}",
        "role": role,
        "department": department,
        "active": True,
    }
    return new_event("staff.upserted", staff_id, data, source="/routing")


def resolved(case: str, by: str, when: datetime, first_contact: bool) -> Event:
    data = {
        "case_id": case,
        "kind": "complaint",
        "category": "broadband",
        "department": None,
        "resolved_by": by,
        "first_contact": first_contact,
        "opened_at": when,
        "resolved_at": when,
    }
    return new_event("case.resolved", case, data, source="/intake")


def sla(case: str, assignee: str | None, when: datetime, met: bool) -> Event:
    data = {
        "case_id": case,
        "clock": "customer",
        "department": "HOTLINE",
        "assignee_id": assignee,
        "due_at": when,
    }
    if met:
        return new_event("sla.met", case, dict(data, completed_at=when), source="/routing")
    return new_event("sla.breached", case, dict(data, breached_at=when), source="/routing")


def followup(case: str, when: datetime, satisfaction: int | None) -> Event:
    data = {
        "followup_id": str(uuid.uuid4()),
        "case_id": case,
        "outcome": "confirmed" if satisfaction else "unreachable",
        "satisfaction": satisfaction,
        "agent_id": "caller-1",
        "department": None,
        "completed_at": when,
    }
    return new_event("followup.completed", case, data, source="/followup")


def reopened(case: str, when: datetime) -> Event:
    data = {"case_id": case, "reason": "not-solved", "reopened_at": when}
    return new_event("case.reopened", case, data, source="/intake")


def t(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def expected(events: list[Event], staff: str, start: datetime, end: datetime) -> dict:
    """The figures, computed from the published events without the service's code."""

    def inside(value: object) -> bool:
        return start <= t(value) < end

    resolutions = [e for e in events if e.type == "case.resolved"]

    def resolver(case: str, when: object) -> str | None:
        before = [
            e
            for e in resolutions
            if e.data["case_id"] == case and t(e.data["resolved_at"]) <= t(when)
        ]
        return (
            max(before, key=lambda e: t(e.data["resolved_at"])).data["resolved_by"]
            if before
            else None
        )

    mine = [
        e for e in resolutions if e.data["resolved_by"] == staff and inside(e.data["resolved_at"])
    ]
    clocks = [
        e.type == "sla.met"
        for e in events
        if e.type in ("sla.met", "sla.breached")
        and e.data["assignee_id"] == staff
        and inside(e.data.get("completed_at") or e.data.get("breached_at"))
    ]
    scores = [
        e.data["satisfaction"]
        for e in events
        if e.type == "followup.completed"
        and e.data["satisfaction"] is not None
        and inside(e.data["completed_at"])
        and resolver(e.data["case_id"], e.data["completed_at"]) == staff
    ]
    reopenings = [
        e
        for e in events
        if e.type == "case.reopened"
        and inside(e.data["reopened_at"])
        and resolver(e.data["case_id"], e.data["reopened_at"]) == staff
    ]
    first = sum(e.data["first_contact"] for e in mine)
    return {
        "cases_handled": (len(mine), len(mine)),
        "first_contact_rate": (round(100 * first / len(mine), 2) if mine else None, len(mine)),
        "time_limit_compliance": (
            round(100 * sum(clocks) / len(clocks), 2) if clocks else None,
            len(clocks),
        ),
        "satisfaction_mean": (round(sum(scores) / len(scores), 2) if scores else None, len(scores)),
        "satisfaction_count": (len(scores), len(scores)),
        "reopened_cases": (len(reopenings), len(reopenings)),
        # no course was mandatory yet at the end of 2025 (courses are created during the tests)
        "training_compliance": (100.0, 0),
    }


def seed(staff: str, other: str) -> list[Event]:
    c = [f"case-{uuid.uuid4().hex[:8]}" for _ in range(8)]
    return [
        resolved(c[0], staff, at(10, 10), True),
        resolved(c[1], staff, at(11, 5), False),
        resolved(c[2], staff, at(12, 20), True),
        # 2025-09-30 23:30 and 2026-01-01 00:30 in Shanghai: outside the quarter
        resolved(c[3], staff, datetime(2025, 9, 30, 15, 30, tzinfo=UTC), True),
        resolved(c[4], staff, datetime(2025, 12, 31, 16, 30, tzinfo=UTC), True),
        resolved(c[5], other, at(10, 12), True),
        sla(c[0], staff, at(10, 10), True),
        sla(c[1], staff, at(11, 5), True),
        sla(c[2], staff, at(12, 18), False),
        sla(c[5], other, at(10, 12), False),
        sla(c[6], None, at(10, 13), False),
        followup(c[0], at(10, 12), 5),
        followup(c[1], at(11, 7), 3),
        followup(c[2], at(12, 22), None),
        followup(c[5], at(10, 14), 1),
        reopened(c[1], at(11, 20)),
        resolved(c[1], other, at(11, 25), False),
        # the follow-up of a case arrives before its resolution: it still counts for the resolver
        followup(c[7], at(12, 1), 4),
        resolved(c[7], staff, at(11, 28), True),
        # reopened after `other` resolved it again: counts against `other`, not `staff`
        reopened(c[1], at(12, 2)),
    ]


def figures(card: dict) -> dict:
    return {name: (f["value"], f["events"]) for name, f in card["figures"].items()}


def test_a_seeded_quarter_matches_the_events_and_survives_redelivery(
    client, auth, cs_settings, service_db, consumer
):
    training, db = client("training"), service_db("training")
    reader = auth("supervisor", subject="sup-1")
    run = uuid.uuid4().hex[:6]
    staff, other = f"agent-{run}", f"other-{run}"
    for s in (staff, other):
        publish_and_wait(cs_settings, db, staff_event(s))
    events = seed(staff, other)
    for e in events:
        publish_and_wait(cs_settings, db, e)

    def cards() -> dict:
        out = {}
        for who in (staff, other):
            for period, _, _ in (QUARTER, MONTH):
                r = training.get(f"/scorecards/{who}?period={period}", headers=reader)
                assert r.status_code == 200, r.json
                out[(who, period)] = r.json
        return out

    before = cards()
    for who in (staff, other):
        for period, start, end in (QUARTER, MONTH):
            assert figures(before[(who, period)]) == expected(events, who, start, end), (
                who,
                period,
            )
    card = before[(staff, QUARTER[0])]
    assert card["from"] == "2025-10-01" and card["to"] == "2025-12-31"
    assert card["period_kind"] == "quarter" and card["department"] == "HOTLINE"
    # what the seed means, spelled out once
    assert figures(card)["cases_handled"] == (4, 4)
    assert figures(card)["satisfaction_mean"] == (4.0, 3)
    assert figures(card)["reopened_cases"] == (1, 1)

    # each figure traces back to its events
    r = training.get(
        f"/scorecards/{staff}/evidence?period={QUARTER[0]}&figure=cases_handled", headers=reader
    )
    assert r.status_code == 200
    resolutions = {
        e.id
        for e in events
        if e.type == "case.resolved"
        and e.data["resolved_by"] == staff
        and QUARTER[1] <= t(e.data["resolved_at"]) < QUARTER[2]
    }
    assert {i["event_id"] for i in r.json["items"]} == resolutions
    assert r.json["events"] == len(resolutions) == len(r.json["items"])
    r = training.get(
        f"/scorecards/{staff}/evidence?period={QUARTER[0]}&figure=satisfaction_mean",
        headers=reader,
    )
    assert sorted(i["value"] for i in r.json["items"]) == [3, 4, 5]
    assert {i["event_type"] for i in r.json["items"]} == {"followup.completed"}
    bad = training.get(
        f"/scorecards/{staff}/evidence?period={QUARTER[0]}&figure=nope", headers=reader
    )
    assert bad.status_code == 422

    # every event a second time (same ids), then one new event to know they were all consumed
    publish(cs_settings, *events)
    publish_and_wait(cs_settings, db, staff_event(f"late-{run}"))
    assert cards() == before
    with db.transaction() as tx:
        ids = [e.id for e in events]
        facts = tx.execute(
            "SELECT count(*) FROM scorecard_facts WHERE event_id = ANY(%s)", (ids,)
        ).fetchone()[0]
    # one fact per event, except the follow-up without a score and the clock without assignee
    assert facts == len(events) - 2


def test_a_clock_met_after_its_breach_was_announced_counts_as_met(
    client, auth, cs_settings, service_db, consumer
):
    """Routing announces `sla.met` after `sla.breached` of the same clock when a step reported
    late stopped it in time: the scorecard counts the clock once, as met, in either order."""
    training, db = client("training"), service_db("training")
    reader = auth("supervisor", subject="sup-1")
    staff = f"agent-{uuid.uuid4().hex[:6]}"
    publish_and_wait(cs_settings, db, staff_event(staff))
    due = at(11, 10, 17)
    first, second, missed = (f"case-{uuid.uuid4().hex[:8]}" for _ in range(3))
    breach, met = sla(first, staff, due, False), sla(first, staff, due, True)
    met = new_event("sla.met", first, dict(met.data, completed_at=at(11, 10, 9)), source="/routing")
    # the same clock the other way round, and a breach that stands
    late_breach, early_met = sla(second, staff, due, False), sla(second, staff, due, True)
    stands = sla(missed, staff, due, False)
    for e in (breach, met, early_met, late_breach, stands):
        publish_and_wait(cs_settings, db, e)
    r = training.get(f"/scorecards/{staff}?period={MONTH[0]}", headers=reader)
    assert r.status_code == 200, r.json
    assert figures(r.json)["time_limit_compliance"] == (round(200 / 3, 2), 3)
    evidence = training.get(
        f"/scorecards/{staff}/evidence?period={MONTH[0]}&figure=time_limit_compliance",
        headers=reader,
    ).json
    assert {i["event_id"] for i in evidence["items"]} == {met.id, early_met.id, stands.id}


def test_satisfaction_from_a_call_the_resolver_made_never_counts(
    client, auth, cs_settings, service_db, consumer
):
    """Followup refuses such a call; should one arrive anyway (an old event, a replay), the
    scorecard and so the incentive rules leave it out, in whichever order the events come."""
    training, db = client("training"), service_db("training")
    reader = auth("supervisor", subject="sup-1")
    run = uuid.uuid4().hex[:6]
    staff = f"agent-{run}"
    publish_and_wait(cs_settings, db, staff_event(staff))
    own, own_late, fair = (f"case-{run}-{n}" for n in ("own", "late", "fair"))

    def call_by(case: str, when: datetime, agent: str, satisfaction: int) -> Event:
        event = followup(case, when, satisfaction)
        return new_event(
            "followup.completed", case, dict(event.data, agent_id=agent), source="/followup"
        )

    for e in (
        resolved(own, staff, at(11, 3), True),
        call_by(own, at(11, 4), staff, 5),
        # the call before its case's resolution (another partition): still not attributed
        call_by(own_late, at(11, 6), staff, 5),
        resolved(own_late, staff, at(11, 5), True),
        # a colleague's call counts
        resolved(fair, staff, at(11, 7), True),
        call_by(fair, at(11, 8), f"colleague-{run}", 2),
    ):
        publish_and_wait(cs_settings, db, e)
    card = training.get(f"/scorecards/{staff}?period=2025-11", headers=reader).json
    assert figures(card)["satisfaction_count"] == (1, 1)
    assert figures(card)["satisfaction_mean"] == (2.0, 1)
    assert figures(card)["cases_handled"] == (3, 3)
    r = training.get(
        f"/scorecards/{staff}/evidence?period=2025-11&figure=satisfaction_mean", headers=reader
    )
    assert [i["subject"] for i in r.json["items"]] == [fair]
    with db.transaction() as tx:
        kept = tx.all(
            "SELECT subject, staff_id, recorded_by FROM scorecard_facts"
            " WHERE figure = 'satisfaction' AND subject = ANY(%s) ORDER BY subject",
            ([own, own_late, fair],),
        )
    # the self-rated facts are kept for audit, attributed to no one
    assert {k["subject"]: k["staff_id"] for k in kept} == {
        fair: staff,
        own: None,
        own_late: None,
    }


def test_a_department_head_reads_only_their_departments_scorecards(
    client, auth, cs_settings, service_db, consumer
):
    training, db = client("training"), service_db("training")
    run = uuid.uuid4().hex[:6]
    mine, theirs, head = f"mine-{run}", f"theirs-{run}", f"head-{run}"
    publish_and_wait(cs_settings, db, staff_event(mine, department=f"D1-{run}"))
    publish_and_wait(cs_settings, db, staff_event(theirs, department=f"D2-{run}"))
    publish_and_wait(
        cs_settings, db, staff_event(head, department=f"D1-{run}", role="department_head")
    )
    as_head = auth("department_head", subject=head)
    assert training.get(f"/scorecards/{mine}?period=2025-11", headers=as_head).status_code == 200
    for path in (f"/scorecards/{theirs}", f"/scorecards/{theirs}/evidence"):
        r = training.get(
            path, query_string={"period": "2025-11", "figure": "cases_handled"}, headers=as_head
        )
        assert r.status_code == 403 and r.is_json, path
        assert f"is not D1-{run}'s: a department reads only its own work" in r.json["detail"]
    # a head the directory does not know reads no one's
    stranger = auth("department_head", subject=f"nobody-{run}")
    r = training.get(f"/scorecards/{mine}?period=2025-11", headers=stranger)
    assert r.status_code == 403 and "staff directory" in r.json["detail"]
    # supervisors and trainers read everyone's
    for role in ("supervisor", "trainer"):
        r = training.get(f"/scorecards/{theirs}?period=2025-11", headers=auth(role))
        assert r.status_code == 200, role
