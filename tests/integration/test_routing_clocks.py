"""SLA clocks in routing: scheduler warnings and breaches exactly once, warnings and escalations
in working time, pauses, reopening, department clocks, loading an official year, policy
versions, compliance.

A test that sweeps every clock (the scheduler's `tick`, a calendar change, a policy revision)
has a system of its own (`own_system`); "now" comes from the business clock."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.routing.commands import clocks
from services.routing.scheduler import tick
from shared import clock as business_clock
from shared.db import Database
from shared.events import new_event, parse_event
from shared.scheduler import Scheduler
from shared.statemachine import IllegalTransition
from shared.testing.factories import case_opened
from shared.testing.waiting import publish_and_wait, wait_until

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


@pytest.fixture
def routing(run_service):
    return run_service("routing", relay=False)


@pytest.fixture
def own_routing(own_system) -> Iterator[tuple]:
    """routing's consumer on a system of the test's own, escalating after 4 working hours:
    (settings, database, HTTP client)."""
    settings = own_system.settings.with_(escalation_after_h=4.0)
    own_system.run("routing", relay=False)
    db = Database(settings, "routing")
    try:
        yield settings, db, own_system.client("routing")
    finally:
        db.close()


def open_case(cs_settings, db, received_at: datetime, kind: str = "complaint") -> str:
    event = case_opened(kind=kind, opened_at=received_at)
    publish_and_wait(cs_settings, db, event)
    return event.data["case_id"]


def events(db, case_id: str, type_: str) -> list:
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT body FROM outbox WHERE subject = %s AND type = %s ORDER BY seq",
            (case_id, type_),
        ).fetchall()
    return [parse_event(r[0].encode()) for r in rows]


def clock_rows(db, case_id: str) -> list[dict]:
    with db.transaction() as tx:
        return tx.all(
            "SELECT * FROM sla_clocks WHERE case_id = %s ORDER BY generation, clock", (case_id,)
        )


def test_the_scheduler_warns_and_breaches_exactly_once_across_a_restart(own_routing):
    """The scheduler sweeps every clock: the test has a system of its own."""
    cs_settings, db, _ = own_routing
    # a consultation received Mon 10:00 is due Tue 17:30; on Wednesday morning it is overdue
    case_id = open_case(cs_settings, db, at(2026, 11, 23, 10), "consultation")
    business_clock.freeze(at(2026, 11, 25, 9, 0))
    stop = threading.Event()
    first = Scheduler(cs_settings, "routing", tick, stop=stop, interval_s=0.05)
    t = threading.Thread(target=first.run, daemon=True)
    t.start()
    wait_until(lambda: events(db, case_id, "sla.breached"), 10, "the breach")
    stop.set()
    t.join(10)
    second_stop = threading.Event()
    second = Scheduler(cs_settings, "routing", tick, stop=second_stop, interval_s=0.05)
    t2 = threading.Thread(target=second.run, daemon=True)
    t2.start()
    wait_until(lambda: second.ticks >= 3, 10, "the restarted scheduler to tick")
    second_stop.set()
    t2.join(10)
    assert len(events(db, case_id, "sla.warning")) == 1
    breached = events(db, case_id, "sla.breached")
    assert len(breached) == 1
    clock = clock_rows(db, case_id)[0]
    assert clock["state"] == "breached" and clock["escalation_level"] == 2
    assert breached[0].data["breached_at"] == clock["due_at"] == at(2026, 11, 24, 17, 30)
    # the department head was told Wed 09:00; four working hours later the supervision group
    assert clock["next_escalation_at"] == at(2026, 11, 25, 13, 0)
    tick(db, at(2026, 11, 25, 12, 59, 59))
    assert clock_rows(db, case_id)[0]["escalation_level"] == 2
    tick(db, at(2026, 11, 25, 13, 0))
    tick(db, at(2026, 11, 25, 13, 0))
    with db.transaction() as tx:
        levels = tx.execute(
            "SELECT level, notify, at FROM sla_escalations WHERE clock_id = %s ORDER BY level",
            (clock["id"],),
        ).fetchall()
    assert levels == [
        (2, "department_head", at(2026, 11, 25, 9, 0)),
        (3, "supervision_group", at(2026, 11, 25, 13, 0)),
    ]
    assert clock_rows(db, case_id)[0]["next_escalation_at"] is None


def test_warning_and_escalation_come_in_working_time(own_routing, auth):
    """Received Thu 01:50, due Fri 17:30: warned when 75 % of its 18 working hours are used
    (Fri 13:00, not Fri 07:35 as 75 % of the wall-clock time would say); breached at Friday's
    close of business, it goes to the supervision group four working hours later, on Monday."""
    cs_settings, db, client = own_routing
    case_id = open_case(cs_settings, db, at(2026, 11, 26, 1, 50), "consultation")
    clock = clock_rows(db, case_id)[0]
    assert (clock["due_at"], clock["warning_at"]) == (
        at(2026, 11, 27, 17, 30),
        at(2026, 11, 27, 13, 0),
    )
    sla = client.get(f"/cases/{case_id}/sla", headers=auth("agent")).json
    assert sla["warning_at"] == "2026-11-27T13:00:00+08:00"
    assert sla["next_escalation_at"] is None
    assert tick(db, at(2026, 11, 27, 12, 59, 59)) == 0
    assert tick(db, at(2026, 11, 27, 13, 0)) == 1
    (warning,) = events(db, case_id, "sla.warning")
    assert warning.data["elapsed_ratio"] == 0.75  # of the working time
    assert tick(db, at(2026, 11, 27, 17, 29, 59)) == 0
    assert tick(db, at(2026, 11, 27, 17, 30)) == 1
    breached = clock_rows(db, case_id)[0]
    assert (breached["state"], breached["escalation_level"]) == ("breached", 2)
    assert breached["next_escalation_at"] == at(2026, 11, 30, 12, 30)
    # Friday night and the weekend do not count
    assert tick(db, at(2026, 11, 27, 21, 30)) == 0
    assert tick(db, at(2026, 11, 30, 12, 29, 59)) == 0
    assert tick(db, at(2026, 11, 30, 12, 30)) == 1
    assert clock_rows(db, case_id)[0]["escalation_level"] == 3


def test_a_clock_finished_in_time_is_met_and_never_warns(own_routing):
    cs_settings, db, _ = own_routing
    now = business_clock.now()
    case_id = open_case(cs_settings, db, now)
    resolved = new_event(
        "case.resolved",
        case_id,
        {
            "case_id": case_id,
            "kind": "complaint",
            "category": "broadband",
            "department": None,
            "resolved_by": "agent-1",
            "first_contact": True,
            "opened_at": now,
            "resolved_at": now,
        },
        source="/intake",
    )
    publish_and_wait(cs_settings, db, resolved)
    tick(db, now + timedelta(days=30))
    assert [e.type for e in events(db, case_id, "sla.met")] == ["sla.met"]
    assert events(db, case_id, "sla.warning") == [] and events(db, case_id, "sla.breached") == []
    assert clock_rows(db, case_id)[0]["state"] == "met"


def test_pausing_excludes_the_paused_time(own_routing):
    cs_settings, db, _ = own_routing
    # a complaint received Mon 10:00 is due Wed 17:30
    case_id = open_case(cs_settings, db, at(2026, 11, 23, 10, 0))
    due = clock_rows(db, case_id)[0]["due_at"]
    assert due == at(2026, 11, 25, 17, 30)
    paused_at = at(2026, 11, 24, 9, 0)
    with db.transaction() as tx:
        clocks.pause(
            tx,
            case_id=case_id,
            reason="waiting for the customer's router model",
            by="agent-1",
            at=paused_at,
        )
    assert clock_rows(db, case_id)[0]["state"] == "paused"
    tick(db, due + timedelta(hours=1))
    assert events(db, case_id, "sla.breached") == []  # a paused clock does not run out
    with db.transaction() as tx, pytest.raises(IllegalTransition):
        clocks.pause(tx, case_id=case_id, reason="again", by="agent-1", at=paused_at)
    with db.transaction() as tx:
        clocks.resume(
            tx, case_id=case_id, at=paused_at + timedelta(hours=5, minutes=30), by="agent-1"
        )
    clock = clock_rows(db, case_id)[0]
    assert clock["state"] == "running"
    assert clock["paused_seconds"] == 5.5 * 3600
    # the deadline moves by the time paused, into Wednesday night
    assert clock["due_at"] == due + timedelta(hours=5, minutes=30) == at(2026, 11, 25, 23, 0)
    # the warning stays in working time: the clock ran 8 working hours before the pause
    # (Mon 10:00-17:30, Tue 08:30-09:00) and has 12 after it (Tue 14:30-17:30, Wed); 75 % of
    # 20 h is 15 h: the last 7 of them end Wed 12:30
    assert clock["warning_at"] == at(2026, 11, 25, 12, 30)
    tick(db, at(2026, 11, 25, 12, 29))
    assert events(db, case_id, "sla.warning") == []
    tick(db, at(2026, 11, 25, 12, 30))
    (warning,) = events(db, case_id, "sla.warning")
    assert warning.data["elapsed_ratio"] == 0.75


def _pauses(db, case_id: str) -> list[dict]:
    with db.transaction() as tx:
        return tx.all(
            "SELECT p.reason, p.paused_by, p.paused_at, p.resumed_at, p.resumed_by"
            " FROM sla_pauses p JOIN sla_clocks c ON c.id = p.clock_id WHERE c.case_id = %s"
            " ORDER BY p.id",
            (case_id,),
        )


def test_a_pause_ends_by_itself_at_its_bound(own_routing):
    """Nobody stops a clock for good: the scheduler resumes it as of the bound
    (CS_SLA_PAUSE_MAX_H, 72 h by default), however late it comes."""
    cs_settings, db, _ = own_routing
    assert db.settings.sla_pause_max_h == 72
    case_id = open_case(cs_settings, db, at(2026, 11, 23, 10, 0))
    due = clock_rows(db, case_id)[0]["due_at"]
    paused_at = at(2026, 11, 23, 11, 0)
    with db.transaction() as tx:
        clocks.pause(tx, case_id=case_id, reason="customer abroad", by="s-1", at=paused_at)
    bound = paused_at + timedelta(hours=72)
    assert clock_rows(db, case_id)[0]["pause_ends_at"] == bound
    tick(db, bound - timedelta(minutes=1))
    assert clock_rows(db, case_id)[0]["state"] == "paused"
    tick(db, bound + timedelta(hours=1, minutes=7))  # the scheduler comes late
    clock = clock_rows(db, case_id)[0]
    assert clock["state"] == "running" and clock["pause_ends_at"] is None
    assert clock["paused_seconds"] == 72 * 3600
    assert clock["due_at"] == due + timedelta(hours=72)
    (pause,) = _pauses(db, case_id)
    assert (pause["resumed_at"], pause["resumed_by"]) == (bound, "scheduler")
    assert pause["paused_by"] == "s-1" and pause["reason"] == "customer abroad"
    # it runs out like any clock afterwards
    tick(db, clock["due_at"] + timedelta(minutes=1))
    assert [e.type for e in events(db, case_id, "sla.breached")] == ["sla.breached"]


def test_a_resume_after_the_bound_counts_only_the_bound(own_routing):
    cs_settings, db, _ = own_routing
    case_id = open_case(cs_settings, db, at(2026, 11, 23, 10, 0))
    due = clock_rows(db, case_id)[0]["due_at"]
    paused_at = at(2026, 11, 23, 11, 0)
    with db.transaction() as tx:
        clocks.pause(tx, case_id=case_id, reason="customer abroad", by="s-1", at=paused_at)
    with db.transaction() as tx:
        clocks.resume(tx, case_id=case_id, at=paused_at + timedelta(hours=100), by="s-2")
    clock = clock_rows(db, case_id)[0]
    assert clock["paused_seconds"] == 72 * 3600
    assert clock["due_at"] == due + timedelta(hours=72)
    (pause,) = _pauses(db, case_id)
    assert pause["resumed_at"] == paused_at + timedelta(hours=72)
    assert pause["resumed_by"] == "s-2"


def test_the_bound_is_a_setting(own_system):
    settings = own_system.settings.with_(sla_pause_max_h=1.5)
    db = Database(settings, "routing")
    try:
        own_system.run("routing", relay=False)
        case_id = open_case(settings, db, at(2026, 11, 23, 10, 0))
        paused_at = at(2026, 11, 23, 11, 0)
        with db.transaction() as tx:
            clocks.pause(tx, case_id=case_id, reason="customer abroad", by="s-1", at=paused_at)
        tick(db, at(2026, 11, 24, 9, 0))
        clock = clock_rows(db, case_id)[0]
        assert clock["state"] == "running" and clock["paused_seconds"] == 1.5 * 3600
    finally:
        db.close()


def test_pause_and_resume_over_http(cs_settings, service_db, routing, client, auth):
    db = service_db("routing")
    case_id = open_case(cs_settings, db, business_clock.now())
    c = client("routing")
    assert c.post(f"/cases/{case_id}/sla/pause", json={}, headers=auth("agent")).status_code == 422
    blank = c.post(f"/cases/{case_id}/sla/pause", json={"reason": "  "}, headers=auth("agent"))
    assert blank.status_code == 422 and "reason" in str(blank.json)
    r = c.post(
        f"/cases/{case_id}/sla/pause", json={"reason": "customer abroad"}, headers=auth("agent")
    )
    assert r.status_code == 200 and r.json["state"] == "paused"
    r = c.post(f"/cases/{case_id}/sla/resume", headers=auth("agent"))
    assert r.status_code == 200 and r.json["state"] == "running"
    # the warning is placed again, in business hours and before the deadline
    warning_at = datetime.fromisoformat(r.json["warning_at"]).astimezone(SHANGHAI)
    assert "08:30" <= f"{warning_at:%H:%M}" <= "17:30", r.json
    assert warning_at <= datetime.fromisoformat(r.json["due_at"])
    assert c.post(f"/cases/{case_id}/sla/resume", headers=auth("agent")).status_code == 409
    assert c.post("/cases/nope/sla/resume", headers=auth("agent")).status_code == 404


def test_a_reopened_case_gets_a_new_clock_and_keeps_the_old(cs_settings, service_db, routing):
    db = service_db("routing")
    case_id = open_case(cs_settings, db, datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI))
    now = datetime(2026, 11, 24, 11, 0, tzinfo=SHANGHAI)
    for type_, data in (
        (
            "case.resolved",
            {
                "kind": "complaint",
                "category": "broadband",
                "department": None,
                "resolved_by": "a",
                "first_contact": True,
                "opened_at": now,
                "resolved_at": now,
            },
        ),
        (
            "case.reopened",
            {
                "reason": "follow-up: not solved",
                "reopened_at": datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI),
            },
        ),
    ):
        publish_and_wait(
            cs_settings,
            db,
            new_event(type_, case_id, dict(data, case_id=case_id), source="/intake"),
        )
    first, second = clock_rows(db, case_id)
    assert (first["generation"], first["state"]) == (1, "met")
    assert (second["generation"], second["state"]) == (2, "running")
    # reopened Fri 11-27: two working days are Mon 11-30 and Tue 12-01
    assert second["due_at"] == at(2026, 12, 1, 17, 30)
    # 1.5 + 9 + 9 working hours from the reopening; 75 % is reached Tue 12:37:30
    assert second["warning_at"] == at(2026, 12, 1, 12, 37, 30)
    assert len(events(db, case_id, "sla.started")) == 2


def test_a_department_clock_follows_its_target_in_working_hours(cs_settings, service_db, routing):
    db = service_db("routing")
    case_id = open_case(cs_settings, db, datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI))
    routed = datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)  # a Friday
    with db.transaction() as tx:
        due = clocks.start_department_clock(
            tx,
            case_id=case_id,
            department="NETOPS",
            assignee_id="S-1",
            ola_hours=4,
            routed_at=routed,
        )
    assert due == at(2026, 11, 30, 12, 0)
    # warned after 3 of its 4 working hours: 30 min on Friday, 2.5 h on Monday
    assert clock_rows(db, case_id)[1]["warning_at"] == at(2026, 11, 30, 11, 0)
    with db.transaction() as tx:
        capped = clocks.start_department_clock(
            tx,
            case_id=case_id,
            department="NETOPS",
            assignee_id="S-1",
            ola_hours=40,
            routed_at=routed,
        )
    customer, department = clock_rows(db, case_id)
    assert capped == customer["due_at"] == at(2026, 11, 30, 17, 30)  # never past the customer's
    # 9.5 working hours from Friday 17:00 to Monday's close; 75 % is Monday 15:07:30
    assert department["warning_at"] == at(2026, 11, 30, 15, 7, 30)
    with db.transaction() as tx:
        clocks.stop_department_clock(tx, case_id=case_id, at=routed + timedelta(hours=1))
    department = [c for c in clock_rows(db, case_id) if c["clock"] == "department"]
    assert len(department) == 1 and department[0]["state"] == "met"
    assert department[0]["assignee_id"] == "S-1"


def test_loading_an_official_year_recomputes_provisional_clocks(own_routing, auth):
    """An import recomputes every provisional clock: the test has a system of its own."""
    cs_settings, db, c = own_routing
    case_id = open_case(cs_settings, db, at(2026, 12, 31, 11, 0), "consultation")
    before = clock_rows(db, case_id)[0]
    assert before["provisional"] and before["due_at"] == at(2027, 1, 4, 17, 30)
    # 6.5 working hours on Thursday, 9 on Monday (Fri 01-01 is New Year's Day)
    assert before["warning_at"] == at(2027, 1, 4, 13, 37, 30)
    schedule = (
        "date,working,reason\n2027-01-01,false,New Year's Day\n"
        "2027-01-04,false,company-wide test holiday\n"
    )
    bad = c.post("/calendar/import", data="date;working\nnope", headers=auth("admin"))
    assert bad.status_code == 400 and "header" in bad.json["detail"]
    assert c.post("/calendar/import", data=schedule, headers=auth("agent")).status_code == 403
    r = c.post("/calendar/import", data=schedule, headers=auth("admin"))
    assert r.status_code == 200, r.json
    assert r.json["days"] == 2 and r.json["clocks_recomputed"] == 1
    after = clock_rows(db, case_id)[0]
    assert not after["provisional"]
    assert after["due_at"] == at(2027, 1, 5, 17, 30)
    assert after["warning_at"] == at(2027, 1, 5, 13, 37, 30)
    year = c.get("/calendar?year=2027", headers=auth("agent")).json
    assert year["official"] and [d["day"] for d in year["exceptions"]] == [
        "2027-01-01",
        "2027-01-04",
    ]
    # a second load of the same year changes nothing more
    assert (
        c.post("/calendar/import", data=schedule, headers=auth("admin")).json["clocks_recomputed"]
        == 0
    )
    assert len(events(db, case_id, "sla.started")) == 2


def test_a_company_exception_moves_the_clocks_that_count_across_it(own_routing, auth):
    """An exception recomputes every clock across it: the test has a system of its own."""
    cs_settings, db, c = own_routing
    # a complaint received Mon 03-09 10:00: 7.5 + 9 + 9 working hours to Wed 17:30
    case_id = open_case(cs_settings, db, at(2026, 3, 9, 10, 0))
    with db.transaction() as tx:
        department_due = clocks.start_department_clock(
            tx,
            case_id=case_id,
            department="NETOPS",
            assignee_id=None,
            ola_hours=8,
            routed_at=at(2026, 3, 9, 16, 30),
        )
    assert department_due == at(2026, 3, 10, 15, 30)
    customer, department = clock_rows(db, case_id)
    assert (customer["due_at"], customer["warning_at"]) == (
        at(2026, 3, 11, 17, 30),
        at(2026, 3, 11, 11, 7, 30),
    )
    # warned after 6 of its 8 working hours: 1 h on Monday, 5 on Tuesday
    assert department["warning_at"] == at(2026, 3, 10, 13, 30)
    r = c.put(
        "/calendar/2026-03-10",
        json={"working": False, "reason": "network migration day"},
        headers=auth("admin"),
    )
    assert r.status_code == 200 and r.json["clocks_recomputed"] == 2
    customer, department = clock_rows(db, case_id)
    assert (customer["due_at"], customer["warning_at"]) == (
        at(2026, 3, 12, 17, 30),
        at(2026, 3, 12, 11, 7, 30),
    )
    # the department's 8 working hours: 1 h on Monday, 7 on Wednesday
    assert (department["due_at"], department["warning_at"]) == (
        at(2026, 3, 11, 15, 30),
        at(2026, 3, 11, 13, 30),
    )
    assert len(events(db, case_id, "sla.started")) == 4
    # a day off on the day of receipt leaves the deadline where it was but not the warning:
    # only Wednesday and Thursday count now, 75 % of 18 h is Thursday 13:00
    r = c.put(
        "/calendar/2026-03-09",
        json={"working": False, "reason": "power cut"},
        headers=auth("admin"),
    )
    assert r.status_code == 200
    customer = clock_rows(db, case_id)[0]
    assert (customer["due_at"], customer["warning_at"]) == (
        at(2026, 3, 12, 17, 30),
        at(2026, 3, 12, 13, 0),
    )


def test_policy_versions_apply_from_their_date(own_routing, auth):
    """A revision applies to every clock started after its date: a system of the test's own."""
    cs_settings, db, c = own_routing
    priority = "high"
    r = c.post(
        "/sla-policies",
        json={
            "kind": "complaint",
            "priority": priority,
            "working_days": 1,
            "effective_from": "2026-06-01",
            "reason": "ch.8 revision: urgent complaints faster",
        },
        headers=auth("admin"),
    )
    assert r.status_code == 201 and r.json["version"] >= 2 and r.json["changed_by"] == "tester"
    before = c.get("/sla-policies?at=2026-05-31", headers=auth("agent")).json["items"]
    after = c.get("/sla-policies?at=2026-06-01", headers=auth("agent")).json["items"]

    def days(items):
        return next(
            p["working_days"]
            for p in items
            if p["kind"] == "complaint" and p["priority"] == priority
        )

    assert (days(before), days(after)) == (2, 1)
    event = case_opened(priority=priority, opened_at=at(2026, 6, 2, 10))
    publish_and_wait(cs_settings, db, event)
    clock = clock_rows(db, event.data["case_id"])[0]
    assert clock["working_days"] == 1 and clock["policy_version"] == r.json["version"]


