"""Routing to departments on the real database and broker: directory, rules, work items.

The database is shared by the whole session, so every test makes its own departments, staff
and region (rules match on the region), and removes the catch-alls and defaults it sets up.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.routing import handlers
from services.routing.commands import work_items
from shared import clock as business_clock
from shared.db import Database
from shared.events import Event, new_event, parse_event
from shared.testing.factories import case_opened
from shared.testing.problems import invalid_fields
from shared.testing.waiting import publish_and_wait


def uid() -> str:
    return uuid.uuid4().hex[:6].upper()


@pytest.fixture
def routing(client):
    return client("routing")


@pytest.fixture
def boss(auth):
    return auth("supervisor", subject="sup-7")


@pytest.fixture
def region() -> str:
    return f"Haidian-{uid()}"


def make_department(routing, boss, prefix: str = "NETOPS", **fields: Any) -> str:
    code = f"{prefix}-{uid()}"
    r = routing.post(
        "/departments", json={"code": code, "name": f"{prefix} department", **fields}, headers=boss
    )
    assert r.status_code == 201, r.json
    return code


def make_staff(routing, boss, department: str | None, **fields: Any) -> str:
    staff_id = fields.pop("staff_id", None) or f"S-{uid()}"
    body = {
        "staff_id": staff_id,
        "display_name": f"Staff {staff_id}",
        "role": "department_staff",
        "department": department,
        **fields,
    }
    r = routing.post("/staff", json=body, headers=boss)
    assert r.status_code == 201, r.json
    return staff_id


def make_rule(routing, boss, **fields: Any) -> dict:
    r = routing.post("/routing-rules", json={"position": 1, **fields}, headers=boss)
    assert r.status_code == 201, r.json
    return r.json


def parsed(event: Event) -> Event:
    """The event as a consumer sees it (Python values, not JSON)."""
    return parse_event(event.to_json())


def open_case(service_db, **facts: Any) -> str:
    """case.opened, handled by routing as its consumer would (records the facts, starts clock)."""
    facts.setdefault("opened_at", business_clock.now().replace(microsecond=0))
    event = parsed(case_opened(**facts))
    with service_db("routing").transaction() as tx:
        handlers.on_case_opened(tx, event)
    return event.subject


def transferred(case_id: str, requested: str | None = None, at: datetime | None = None) -> Event:
    return new_event(
        "case.transferred",
        case_id,
        {
            "case_id": case_id,
            "reason": "needs-department",
            "requested_department": requested,
            "agent_id": "agent-1",
            "transferred_at": at or business_clock.now(),
        },
        source="/intake",
    )


def transfer(
    service_db, case_id: str, requested: str | None = None, at: datetime | None = None
) -> None:
    with service_db("routing").transaction() as tx:
        handlers.on_case_transferred(tx, parsed(transferred(case_id, requested, at)))


def item_of(routing, boss, case_id: str, state: str | None = None) -> dict:
    query = {"case_id": case_id, **({"state": state} if state else {})}
    items = routing.get("/work-items", query_string=query, headers=boss).json["items"]
    assert len(items) == 1, items
    return items[0]


def events_of(service_db, case_id: str, *types: str) -> list[Event]:
    with service_db("routing").transaction() as tx:
        rows = tx.execute(
            "SELECT body FROM outbox WHERE subject = %s ORDER BY seq", (case_id,)
        ).fetchall()
    events = [parse_event(r[0].encode()) for r in rows]
    return [e for e in events if not types or e.type in types]


def count(service_db, table: str) -> int:
    with service_db("routing").transaction() as tx:
        return tx.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# the life of a transferred complaint


def test_transferred_broadband_complaint_goes_where_the_rules_say_and_dry_run_explains_it(
    routing, boss, auth, service_db, cs_settings, run_service, region
):
    netops = make_department(routing, boss, "NETOPS", ola_hours=4)
    field = make_department(routing, boss, "FIELD")
    make_staff(routing, boss, netops, skills=["billing"])
    expert = make_staff(routing, boss, netops, skills=["broadband"], regions=[region])
    make_staff(routing, boss, netops, skills=["broadband"], regions=["Chaoyang"])
    make_staff(routing, boss, field)
    rule = make_rule(routing, boss, department=netops, category="broadband", regions=[region])
    make_rule(routing, boss, department=field, position=2, categories=["broadband"])
    assert rule["categories"] == ["broadband"] and rule["regions"] == [region]

    db = service_db("routing")
    run_service("routing")
    opened = case_opened(region=region, opened_at=business_clock.now())
    publish_and_wait(cs_settings, db, opened)
    publish_and_wait(cs_settings, db, transferred(opened.subject))

    agent = auth("agent", subject="agent-1")
    queue = routing.get("/work-items", query_string={"department": netops}, headers=agent).json
    [item] = queue["items"]
    assert item["case_id"] == opened.subject and item["assignee_id"] == expert
    assert item["state"] == "assigned" and item["due_at"] and item["overdue"] is False
    assert item["rule_id"] == rule["id"]
    [routed] = events_of(service_db, opened.subject, "case.routed")
    assert routed.data["department"] == netops and routed.data["assignee_id"] == expert
    assert routed.data["due_at"] == datetime.fromisoformat(item["due_at"])

    before = (count(service_db, "outbox"), count(service_db, "work_items"))
    r = routing.post(
        "/routing/dry-run",
        json={"kind": "complaint", "category": "broadband", "region": region, "channel": "hotline"},
        headers=agent,
    )
    assert r.status_code == 200
    assert r.json == {
        "department": netops,
        "rule_id": rule["id"],
        "reason": f"rule {rule['id']} (position 1): category broadband, region {region}",
    }
    assert item["routing_reason"] == r.json["reason"]
    assert (count(service_db, "outbox"), count(service_db, "work_items")) == before


def test_two_transfers_at_once_never_give_one_member_both(routing, boss, service_db, region):
    """The second transfer waits for the first's department lock, then sees its load."""
    dept = make_department(routing, boss)
    members = {make_staff(routing, boss, dept), make_staff(routing, boss, dept)}
    make_rule(routing, boss, department=dept, region=region)
    cases = [open_case(service_db, region=region) for _ in range(2)]
    db = service_db("routing")
    routed: dict[int, dict] = {}
    errors: list[BaseException] = []
    first_routed, release = threading.Event(), threading.Event()

    def route(n: int) -> None:
        try:
            with db.transaction() as tx:
                routed[n] = work_items.route_case(tx, case_id=cases[n], requested_department=None)
                if n == 0:
                    first_routed.set()
                    release.wait(10)  # hold the transaction open
        except BaseException as e:
            errors.append(e)
            first_routed.set()

    first = threading.Thread(target=route, args=(0,))
    first.start()
    assert first_routed.wait(10)
    second = threading.Thread(target=route, args=(1,))
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second transfer should wait for the department lock"
    release.set()
    first.join(10)
    second.join(10)
    assert not errors, errors
    assert {routed[0]["assignee_id"], routed[1]["assignee_id"]} == members


