"""SLA clocks in routing: scheduler warnings and breaches exactly once, pauses, reopening,
department clocks, loading an official year, policy versions, compliance."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.routing import clocks
from services.routing.scheduler import tick
from shared import clock as business_clock
from shared.events import new_event, parse_event
from shared.scheduler import Scheduler
from shared.testing.factories import case_opened
from shared.testing.waiting import publish_and_wait, wait_until

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def routing(run_service):
    return run_service("routing", relay=False)


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


def test_the_scheduler_warns_and_breaches_exactly_once_across_a_restart(own_system):
    """The scheduler sweeps every clock: the test has a system of its own."""
    cs_settings = own_system.settings
    own_system.run("routing", relay=False)
    db = own_system.db("routing")
    # received nine days ago: its 1-working-day limit has passed its warning and its deadline
    case_id = open_case(cs_settings, db, business_clock.now() - timedelta(days=9), "consultation")
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
    assert breached[0].data["breached_at"] == clock["due_at"]
    # a further while later the breach goes to the supervision group, once
    later = business_clock.now() + timedelta(hours=cs_settings.escalation_after_h + 1)
    tick(db, later)
    tick(db, later)
    with db.transaction() as tx:
        levels = tx.execute(
            "SELECT level, notify FROM sla_escalations WHERE clock_id = %s ORDER BY level",
            (clock["id"],),
        ).fetchall()
    assert levels == [(2, "department_head"), (3, "supervision_group")]


def test_a_clock_finished_in_time_is_met_and_never_warns(cs_settings, service_db, routing):
    db = service_db("routing")
    case_id = open_case(cs_settings, db, datetime.now(UTC))
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
            "opened_at": datetime.now(UTC),
            "resolved_at": datetime.now(UTC),
        },
        source="/intake",
    )
    publish_and_wait(cs_settings, db, resolved)
    tick(db, datetime.now(UTC) + timedelta(days=30))
    assert [e.type for e in events(db, case_id, "sla.met")] == ["sla.met"]
    assert events(db, case_id, "sla.warning") == [] and events(db, case_id, "sla.breached") == []
    assert clock_rows(db, case_id)[0]["state"] == "met"


def test_pausing_excludes_the_paused_time(cs_settings, service_db, routing):
    db = service_db("routing")
    case_id = open_case(cs_settings, db, datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI))
    due = clock_rows(db, case_id)[0]["due_at"]
    paused_at = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)
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
    with db.transaction() as tx, pytest.raises(clocks.ClockConflict):
        clocks.pause(tx, case_id=case_id, reason="again", by="agent-1", at=paused_at)
    with db.transaction() as tx:
        clocks.resume(tx, case_id=case_id, at=paused_at + timedelta(hours=5, minutes=30))
    clock = clock_rows(db, case_id)[0]
    assert clock["state"] == "running"
    assert clock["due_at"] == due + timedelta(hours=5, minutes=30)
    assert clock["paused_seconds"] == 5.5 * 3600


def test_pause_and_resume_over_http(cs_settings, service_db, routing, client, auth):
    db = service_db("routing")
    case_id = open_case(cs_settings, db, datetime.now(UTC))
    c = client("routing")
    assert c.post(f"/cases/{case_id}/sla/pause", json={}, headers=auth("agent")).status_code == 422
    r = c.post(
        f"/cases/{case_id}/sla/pause", json={"reason": "customer abroad"}, headers=auth("agent")
    )
    assert r.status_code == 200 and r.json["state"] == "paused"
    r = c.post(f"/cases/{case_id}/sla/resume", headers=auth("agent"))
    assert r.status_code == 200 and r.json["state"] == "running"
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
    assert second["due_at"] == datetime(2026, 12, 1, 17, 30, tzinfo=SHANGHAI)
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
    assert due == datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
    with db.transaction() as tx:
        capped = clocks.start_department_clock(
            tx,
            case_id=case_id,
            department="NETOPS",
            assignee_id="S-1",
            ola_hours=40,
            routed_at=routed,
        )
    assert capped == clock_rows(db, case_id)[0]["due_at"]  # never past the customer deadline
    with db.transaction() as tx:
        clocks.stop_department_clock(tx, case_id=case_id, at=routed + timedelta(hours=1))
    department = [c for c in clock_rows(db, case_id) if c["clock"] == "department"]
    assert len(department) == 1 and department[0]["state"] == "met"
    assert department[0]["assignee_id"] == "S-1"


def test_loading_an_official_year_recomputes_provisional_clocks(
    cs_settings, service_db, routing, client, auth
):
    db = service_db("routing")
    case_id = open_case(
        cs_settings, db, datetime(2026, 12, 31, 11, 0, tzinfo=SHANGHAI), "consultation"
    )
    before = clock_rows(db, case_id)[0]
    assert before["provisional"] and before["due_at"] == datetime(
        2027, 1, 4, 17, 30, tzinfo=SHANGHAI
    )
    schedule = (
        "date,working,reason\n2027-01-01,false,New Year's Day\n"
        "2027-01-04,false,company-wide test holiday\n"
    )
    c = client("routing")
    bad = c.post("/calendar/import", data="date;working\nnope", headers=auth("admin"))
    assert bad.status_code == 400 and "header" in bad.json["detail"]
    assert c.post("/calendar/import", data=schedule, headers=auth("agent")).status_code == 403
    r = c.post("/calendar/import", data=schedule, headers=auth("admin"))
    assert r.status_code == 200, r.json
    assert r.json["days"] == 2 and r.json["clocks_recomputed"] >= 1
    after = clock_rows(db, case_id)[0]
    assert not after["provisional"]
    assert after["due_at"] == datetime(2027, 1, 5, 17, 30, tzinfo=SHANGHAI)
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


def test_a_company_exception_moves_the_clocks_that_count_across_it(
    cs_settings, service_db, routing, client, auth
):
    db = service_db("routing")
    case_id = open_case(cs_settings, db, datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI))
    assert clock_rows(db, case_id)[0]["due_at"] == datetime(2026, 3, 11, 17, 30, tzinfo=SHANGHAI)
    r = client("routing").put(
        "/calendar/2026-03-10",
        json={"working": False, "reason": "network migration day"},
        headers=auth("admin"),
    )
    assert r.status_code == 200 and r.json["clocks_recomputed"] >= 1
    assert clock_rows(db, case_id)[0]["due_at"] == datetime(2026, 3, 12, 17, 30, tzinfo=SHANGHAI)


def test_policy_versions_apply_from_their_date(cs_settings, service_db, routing, client, auth):
    c = client("routing")
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
    db = service_db("routing")
    event = case_opened(priority=priority, opened_at=datetime(2026, 6, 2, 10, tzinfo=SHANGHAI))
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