def test_compliance_per_department(cs_settings, service_db, routing, client, auth):
    db = service_db("routing")
    case_id = open_case(cs_settings, db, datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI))
    dept = f"D{uuid.uuid4().hex[:6].upper()}"
    with db.transaction() as tx:
        clocks.start_department_clock(
            tx,
            case_id=case_id,
            department=dept,
            assignee_id=None,
            ola_hours=None,
            routed_at=datetime(2026, 10, 12, 11, tzinfo=SHANGHAI),
        )
        clocks.stop_case_clocks(tx, case_id=case_id, at=datetime(2026, 10, 13, 11, tzinfo=SHANGHAI))
    r = client("routing").get(
        "/sla/compliance?period=2026-Q4&by=department", headers=auth("supervisor")
    )
    assert r.status_code == 200
    row = next(i for i in r.json["items"] if i["key"] == dept)
    assert (row["met"], row["breached"], row["open"], row["compliance"]) == (1, 0, 0, 1.0)
    assert row["median_hours"] == 25.0
    bad = client("routing").get("/sla/compliance?period=Q9", headers=auth("supervisor"))
    assert bad.status_code == 422


def _resolved(case_id: str, at: datetime) -> object:
    return new_event(
        "case.resolved",
        case_id,
        {
            "case_id": case_id,
            "kind": "consultation",
            "category": "broadband",
            "department": None,
            "resolved_by": "agent-1",
            "first_contact": True,
            "opened_at": at,
            "resolved_at": at,
        },
        source="/intake",
    )