def test_many_simultaneous_transfers_spread_evenly(cs_settings, routing, boss, service_db, region):
    dept = make_department(routing, boss)
    members = [make_staff(routing, boss, dept) for _ in range(2)]
    make_rule(routing, boss, department=dept, region=region)
    cases = [open_case(service_db, region=region) for _ in range(4)]
    db = Database(cs_settings, "routing", max_size=6)
    start = threading.Barrier(len(cases))
    errors: list[BaseException] = []

    def route(case_id: str) -> None:
        try:
            start.wait(10)
            with db.transaction() as tx:
                work_items.route_case(tx, case_id=case_id, requested_department=None)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=route, args=(c,)) for c in cases]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        db.close()
    assert not errors, errors
    assignees = [item_of(routing, boss, c)["assignee_id"] for c in cases]
    assert sorted(assignees) == sorted(members * 2)


def test_the_agents_requested_department_is_honoured_when_active(routing, boss, service_db, region):
    by_rule = make_department(routing, boss, "TECH")
    requested = make_department(routing, boss, "FIELD")
    closed = make_department(routing, boss, "BILLING", active=False)
    make_staff(routing, boss, by_rule)
    fitter = make_staff(routing, boss, requested)
    make_rule(routing, boss, department=by_rule, region=region)

    case_id = open_case(service_db, region=region)
    transfer(service_db, case_id, requested=requested)
    item = item_of(routing, boss, case_id)
    assert item["department"] == requested and item["assignee_id"] == fitter
    assert item["rule_id"] is None and f"requested department {requested}" in item["routing_reason"]

    other = open_case(service_db, region=region)
    transfer(service_db, other, requested=closed)
    item = item_of(routing, boss, other)
    assert item["department"] == by_rule
    assert f"requested department {closed} is inactive" in item["routing_reason"]
    r = routing.post(
        "/routing/dry-run", json={"region": region, "requested_department": requested}, headers=boss
    )
    assert r.json["department"] == requested and "requested" in r.json["reason"]


