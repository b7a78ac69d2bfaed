"""Training records: courses, sessions and attendance, assessments (training.completed),
compliance (overdue, expiring), the daily check's flags, and refusals of bad input."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.training.commands.compliance import flag_overdue
from services.training.scheduler import tick
from shared import clock
from shared.events import new_event, parse_event
from shared.testing.problems import invalid_fields
from shared.testing.waiting import publish_and_wait

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def training(client):
    return client("training")


@pytest.fixture
def trainer(auth):
    return auth("trainer", subject="trainer-1")


@pytest.fixture
def consumer(run_service):
    return run_service("training", relay=False)


def add_staff(cs_settings, service_db, staff_id, department, role="agent", active=True):
    event = new_event(
        "staff.upserted",
        staff_id,
        {
            "staff_id": staff_id,
            "display_name": f"Staff {staff_id}",
            "role": role,
            "department": department,
            "active": active,
        },
        source="/routing",
    )
    publish_and_wait(cs_settings, service_db("training"), event)


def new_course(training, headers, **changes) -> dict:
    body = {
        "code": f"C-{uuid.uuid4().hex[:8]}",
        "title": "Service etiquette",
        "mandatory_for": ["agent"],
        "validity_months": 12,
        "pass_mark": 80,
    }
    r = training.post("/courses", json=dict(body, **changes), headers=headers)
    assert r.status_code == 201, r.json
    return r.json


def outbox(service_db, type_: str, subject: str) -> list:
    with service_db("training").transaction() as tx:
        rows = tx.execute(
            "SELECT body FROM outbox WHERE type = %s AND subject = %s ORDER BY seq",
            (type_, subject),
        ).fetchall()
    return [parse_event(r[0].encode()) for r in rows]


def mine(items: list[dict], course: str) -> dict[str, dict]:
    return {i["staff_id"]: i for i in items if i["course_code"] == course}


def test_sessions_attendance_and_capacity(training, trainer, cs_settings, service_db, consumer):
    run = uuid.uuid4().hex[:6]
    dept = f"D{run}"
    for s in ("a", "b", "c"):
        add_staff(cs_settings, service_db, f"{s}-{run}", dept)
    course = new_course(training, trainer)
    r = training.post(
        "/sessions",
        json={
            "course_code": course["code"],
            "date": "2026-12-03",
            "trainer": "T. Wang",
            "capacity": 2,
        },
        headers=trainer,
    )
    assert r.status_code == 201, r.json
    session = r.json
    assert session["enrolled"] == 0 and session["enrolments"] == []
    sid = session["id"]
    assert (
        training.post(
            f"/sessions/{sid}/enrolments", json={"staff_id": f"a-{run}"}, headers=trainer
        ).status_code
        == 201
    )
    again = training.post(
        f"/sessions/{sid}/enrolments", json={"staff_id": f"a-{run}"}, headers=trainer
    )
    assert again.status_code == 409
    # attendance of someone not enrolled enrols them while a place is free
    r = training.post(f"/sessions/{sid}/attendance", json={"staff_id": f"b-{run}"}, headers=trainer)
    assert r.status_code == 200 and r.json["attended"] is True
    r = training.post(
        f"/sessions/{sid}/attendance",
        json={"staff_id": f"a-{run}", "attended": False},
        headers=trainer,
    )
    assert r.status_code == 200 and r.json["attended"] is False
    full = training.post(
        f"/sessions/{sid}/attendance", json={"staff_id": f"c-{run}"}, headers=trainer
    )
    assert full.status_code == 409 and "full" in full.json["detail"]
    shown = training.get(f"/sessions/{sid}", headers=trainer).json
    assert shown["enrolled"] == 2
    assert {e["staff_id"]: e["attended"] for e in shown["enrolments"]} == {
        f"a-{run}": False,
        f"b-{run}": True,
    }
    assert (
        training.post(
            "/sessions/999999/attendance", json={"staff_id": f"a-{run}"}, headers=trainer
        ).status_code
        == 404
    )
    unknown = training.post(
        f"/sessions/{sid}/attendance", json={"staff_id": "nobody"}, headers=trainer
    )
    assert unknown.status_code == 422 and "staff_id" in invalid_fields(unknown.json)
    listed = training.get(f"/sessions?course_code={course['code']}", headers=trainer).json["items"]
    assert [s["id"] for s in listed] == [sid]


def test_assessments_certificates_and_training_completed(
    training, trainer, cs_settings, service_db, consumer
):
    run = uuid.uuid4().hex[:6]
    staff = f"s-{run}"
    add_staff(cs_settings, service_db, staff, f"D{run}")
    course = new_course(training, trainer, pass_mark=80, validity_months=12)
    failed = training.post(
        "/assessments",
        json={"staff_id": staff, "course_code": course["code"], "score": 79.5},
        headers=trainer,
    )
    assert failed.status_code == 201 and failed.json["passed"] is False
    assert failed.json["expires_on"] is None
    # 01:00 in Shanghai a month ago is still the day before in UTC: the Shanghai date counts
    day = clock.now().astimezone(SHANGHAI).date() - timedelta(days=30)
    day -= timedelta(days=1) if (day.month, day.day) == (2, 29) else timedelta(0)
    at = datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(hours=1)
    passed = training.post(
        "/assessments",
        json={
            "staff_id": staff,
            "course_code": course["code"],
            "score": 80,
            "assessed_at": at.isoformat(),
        },
        headers=trainer,
    )
    assert passed.status_code == 201 and passed.json["passed"] is True
    assert passed.json["expires_on"] == day.replace(year=day.year + 1).isoformat()
    events = outbox(service_db, "training.completed", staff)
    assert [(e.data["course_code"], e.data["score"], e.data["passed"]) for e in events] == [
        (course["code"], 79.5, False),
        (course["code"], 80.0, True),
    ]
    assert events[1].id == passed.json["event_id"]
    assert events[1].data["completed_at"] == at
    listed = training.get(f"/assessments?staff_id={staff}", headers=trainer).json["items"]
    assert len(listed) == 2
    # the certificate counts towards training compliance on the scorecard, traced to its event
    local = clock.now().astimezone(SHANGHAI)
    quarter = f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    r = training.get(
        f"/scorecards/{staff}/evidence?period={quarter}&figure=training_compliance",
        headers=trainer,
    )
    assert r.status_code == 200, r.json
    assert passed.json["event_id"] in [i["event_id"] for i in r.json["items"]]
    # kept for audit: never changed
    with pytest.raises(Exception, match="append-only"), service_db("training").transaction() as tx:
        tx.execute("UPDATE assessments SET score = 100 WHERE staff_id = %s", (staff,))


def test_compliance_lists_overdue_and_expiring_and_the_daily_check_flags_once(
    training, trainer, auth, cs_settings, service_db, consumer
):
    run = uuid.uuid4().hex[:6]
    dept = f"D{run}"
    never, soon, expired, fine, clerk = (
        f"{p}-{run}" for p in ("never", "soon", "expired", "fine", "clerk")
    )
    for s in (never, soon, expired, fine):
        add_staff(cs_settings, service_db, s, dept)
    add_staff(cs_settings, service_db, clerk, dept, role="department_staff")
    add_staff(cs_settings, service_db, f"other-{run}", f"E{run}")
    course = new_course(training, trainer, validity_months=12)
    code = course["code"]
    today = clock.now().astimezone(SHANGHAI).date()
    now = clock.now()

    def assess(staff: str, when: datetime) -> None:
        r = training.post(
            "/assessments",
            json={
                "staff_id": staff,
                "course_code": code,
                "score": 95,
                "assessed_at": when.isoformat(),
            },
            headers=trainer,
        )
        assert r.status_code == 201, r.json

    # 12 months minus a week ago: expires next week
    assess(
        soon,
        datetime.combine(
            today.replace(year=today.year - 1) + timedelta(days=7), datetime.min.time(), SHANGHAI
        )
        + timedelta(hours=10),
    )
    assess(expired, now - timedelta(days=400))
    assess(fine, now - timedelta(days=10))

    reader = auth("department_head", subject="head-1")
    r = training.get(f"/compliance?department={dept}", headers=reader)
    assert r.status_code == 200, r.json
    items = mine(r.json["items"], code)
    assert set(items) == {never, soon, expired}
    assert (items[never]["status"], items[never]["reason"], items[never]["expires_on"]) == (
        "overdue",
        "never_passed",
        None,
    )
    assert (items[expired]["status"], items[expired]["reason"]) == ("overdue", "expired")
    assert (items[soon]["status"], items[soon]["days_left"]) == ("expiring", 7)
    assert items[soon]["expires_on"] == (today + timedelta(days=7)).isoformat()
    assert all(i["department"] == dept for i in r.json["items"])
    narrow = training.get(f"/compliance?department={dept}&expiring_within_days=5", headers=reader)
    assert set(mine(narrow.json["items"], code)) == {never, expired}
    overdue_only = training.get(f"/compliance?department={dept}&status=overdue", headers=reader)
    assert set(mine(overdue_only.json["items"], code)) == {never, expired}

    # the daily check: flags today's overdue once, however often it ticks
    db = service_db("training")
    tick(db, now)
    assert tick(db, now) == 0

    def flags() -> list[tuple]:
        got = training.get(f"/compliance/flags?department={dept}", headers=reader).json["items"]
        return sorted(
            (f["staff_id"], f["reason"], f["expired_on"]) for f in got if f["course_code"] == code
        )

    first = flags()
    assert [(s, reason) for s, reason, _ in first] == [
        (expired, "expired"),
        (never, "never_passed"),
    ]
    with db.transaction() as tx:
        flag_overdue(tx, today + timedelta(days=1))
    assert flags() == first
    # a week later the certificate that was expiring has expired: newly overdue, flagged once
    with db.transaction() as tx:
        flag_overdue(tx, today + timedelta(days=8))
        flag_overdue(tx, today + timedelta(days=9))
    later = flags()
    assert len(later) == 3 and (soon, "expired", (today + timedelta(days=7)).isoformat()) in later


def test_bad_input_and_roles_are_refused(
    training, trainer, auth, cs_settings, service_db, consumer
):
    run = uuid.uuid4().hex[:6]
    staff = f"s-{run}"
    add_staff(cs_settings, service_db, staff, f"D{run}")
    course = new_course(training, trainer)
    dup = training.post(
        "/courses",
        json={
            k: course[k] for k in ("code", "title", "mandatory_for", "validity_months", "pass_mark")
        },
        headers=trainer,
    )
    assert dup.status_code == 409
    for body in (
        {"code": "X1", "title": "t", "validity_months": 12},  # no pass mark
        {"code": "X1", "title": "t", "validity_months": 0, "pass_mark": 50},
        {"code": "X1", "title": "t", "validity_months": 12, "pass_mark": 101},
        {"code": "bad code!", "title": "t", "validity_months": 12, "pass_mark": 50},
        {"code": "X1", "title": "t", "validity_months": 12, "pass_mark": 50, "extra": 1},
    ):
        r = training.post("/courses", json=body, headers=trainer)
        assert r.status_code == 422, body
    for body, field in (
        ({"staff_id": "nobody", "course_code": course["code"], "score": 90}, "staff_id"),
        ({"staff_id": staff, "course_code": "NO-SUCH", "score": 90}, "course_code"),
        ({"staff_id": staff, "course_code": course["code"], "score": 120}, "score"),
        ({"staff_id": staff, "course_code": course["code"]}, "score"),
        (
            {
                "staff_id": staff,
                "course_code": course["code"],
                "score": 90,
                "assessed_at": (clock.now() + timedelta(days=1)).isoformat(),
            },
            "assessed_at",
        ),
    ):
        r = training.post("/assessments", json=body, headers=trainer)
        assert r.status_code == 422 and field in invalid_fields(r.json), (body, r.json)
    r = training.post(
        "/sessions",
        json={"course_code": "NO-SUCH", "date": "2026-12-01", "trainer": "t", "capacity": 3},
        headers=trainer,
    )
    assert r.status_code == 422
    assert training.get("/compliance?expiring_within_days=-1", headers=trainer).status_code == 422
    assert training.get(f"/scorecards/{staff}?period=2026-Q5", headers=trainer).status_code == 422
    assert training.get(f"/scorecards/{staff}", headers=trainer).status_code == 422
    assert (
        training.get("/scorecards/nobody-at-all?period=2026-Q4", headers=trainer).status_code == 404
    )
    # roles: agents do not manage training; no token, no answer
    agent = auth("agent", subject=staff)
    assert training.post("/courses", json={"code": "X2"}, headers=agent).status_code == 403
    assert training.get("/compliance", headers=agent).status_code == 403
    assert (
        training.post("/incentive-runs", json={"period": "2026-Q4"}, headers=trainer).status_code
        == 403
    )
    assert training.get("/compliance").status_code == 401
    with service_db("training").transaction() as tx:
        assert tx.execute("SELECT count(*) FROM courses WHERE code = 'X1'").fetchone()[0] == 0