def test_a_step_reported_late_that_was_in_time_withdraws_the_breach(own_system):
    """The scheduler announces the breach of a clock nobody stopped; the call-centre system
    then reports the resolution with its own time, before the deadline: the clock was met. A
    resolution reported after the deadline leaves the breach as it is."""
    cs_settings = own_system.settings
    own_system.run("routing", relay=False)
    db = own_system.db("routing")
    received = business_clock.now() - timedelta(days=9)
    in_time = open_case(cs_settings, db, received, "consultation")
    late = open_case(cs_settings, db, received, "consultation")
    tick(db, business_clock.now())
    for case_id in (in_time, late):
        assert clock_rows(db, case_id)[0]["state"] == "breached"
    due = clock_rows(db, in_time)[0]["due_at"]
    publish_and_wait(cs_settings, db, _resolved(in_time, due - timedelta(hours=3)))
    publish_and_wait(cs_settings, db, _resolved(late, due + timedelta(hours=3)))

    (kept,) = clock_rows(db, in_time)
    assert (kept["state"], kept["breached_at"], kept["escalation_level"]) == ("met", None, 0)
    assert kept["stopped_at"] == due - timedelta(hours=3)
    (met,) = events(db, in_time, "sla.met")
    assert met.data["due_at"] == due and met.data["completed_at"] == due - timedelta(hours=3)
    assert len(events(db, in_time, "sla.breached")) == 1  # announced once, then withdrawn
    (missed,) = clock_rows(db, late)
    assert (missed["state"], missed["breached_at"]) == ("breached", due)
    assert events(db, late, "sla.met") == [] and len(events(db, late, "sla.breached")) == 1
    # the escalation that went out stays on record; a stopped clock escalates no further
    tick(db, business_clock.now() + timedelta(hours=cs_settings.escalation_after_h + 1))
    with db.transaction() as tx:
        levels = dict(
            tx.execute(
                "SELECT c.case_id, max(e.level) FROM sla_escalations e"
                " JOIN sla_clocks c ON c.id = e.clock_id GROUP BY c.case_id"
            ).fetchall()
        )
    assert levels == {in_time: 2, late: 2}
    with db.transaction() as tx:
        compliance = tx.execute(
            "SELECT count(*) FILTER (WHERE breached_at IS NULL) FROM sla_clocks"
        ).fetchone()[0]
    assert compliance == 1