def test_transfer_before_case_opened_or_without_any_department_raises_for_a_retry(
    service_db, region
):
    with pytest.raises(work_items.CaseFactsMissing), service_db("routing").transaction() as tx:
        handlers.on_case_transferred(tx, parsed(transferred(str(uuid.uuid4()))))
    case_id = open_case(service_db, region=region, category=f"cat-{uid()}")
    with service_db("routing").transaction() as tx:
        default = tx.one("SELECT code FROM departments WHERE is_default AND active")
    if default is None:  # another test's catch-all or default would route it
        with pytest.raises(work_items.NoDepartment), service_db("routing").transaction() as tx:
            handlers.on_case_transferred(tx, parsed(transferred(case_id)))


def test_a_catch_all_rule_and_the_default_department_take_what_nothing_else_matches(
    routing, boss, service_db, region
):
    catch_all_dept = make_department(routing, boss, "SUPPORT")
    default_dept = make_department(routing, boss, "SUPERVISION")
    probe = {"kind": "complaint", "category": f"cat-{uid()}", "region": region}
    catch_all = make_rule(routing, boss, department=catch_all_dept, position=999_999)
    try:
        r = routing.post("/routing/dry-run", json=probe, headers=boss)
        assert r.json["department"] == catch_all_dept and "catch-all" in r.json["reason"]
    finally:
        assert routing.delete(f"/routing-rules/{catch_all['id']}", headers=boss).status_code == 204
    r = routing.patch(f"/departments/{default_dept}", json={"is_default": True}, headers=boss)
    assert r.status_code == 200 and r.json["is_default"] is True
    try:
        r = routing.post("/routing/dry-run", json=probe, headers=boss)
        assert r.json["department"] == default_dept and r.json["rule_id"] is None
        assert "default department" in r.json["reason"]
    finally:
        routing.patch(f"/departments/{default_dept}", json={"is_default": False}, headers=boss)


# assignment within the department


def test_nobody_qualified_leaves_it_queued_until_a_member_accepts_it(
    routing, boss, auth, service_db, region
):
    dept = make_department(routing, boss)
    member = make_staff(routing, boss, dept, regions=["Chaoyang"])
    make_rule(routing, boss, department=dept, region=region)
    case_id = open_case(service_db, region=region)
    transfer(service_db, case_id)
    item = item_of(routing, boss, case_id)
    assert item["state"] == "queued" and item["assignee_id"] is None
    [routed] = events_of(service_db, case_id, "case.routed")
    assert routed.data["assignee_id"] is None

    r = routing.post(
        f"/work-items/{item['id']}/accept", headers=auth("department_staff", subject=member)
    )
    assert r.status_code == 200 and r.json["state"] == "accepted"
    assert r.json["assignee_id"] == member
    assert events_of(service_db, case_id, "case.routed")[-1].data["assignee_id"] == member


def test_a_departments_system_reports_the_work_with_its_own_times(
    routing, boss, auth, service_db, region
):
    """Accept (taking a queued item for the person named), progress and handled, each at the
    time the department's system gives: the item, its events and the department clock keep
    them; a time before the routing, or a person dating their own step, is refused."""
    dept = make_department(routing, boss, ola_hours=8)
    member = make_staff(routing, boss, dept, regions=["Chaoyang"])
    received = (business_clock.now() - timedelta(days=30)).replace(microsecond=0)
    case_id = open_case(service_db, region=region, opened_at=received)
    routed_at = received + timedelta(minutes=20)
    # before today's rules applied: the reported transfer names the department it went to
    transfer(service_db, case_id, requested=dept, at=routed_at)
    item = item_of(routing, boss, case_id)
    assert item["state"] == "queued" and datetime.fromisoformat(item["created_at"]) == routed_at
    started = {
        e.data["clock"]: e.data["started_at"] for e in events_of(service_db, case_id, "sla.started")
    }
    assert started == {"customer": received, "department": routed_at}
    system = auth("system", subject="dept-system")
    path = f"/work-items/{item['id']}"

    def step(minutes: int, **body: Any) -> dict[str, Any]:
        at = routed_at + timedelta(minutes=minutes)
        return dict(body, occurred_at=at.isoformat(), actor_id=member)

    early = routing.post(f"{path}/accept", json=step(-5), headers=system)
    assert early.status_code == 422 and "occurred_at" in str(early.json)
    own = auth("department_staff", subject=member)
    r = routing.post(f"{path}/accept", json={"occurred_at": routed_at.isoformat()}, headers=own)
    assert r.status_code == 422 and item_of(routing, boss, case_id)["state"] == "queued"

    r = routing.post(f"{path}/accept", json=step(10), headers=system)
    assert r.status_code == 200, r.json
    assert (r.json["state"], r.json["assignee_id"]) == ("accepted", member)
    assert datetime.fromisoformat(r.json["accepted_at"]) == routed_at + timedelta(minutes=10)
    assert events_of(service_db, case_id, "case.routed")[-1].data["routed_at"] == (
        routed_at + timedelta(minutes=10)
    )
    r = routing.post(f"{path}/progress", json=step(60, note="crew booked"), headers=system)
    assert r.status_code == 200, r.json
    r = routing.post(f"{path}/handled", json=step(180, resolution_code="fixed"), headers=system)
    assert r.status_code == 200, r.json
    assert r.json["handled_by"] == member
    [handled] = events_of(service_db, case_id, "case.handled")
    assert handled.data["handled_at"] == routed_at + timedelta(minutes=180)
    with service_db("routing").transaction() as tx:
        clock = tx.one(
            "SELECT started_at, stopped_at FROM sla_clocks"
            " WHERE case_id = %s AND clock = 'department'",
            (case_id,),
        )
    assert clock == {"started_at": routed_at, "stopped_at": routed_at + timedelta(minutes=180)}


