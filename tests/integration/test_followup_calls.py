"""Follow-up calls in followup: one task per resolution, attempts, outcomes and their event,
do-not-call, reopen and close cancelling the call, assignment away from the resolver."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared import clock
from shared.events import new_event, parse_event
from shared.testing.factories import case_opened
from shared.testing.waiting import publish, publish_and_wait, wait_handled

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def followup(run_service):
    return run_service("followup", relay=False)


@pytest.fixture
def api(client):
    return client("followup")


@pytest.fixture
def db(service_db):
    return service_db("followup")


def resolved(case_id: str, resolved_at: datetime, **changes) -> object:
    data = {
        "case_id": case_id,
        "kind": "complaint",
        "category": "broadband",
        "department": "NOC",
        "resolved_by": "agent-resolver",
        "first_contact": False,
        "opened_at": resolved_at - timedelta(hours=3),
        "resolved_at": resolved_at,
    }
    data.update(changes)
    return new_event("case.resolved", case_id, data, source="/intake")


def staff(staff_id: str, role: str = "agent", active: bool = True) -> object:
    return new_event(
        "staff.upserted",
        staff_id,
        {
            "staff_id": staff_id,
            "display_name": f"Agent {staff_id}",
            "role": role,
            "department": None,
            "active": active,
        },
        source="/routing",
    )


def a_resolved_case(cs_settings, db, customer_id: str | None = None, **changes) -> tuple[str, str]:
    """Publishes case.opened and case.resolved; returns (case_id, the resolution event id)."""
    opened = case_opened(customer_id=customer_id, opened_at=clock.now())
    case_id = opened.data["case_id"]
    publish_and_wait(cs_settings, db, opened)
    event = resolved(case_id, clock.now().replace(microsecond=0), **changes)
    publish_and_wait(cs_settings, db, event)
    return case_id, event.id


def tasks_of(api, auth, case_id: str) -> list[dict]:
    r = api.get(f"/followups?case_id={case_id}", headers=auth("agent"))
    assert r.status_code == 200, r.json
    return r.json["items"]


def outbox(db, case_id: str, type_: str = "followup.completed") -> list:
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT body FROM outbox WHERE subject = %s AND type = %s ORDER BY seq",
            (case_id, type_),
        ).fetchall()
    return [parse_event(r[0].encode()) for r in rows]


def attempt(api, auth, task_id: str, body: dict, agent: str = "agent-caller"):
    return api.post(
        f"/followups/{task_id}/attempts", json=body, headers=auth("agent", subject=agent)
    )


def test_a_resolution_delivered_twice_gives_exactly_one_task(cs_settings, db, followup, api, auth):
    opened = case_opened(opened_at=clock.now())
    case_id = opened.data["case_id"]
    publish_and_wait(cs_settings, db, opened)
    at = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    # the same event twice (a redelivery), and a copy with a new id (a producer's retry)
    first, copy = resolved(case_id, at), resolved(case_id, at)
    publish(cs_settings, first, first, copy)
    wait_handled(db, first.id)
    wait_handled(db, copy.id)
    tasks = tasks_of(api, auth, case_id)
    assert len(tasks) == 1
    task = tasks[0]
    assert task["state"] == "due" and task["case_id"] == case_id
    # 1 working day after Tue 2026-11-24: Wed 17:30 Shanghai
    assert datetime.fromisoformat(task["due_at"]) == datetime(2026, 11, 25, 17, 30, tzinfo=SHANGHAI)
    assert task["due_provisional"] is False


def test_a_due_date_counts_working_days_and_makeup_workdays(cs_settings, db, followup, api, auth):
    # resolved on Fri 2026-02-13 at 20:00: Saturday the 14th is a makeup workday
    case_id = str(uuid.uuid4())
    publish_and_wait(
        cs_settings, db, resolved(case_id, datetime(2026, 2, 13, 20, 0, tzinfo=SHANGHAI))
    )
    (task,) = tasks_of(api, auth, case_id)
    assert datetime.fromisoformat(task["due_at"]) == datetime(2026, 2, 14, 17, 30, tzinfo=SHANGHAI)


def test_the_task_goes_to_the_least_loaded_agent_who_did_not_resolve_it(
    cs_settings, db, followup, api, auth
):
    resolver, other = f"a-res-{uuid.uuid4().hex[:6]}", f"a-oth-{uuid.uuid4().hex[:6]}"
    for s in (staff(resolver), staff(other), staff(f"sup-{uuid.uuid4().hex[:6]}", "supervisor")):
        publish_and_wait(cs_settings, db, s)
    # make every other known agent busier than `other`
    with db.transaction() as tx:
        tx.execute(
            "UPDATE staff SET active = false WHERE staff_id NOT IN (%s, %s)", (resolver, other)
        )
    try:
        case_id, _ = a_resolved_case(cs_settings, db, resolved_by=resolver)
        (task,) = tasks_of(api, auth, case_id)
        assert task["agent_id"] == other
        mine = api.get(f"/followups?state=due&agent_id={other}", headers=auth("agent"))
        assert [t["id"] for t in mine.json["items"]] == [task["id"]]
        # with no other agent known the task stays open to anyone
        publish_and_wait(cs_settings, db, staff(other, active=False))
        case_id, _ = a_resolved_case(cs_settings, db, resolved_by=resolver)
        (task,) = tasks_of(api, auth, case_id)
        assert task["agent_id"] is None
        listed = api.get("/followups?state=due&unassigned=true", headers=auth("agent")).json
        assert task["id"] in [t["id"] for t in listed["items"]]
    finally:
        with db.transaction() as tx:
            tx.execute("UPDATE staff SET active = true WHERE role = 'agent'")


def test_three_failed_attempts_end_the_task_unreachable(cs_settings, db, followup, api, auth):
    case_id, _ = a_resolved_case(cs_settings, db)
    (task,) = tasks_of(api, auth, case_id)
    for n, result in enumerate(("no_answer", "wrong_number"), start=1):
        r = attempt(api, auth, task["id"], {"result": result})
        assert r.status_code == 201, r.json
        assert r.json["state"] == "due" and r.json["failed_attempts"] == n
    assert outbox(db, case_id) == []
    r = attempt(api, auth, task["id"], {"result": "no_answer"})
    assert r.status_code == 201
    assert r.json["state"] == "unreachable" and r.json["outcome"] == "unreachable"
    assert [a["result"] for a in r.json["attempt_log"]] == [
        "no_answer",
        "wrong_number",
        "no_answer",
    ]
    (event,) = outbox(db, case_id)
    assert event.data["outcome"] == "unreachable" and event.data["satisfaction"] is None
    assert event.data["agent_id"] == "agent-caller" and event.data["department"] == "NOC"
    again = attempt(api, auth, task["id"], {"result": "reached", "solved": True})
    assert again.status_code == 409


def test_the_failed_attempt_limit_is_configurable(cs_settings, db, followup, auth):
    from services.followup.app import create_app
    from shared.db import Database

    settings = cs_settings.with_(followup_max_attempts=1)  # CS_FOLLOWUP_MAX_ATTEMPTS=1
    own_db = Database(settings, "followup")
    try:
        api = create_app(settings, own_db).test_client()
        case_id, _ = a_resolved_case(cs_settings, db)
        (task,) = tasks_of(api, auth, case_id)
        after = attempt(api, auth, task["id"], {"result": "no_answer"}).json
        assert after["state"] == "unreachable"
    finally:
        own_db.close()


def test_a_reached_customer_not_solved_emits_unresolved_without_the_comment(
    cs_settings, db, followup, api, auth
):
    case_id, _ = a_resolved_case(cs_settings, db)
    (task,) = tasks_of(api, auth, case_id)
    bad = [
        {"result": "no_answer", "satisfaction": 3},
        {"result": "wrong_number", "comment": "x"},
        {"result": "reached"},
        {"result": "reached", "solved": True, "satisfaction": 6},
        {"result": "picked_up"},
        {
            "result": "reached",
            "solved": True,
            "occurred_at": (clock.now() + timedelta(days=1)).isoformat(),
        },
    ]
    for body in bad:
        r = attempt(api, auth, task["id"], body)
        assert r.status_code == 422, (body, r.json)
    assert tasks_of(api, auth, case_id)[0]["attempts"] == 0
    comment = "Still slow every evening, neighbour has the same; call 13912345678 instead"
    r = attempt(
        api,
        auth,
        task["id"],
        {"result": "reached", "solved": False, "satisfaction": 2, "comment": comment},
    )
    assert r.status_code == 201, r.json
    assert r.json["state"] == "completed" and r.json["outcome"] == "unresolved"
    assert r.json["satisfaction"] == 2 and r.json["solved"] is False
    # followup keeps no personal data: the number is kept masked
    assert r.json["attempt_log"][0]["comment"] == comment.replace("13912345678", "139****5678")
    (event,) = outbox(db, case_id)
    assert event.data["outcome"] == "unresolved" and event.data["satisfaction"] == 2
    with db.transaction() as tx:
        bodies = [r[0] for r in tx.execute("SELECT body FROM outbox").fetchall()]
    assert not any("neighbour" in b for b in bodies)


def test_attempts_need_a_calling_role_and_an_existing_task(api, auth):
    r = api.post(
        f"/followups/{uuid.uuid4()}/attempts", json={"result": "no_answer"}, headers=auth("agent")
    )
    assert r.status_code == 404
    r = api.post(
        f"/followups/{uuid.uuid4()}/attempts", json={"result": "no_answer"}, headers=auth("trainer")
    )
    assert r.status_code == 403
    assert api.get("/followups").status_code == 401
    assert api.get("/followups?state=sleeping", headers=auth("agent")).status_code == 422


def test_reopened_or_closed_cases_cancel_the_waiting_call(cs_settings, db, followup, api, auth):
    for type_, data in (
        ("case.reopened", {"reason": "customer called back"}),
        ("case.closed", {"outcome": "confirmed"}),
    ):
        case_id, _ = a_resolved_case(cs_settings, db)
        at = clock.now() + timedelta(seconds=1)
        when = {"case.reopened": "reopened_at", "case.closed": "closed_at"}[type_]
        publish_and_wait(
            cs_settings,
            db,
            new_event(type_, case_id, dict(data, case_id=case_id, **{when: at}), source="/intake"),
        )
        (task,) = tasks_of(api, auth, case_id)
        assert task["state"] == "cancelled", type_
        assert attempt(api, auth, task["id"], {"result": "no_answer"}).status_code == 409


def test_customers_on_the_do_not_call_list_get_no_call(cs_settings, db, followup, api, auth):
    customer = str(uuid.uuid4())
    r = api.post("/do-not-call", json={"customer_id": customer}, headers=auth("agent"))
    assert r.status_code == 201 and r.json["customer_id"] == customer
    again = api.post("/do-not-call", json={"customer_id": customer}, headers=auth("agent"))
    assert again.status_code == 200
    case_id, _ = a_resolved_case(cs_settings, db, customer_id=customer)
    (task,) = tasks_of(api, auth, case_id)
    assert task["state"] == "skipped_do_not_call" and task["agent_id"] is None
    assert outbox(db, case_id) == []
    # an agent may not take a customer off the list (they asked; agents have calls to make)
    refused = api.delete(f"/do-not-call/{customer}", headers=auth("agent"))
    assert refused.status_code == 403 and "supervisor" in refused.json["detail"]
    assert api.get(f"/do-not-call/{customer}", headers=auth("agent")).status_code == 200
    # a supervisor does: the next resolution gets its call
    r = api.delete(f"/do-not-call/{customer}", headers=auth("supervisor"))
    assert r.status_code == 204
    assert api.get(f"/do-not-call/{customer}", headers=auth("agent")).status_code == 404
    assert api.delete(f"/do-not-call/{customer}", headers=auth("supervisor")).status_code == 404
    case_id, _ = a_resolved_case(cs_settings, db, customer_id=customer)
    (task,) = tasks_of(api, auth, case_id)
    assert task["state"] == "due"
    # listing a customer skips the calls already waiting for them
    api.post("/do-not-call", json={"customer_id": customer}, headers=auth("agent"))
    assert tasks_of(api, auth, case_id)[0]["state"] == "skipped_do_not_call"
    with db.transaction() as tx:
        history = tx.execute(
            "SELECT listed FROM do_not_call_history WHERE customer_id = %s ORDER BY id",
            (customer,),
        ).fetchall()
    assert [h[0] for h in history] == [True, False, True]


def test_a_resolution_arriving_after_the_case_moved_on_is_not_called(
    cs_settings, db, followup, api, auth
):
    case_id = str(uuid.uuid4())
    old, new = datetime(2026, 11, 2, 3, 0, tzinfo=UTC), datetime(2026, 11, 3, 3, 0, tzinfo=UTC)
    publish_and_wait(cs_settings, db, resolved(case_id, new))
    publish_and_wait(cs_settings, db, resolved(case_id, old))  # delivered late
    tasks = {t["resolved_at"]: t["state"] for t in tasks_of(api, auth, case_id)}
    assert tasks == {new.isoformat(): "due", old.isoformat(): "cancelled"}


def test_whoever_resolved_the_case_may_not_record_its_follow_up(
    cs_settings, db, followup, api, auth
):
    case_id, _ = a_resolved_case(cs_settings, db, resolved_by="agent-self-rater")
    (task,) = tasks_of(api, auth, case_id)
    reached = {"result": "reached", "solved": True, "satisfaction": 5}
    r = attempt(api, auth, task["id"], reached, agent="agent-self-rater")
    assert r.status_code == 403 and r.is_json
    assert "agent-self-rater resolved case" in r.json["detail"]
    # not through the call-centre system naming them either
    system = {"Authorization": auth("system", subject="cti")["Authorization"]}
    r = api.post(
        f"/followups/{task['id']}/attempts",
        json=dict(reached, actor_id="agent-self-rater"),
        headers=system,
    )
    assert r.status_code == 403
    # nothing was written: the task is still due, with no attempt and no event
    full = api.get(f"/followups/{task['id']}", headers=auth("agent")).json
    assert full["state"] == "due" and full["attempts"] == 0 and full["attempt_log"] == []
    assert outbox(db, case_id) == []
    # someone else records it, and it counts
    r = attempt(api, auth, task["id"], reached, agent="agent-colleague")
    assert r.status_code == 201 and r.json["outcome"] == "confirmed"
    (completed,) = outbox(db, case_id)
    assert completed.data["agent_id"] == "agent-colleague"


def test_department_staff_read_their_departments_follow_ups_only(
    cs_settings, db, followup, api, auth
):
    run = uuid.uuid4().hex[:6]
    mine, theirs = f"NOC-{run}", f"FIELD-{run}"
    case_id, _ = a_resolved_case(cs_settings, db, department=mine)
    other_id, _ = a_resolved_case(cs_settings, db, department=theirs)
    head = f"head-{run}"
    member = new_event(
        "staff.upserted",
        head,
        {
            "staff_id": head,
            "display_name": head,
            "role": "department_head",
            "department": mine,
            "active": True,
        },
        source="/routing",
    )
    publish_and_wait(cs_settings, db, member)
    as_head = auth("department_head", subject=head)
    listed = api.get("/followups", query_string={"per_page": 100}, headers=as_head).json
    assert [t["case_id"] for t in listed["items"]] == [case_id]
    (other,) = tasks_of(api, auth, other_id)
    r = api.get(f"/followups/{other['id']}", headers=as_head)
    assert r.status_code == 403 and r.is_json
    assert (
        api.get("/followups", query_string={"department": theirs}, headers=as_head).status_code
        == 403
    )
    # agents, who make the calls, read every department's
    assert tasks_of(api, auth, other_id)[0]["department"] == theirs