def test_at_risk_and_breached_lists_come_in_pages_with_their_total(own_routing, auth):
    """Two consultations of one department, received Mon 10:00 (due Tue 17:30): at risk on
    Tuesday afternoon, breached on Wednesday; each list a page at a time, with the total."""
    cs_settings, db, client = own_routing
    department = f"PG{uuid.uuid4().hex[:8]}"
    cases = [open_case(cs_settings, db, at(2026, 11, 23, 10), "consultation") for _ in range(2)]
    with db.transaction() as tx:
        for case_id in cases:
            clocks.set_assignee(tx, case_id=case_id, department=department, assignee_id=None)
    reader = auth("supervisor")

    def page(path: str, number: int) -> dict:
        query = {"department": department, "page": number, "per_page": 1}
        r = client.get(path, query_string=query, headers=reader)
        assert r.status_code == 200
        return r.json

    business_clock.freeze(at(2026, 11, 24, 16, 0))
    first, second = page("/sla/at-risk", 1), page("/sla/at-risk", 2)
    assert (first["total"], first["per_page"], len(first["items"])) == (2, 1, 1)
    assert {first["items"][0]["case_id"], second["items"][0]["case_id"]} == set(cases)
    assert page("/sla/breached", 1)["total"] == 0
    tick(db, at(2026, 11, 25, 9, 0))
    business_clock.freeze(at(2026, 11, 25, 9, 0))
    breached = page("/sla/breached", 2)
    assert (breached["page"], breached["total"], len(breached["items"])) == (2, 2, 1)
    assert page("/sla/at-risk", 1)["total"] == 0