def test_deactivating_a_member_reassigns_their_open_items(routing, boss, service_db, region):
    dept = make_department(routing, boss)
    leaving = make_staff(routing, boss, dept, staff_id=f"A-{uid()}")
    staying = make_staff(routing, boss, dept, staff_id=f"B-{uid()}")
    make_rule(routing, boss, department=dept, region=region)
    cases = [open_case(service_db, region=region) for _ in range(2)]
    for case_id in cases:
        transfer(service_db, case_id)
    held = [c for c in cases if item_of(routing, boss, c)["assignee_id"] == leaving]
    assert len(held) == 1

    r = routing.patch(f"/staff/{leaving}", json={"active": False}, headers=boss)
    assert r.status_code == 200 and r.json["active"] is False
    assert [(m["case_id"], m["assignee_id"]) for m in r.json["reassigned"]] == [(held[0], staying)]
    assert {item_of(routing, boss, c)["assignee_id"] for c in cases} == {staying}
    assert events_of(service_db, held[0], "case.routed")[-1].data["assignee_id"] == staying
    [announced] = events_of(service_db, leaving, "staff.upserted")[-1:]
    assert announced.data["active"] is False and announced.source == "/routing"


def test_hand_back_goes_to_another_member_or_back_to_the_queue(
    routing, auth, boss, service_db, region
):
    dept = make_department(routing, boss)
    first = make_staff(routing, boss, dept, staff_id=f"A-{uid()}")
    make_rule(routing, boss, department=dept, region=region)
    case_id = open_case(service_db, region=region)
    transfer(service_db, case_id)
    item = item_of(routing, boss, case_id)
    assert item["assignee_id"] == first
    as_first = auth("department_staff", subject=first)

    r = routing.post(
        f"/work-items/{item['id']}/hand-back", json={"reason": "not mine"}, headers=as_first
    )
    assert r.status_code == 200 and r.json["state"] == "handed_back"
    assert r.json["assignee_id"] is None

    second = make_staff(routing, boss, dept, staff_id=f"B-{uid()}")
    r = routing.post(
        f"/work-items/{item['id']}/reassign", json={"assignee_id": first}, headers=boss
    )
    assert r.status_code == 200 and r.json["assignee_id"] == first
    r = routing.post(
        f"/work-items/{item['id']}/hand-back", json={"reason": "on leave"}, headers=as_first
    )
    assert r.json["state"] == "assigned" and r.json["assignee_id"] == second
    notes = routing.get(f"/work-items/{item['id']}", headers=boss).json["notes"]
    assert [(n["kind"], n["note"], n["by"]) for n in notes] == [
        ("hand_back", "not mine", first),
        ("hand_back", "on leave", first),
    ]


def test_reassign_only_to_an_active_member_of_the_department(routing, boss, service_db, region):
    dept = make_department(routing, boss)
    other = make_department(routing, boss)
    member = make_staff(routing, boss, dept)
    colleague = make_staff(routing, boss, dept)
    inactive = make_staff(routing, boss, dept, active=False)
    outsider = make_staff(routing, boss, other)
    make_rule(routing, boss, department=dept, region=region)
    case_id = open_case(service_db, region=region)
    transfer(service_db, case_id)
    item = item_of(routing, boss, case_id)
    for wrong in (inactive, outsider, "S-NOBODY"):
        r = routing.post(
            f"/work-items/{item['id']}/reassign", json={"assignee_id": wrong}, headers=boss
        )
        assert r.status_code == 422 and "assignee_id" in invalid_fields(r.json)
    target = colleague if item["assignee_id"] == member else member
    r = routing.post(
        f"/work-items/{item['id']}/reassign", json={"assignee_id": target}, headers=boss
    )
    assert r.status_code == 200 and r.json["assignee_id"] == target
    with service_db("routing").transaction() as tx:
        clock = tx.one(
            "SELECT assignee_id FROM sla_clocks WHERE case_id = %s AND clock = 'department'",
            (case_id,),
        )
    assert clock["assignee_id"] == target


# the department's work


def test_progress_emits_case_progressed_and_keeps_the_note_out_of_it(
    routing, auth, boss, service_db, region
):
    dept = make_department(routing, boss)
    member = make_staff(routing, boss, dept)
    make_rule(routing, boss, department=dept, region=region)
    case_id = open_case(service_db, region=region)
    transfer(service_db, case_id)
    item = item_of(routing, boss, case_id)
    me = auth("department_staff", subject=member)
    mine = routing.get("/work-items", query_string={"mine": "true"}, headers=me).json["items"]
    assert [i["id"] for i in mine] == [item["id"]]

    assert routing.post(f"/work-items/{item['id']}/accept", headers=me).json["state"] == "accepted"
    eta = (business_clock.now() + timedelta(days=1)).replace(microsecond=0)
    note = "Fibre cut near the substation, splicing crew booked"
    r = routing.post(
        f"/work-items/{item['id']}/progress",
        json={"note": note, "eta": eta.isoformat()},
        headers=me,
    )
    assert r.status_code == 200
    [progressed] = events_of(service_db, case_id, "case.progressed")
    assert progressed.data["eta"] == eta and progressed.data["by"] == member
    assert note not in progressed.to_json().decode()
    [kept] = routing.get(f"/work-items/{item['id']}", headers=me).json["notes"]
    assert kept["note"] == note and datetime.fromisoformat(kept["eta"]) == eta


def test_an_eta_lies_ahead_within_the_horizon_and_notes_are_kept_masked(
    routing, auth, boss, service_db, region
):
    dept = make_department(routing, boss)
    member = make_staff(routing, boss, dept)
    make_rule(routing, boss, department=dept, region=region)
    case_id = open_case(service_db, region=region)
    transfer(service_db, case_id)
    item = item_of(routing, boss, case_id)
    me = auth("department_staff", subject=member)
    now = business_clock.now()
    for eta in (
        "9999-12-31T23:00:00-12:00",
        (now + timedelta(days=181)).isoformat(),
        (now - timedelta(days=1)).isoformat(),
    ):
        r = routing.post(
            f"/work-items/{item['id']}/progress", json={"note": "n", "eta": eta}, headers=me
        )
        assert r.status_code == 422 and "eta" in invalid_fields(r.json), (eta, r.json)
    assert events_of(service_db, case_id, "case.progressed") == []
    r = routing.post(
        f"/work-items/{item['id']}/progress",
        json={"note": "customer prefers 13912345678 or 010-62345678", "eta": None},
        headers=me,
    )
    assert r.status_code == 200
    r = routing.post(
        f"/work-items/{item['id']}/hand-back",
        json={"reason": "ID 11010519491231002X does not match"},
        headers=me,
    )
    assert r.status_code == 200
    notes = routing.get(f"/work-items/{item['id']}", headers=boss).json["notes"]
    texts = {n["kind"]: n["note"] for n in notes}
    assert texts["progress"] == "customer prefers 139****5678 or 010-****5678"
    assert texts["hand_back"] == "ID 110105********002X does not match"
    with service_db("routing").transaction() as tx:
        kept = tx.execute("SELECT string_agg(note, ' ') FROM work_item_notes").fetchone()[0]
    assert "13912345678" not in kept and "11010519491231002X" not in kept


def test_handled_emits_case_handled_and_stops_the_department_clock(
    routing, auth, boss, service_db, region
):
    dept = make_department(routing, boss, ola_hours=8)
    member = make_staff(routing, boss, dept, role="department_head")
    make_rule(routing, boss, department=dept, region=region)
    case_id = open_case(service_db, region=region)
    transfer(service_db, case_id)
    item = item_of(routing, boss, case_id)
    r = routing.post(
        f"/work-items/{item['id']}/handled",
        json={"resolution_code": "fibre_spliced"},
        headers=auth("department_head", subject=member),
    )
    assert r.status_code == 200 and r.json["state"] == "handled"
    assert r.json["handled_by"] == member and r.json["resolution_code"] == "fibre_spliced"
    [handled] = events_of(service_db, case_id, "case.handled")
    assert handled.data["department"] == dept and handled.data["handled_by"] == member
    assert handled.data["resolution_code"] == "fibre_spliced"
    with service_db("routing").transaction() as tx:
        clock = tx.one(
            "SELECT stopped_at FROM sla_clocks WHERE case_id = %s AND clock = 'department'",
            (case_id,),
        )
    assert clock["stopped_at"] is not None
    r = routing.post(
        f"/work-items/{item['id']}/handled", json={"resolution_code": "x"}, headers=boss
    )
    assert r.status_code == 409


def test_illegal_moves_are_409_unknown_items_404_other_departments_403(
    routing, auth, boss, service_db, region
):
    dept = make_department(routing, boss)
    other = make_department(routing, boss)
    member = make_staff(routing, boss, dept)
    outsider = make_staff(routing, boss, other)
    make_rule(routing, boss, department=dept, region=region)
    case_id = open_case(service_db, region=region)
    transfer(service_db, case_id)
    item = item_of(routing, boss, case_id)
    me = auth("department_staff", subject=member)

    r = routing.post(
        f"/work-items/{item['id']}/accept", headers=auth("department_staff", subject=outsider)
    )
    assert r.status_code == 403 and r.is_json
    r = routing.post(f"/work-items/{item['id']}/accept", headers=auth("agent", subject="agent-1"))
    assert r.status_code == 403
    assert (
        routing.post(
            f"/work-items/{item['id']}/handled", json={"resolution_code": "ok"}, headers=me
        ).status_code
        == 200
    )
    for action, body in [
        ("accept", None),
        ("hand-back", {"reason": "x"}),
        ("handled", {"resolution_code": "again"}),
        ("progress", {"note": "x"}),
        ("reassign", {"assignee_id": member}),
    ]:
        r = routing.post(f"/work-items/{item['id']}/{action}", json=body, headers=me)
        assert r.status_code == 409 and r.is_json and "handled" in r.json["detail"], action
    r = routing.post("/work-items/987654321/accept", headers=me)
    assert r.status_code == 404 and r.is_json
    assert routing.get("/work-items/987654321", headers=me).status_code == 404
    r = routing.post(
        f"/work-items/{item['id']}/handled", json={"resolution_code": "free text!"}, headers=me
    )
    assert r.status_code == 422


def test_case_resolved_closes_open_items_without_a_word(routing, boss, service_db, region):
    dept = make_department(routing, boss)
    make_staff(routing, boss, dept)
    make_rule(routing, boss, department=dept, region=region)
    case_id = open_case(service_db, region=region)
    transfer(service_db, case_id)
    before = [e.type for e in events_of(service_db, case_id, "case.routed", "case.handled")]
    resolved = new_event(
        "case.resolved",
        case_id,
        {
            "case_id": case_id,
            "kind": "complaint",
            "category": "broadband",
            "department": None,
            "resolved_by": "agent-1",
            "first_contact": False,
            "opened_at": business_clock.now() - timedelta(hours=1),
            "resolved_at": business_clock.now(),
        },
        source="/intake",
    )
    with service_db("routing").transaction() as tx:
        handlers.on_case_resolved(tx, parsed(resolved))
    item = item_of(routing, boss, case_id, state="closed")
    assert item["closed_at"] is not None and item["overdue"] is False
    assert [e.type for e in events_of(service_db, case_id, "case.routed", "case.handled")] == before
    listed = routing.get("/work-items", query_string={"case_id": case_id}, headers=boss).json
    assert (listed["items"], listed["total"]) == ([], 0)


def test_the_queue_lists_overdue_items_first_and_filters_them(routing, boss, service_db, region):
    dept = make_department(routing, boss)
    make_staff(routing, boss, dept)
    make_rule(routing, boss, department=dept, region=region)
    fresh = open_case(service_db, region=region)
    old = open_case(service_db, region=region, opened_at=datetime(2026, 2, 13, 2, tzinfo=UTC))
    for case_id in (fresh, old):
        transfer(service_db, case_id)
    items = routing.get("/work-items", query_string={"department": dept}, headers=boss).json
    assert [(i["case_id"], i["overdue"]) for i in items["items"]] == [(old, True), (fresh, False)]
    overdue = routing.get(
        "/work-items", query_string={"department": dept, "overdue": "true"}, headers=boss
    ).json["items"]
    assert [i["case_id"] for i in overdue] == [old]


# the directory


def test_departments_and_staff_api(routing, boss, auth, service_db):
    code = make_department(routing, boss, head_id="S-HEAD", ola_hours=16)
    r = routing.post("/departments", json={"code": code, "name": "again"}, headers=boss)
    assert r.status_code == 409 and r.is_json
    r = routing.post("/departments", json={"code": "x", "name": "too short"}, headers=boss)
    assert r.status_code == 422 and "code" in invalid_fields(r.json)
    reader = auth("agent", subject="agent-1")
    got = routing.get(f"/departments/{code}", headers=reader).json
    assert got["head_id"] == "S-HEAD" and got["ola_hours"] == 16 and got["active"] is True
    assert routing.get("/departments/NOPE-404", headers=reader).status_code == 404
    assert (
        routing.post("/departments", json={"code": "AB", "name": "x"}, headers=reader).status_code
        == 403
    )
    r = routing.patch(f"/departments/{code}", json={"name": "Network operations"}, headers=boss)
    assert r.json["name"] == "Network operations" and r.json["ola_hours"] == 16

    staff_id = make_staff(routing, boss, code, skills=["broadband"], regions=["Haidian"])
    r = routing.post(
        "/staff",
        json={"staff_id": staff_id, "display_name": "x", "role": "agent"},
        headers=boss,
    )
    assert r.status_code == 409
    r = routing.post(
        "/staff",
        json={
            "staff_id": f"S-{uid()}",
            "display_name": "x",
            "role": "department_staff",
            "department": "NOPE-404",
        },
        headers=boss,
    )
    assert r.status_code == 422 and "department" in invalid_fields(r.json)
    r = routing.post(
        "/staff",
        json={"staff_id": f"S-{uid()}", "display_name": "x", "role": "department_staff"},
        headers=boss,
    )
    assert r.status_code == 422
    listed = routing.get("/staff", query_string={"department": code}, headers=reader).json
    assert [s["staff_id"] for s in listed["items"]] == [staff_id]
    assert listed["items"][0]["skills"] == ["broadband"]
    assert (listed["page"], listed["total"]) == (1, 1)
    departments = routing.get("/departments", query_string={"per_page": 1}, headers=reader).json
    assert len(departments["items"]) == 1 and departments["total"] >= 1
    assert routing.get("/staff/S-NOBODY", headers=reader).status_code == 404
    [created] = events_of(service_db, staff_id, "staff.upserted")
    assert created.data == {
        "staff_id": staff_id,
        "display_name": f"Staff {staff_id}",
        "role": "department_staff",
        "department": code,
        "active": True,
    }


def test_hr_staff_upserted_updates_the_directory_and_our_own_is_ignored(routing, boss, service_db):
    dept = make_department(routing, boss)
    other = make_department(routing, boss)
    staff_id = make_staff(routing, boss, dept, skills=["broadband"], regions=["Haidian"])

    def upserted(source: str, **data: Any) -> Event:
        body = {
            "staff_id": staff_id,
            "display_name": "Wang Li",
            "role": "department_staff",
            "department": other,
            "active": True,
            **data,
        }
        return parsed(new_event("staff.upserted", staff_id, body, source=source))

    with service_db("routing").transaction() as tx:
        handlers.on_staff_upserted(tx, upserted("/routing", display_name="ignored"))
    assert (
        routing.get(f"/staff/{staff_id}", headers=boss).json["display_name"] == f"Staff {staff_id}"
    )
    with service_db("routing").transaction() as tx:
        handlers.on_staff_upserted(tx, upserted("/hr"))
    got = routing.get(f"/staff/{staff_id}", headers=boss).json
    assert got["display_name"] == "Wang Li" and got["department"] == other
    assert got["skills"] == ["broadband"] and got["regions"] == ["Haidian"]
    assert got["updated_by"] == "/hr"
    assert len(events_of(service_db, staff_id, "staff.upserted")) == 1  # not announced again

    newcomer = f"S-{uid()}"
    with service_db("routing").transaction() as tx:
        handlers.on_staff_upserted(tx, upserted("/hr", staff_id=newcomer, department=dept))
    assert routing.get(f"/staff/{newcomer}", headers=boss).json["skills"] == []
    with pytest.raises(ValueError), service_db("routing").transaction() as tx:
        handlers.on_staff_upserted(tx, upserted("/hr", department="NOPE-404"))


# the rules as data


def test_rule_changes_are_versioned_and_at_answers_the_rules_of_a_day(routing, boss, auth):
    first, second = make_department(routing, boss), make_department(routing, boss)
    region = f"Xicheng-{uid()}"
    rule = make_rule(
        routing, boss, department=first, kind="complaint", regions=[region], reason="new area"
    )
    assert rule["version"] == 1 and rule["changed_by"] == "sup-7" and rule["reason"] == "new area"
    today = date.fromisoformat(rule["effective_from"])
    later = today + timedelta(days=30)

    r = routing.put(
        f"/routing-rules/{rule['id']}",
        json={
            "position": 3,
            "department": second,
            "regions": [region],
            "effective_from": later.isoformat(),
            "reason": "moved to the second team",
        },
        headers=auth("admin", subject="admin-1"),
    )
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["kinds"] == []

    def rules_on(day: date | None = None) -> list[dict]:
        """Every page of the rules of `day` (other tests' rules included)."""
        found: list[dict] = []
        while True:
            query = {"page": len(found) // 100 + 1, "per_page": 100}
            if day is not None:
                query["at"] = day.isoformat()
            r = routing.get("/routing-rules", query_string=query, headers=boss)
            assert r.status_code == 200 and r.json["at"] == (day or today).isoformat()
            found += r.json["items"]
            if len(found) >= r.json["total"] or not r.json["items"]:
                return found

    def at(day: date) -> dict | None:
        listed = rules_on(day)
        positions = [i["position"] for i in listed]
        assert positions == sorted(positions)
        return next((i for i in listed if i["id"] == rule["id"]), None)

    assert at(today - timedelta(days=1)) is None
    assert at(today)["department"] == first and at(today)["kinds"] == ["complaint"]
    assert at(later)["department"] == second and at(later)["position"] == 3
    assert next(i for i in rules_on() if i["id"] == rule["id"])["version"] == 1

    r = routing.patch(
        f"/routing-rules/{rule['id']}", json={"effective_from": today.isoformat()}, headers=boss
    )
    assert r.status_code == 422 and "effective_from" in invalid_fields(r.json)
    r = routing.delete(
        f"/routing-rules/{rule['id']}",
        query_string={
            "reason": "area closed",
            "effective_from": (later + timedelta(days=10)).isoformat(),
        },
        headers=boss,
    )
    assert r.status_code == 204
    assert at(later + timedelta(days=9))["department"] == second
    assert at(later + timedelta(days=10)) is None
    assert routing.get(f"/routing-rules/{rule['id']}", headers=boss).status_code == 404
    history = routing.get(f"/routing-rules/{rule['id']}/versions", headers=boss).json["items"]
    assert [(v["version"], v["action"], v["changed_by"], v["reason"]) for v in history] == [
        (1, "created", "sup-7", "new area"),
        (2, "updated", "admin-1", "moved to the second team"),
        (3, "deleted", "sup-7", "area closed"),
    ]
    second_page = routing.get(
        f"/routing-rules/{rule['id']}/versions",
        query_string={"page": 2, "per_page": 2},
        headers=boss,
    ).json
    assert [v["version"] for v in second_page["items"]] == [3]
    assert (second_page["page"], second_page["per_page"], second_page["total"]) == (2, 2, 3)
    assert routing.delete(f"/routing-rules/{rule['id']}", headers=boss).status_code == 404


def test_rule_input_is_checked(routing, boss, auth):
    dept = make_department(routing, boss)
    for body, field in [
        ({"department": dept, "category": "broadband", "categories": ["tv"]}, "category"),
        ({"department": dept, "kind": "praise"}, "kind"),
        ({"department": "NOPE-404"}, "department"),
        ({"department": dept, "effective_from": "2020-01-01"}, "effective_from"),
        ({"department": dept, "colour": "red"}, "colour"),
    ]:
        r = routing.post("/routing-rules", json={"position": 1, **body}, headers=boss)
        assert r.status_code == 422 and field in invalid_fields(r.json), (body, r.json)
    r = routing.post(
        "/routing-rules", json={"position": 1, "department": dept}, headers=auth("agent")
    )
    assert r.status_code == 403
    rule = make_rule(routing, boss, department=dept, priorities=["urgent", "high", "urgent"])
    assert rule["priorities"] == ["urgent", "high"]
    r = routing.patch(f"/routing-rules/{rule['id']}", json={"priority": None}, headers=boss)
    assert r.json["priorities"] == [] and r.json["department"] == dept
    assert routing.delete(f"/routing-rules/{rule['id']}", headers=boss).status_code == 204
    assert routing.get("/routing-rules/987654321", headers=boss).status_code == 404
