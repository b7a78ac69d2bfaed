"""Object-level rules across intake and routing, with both services' relays and consumers
running: a case routed to department A is A's to resolve, re-estimate, note and pause; staff
and the head of department B, agents, and staff the directory does not know are refused with
403 and a JSON reason, and nothing is written. Intake learns who belongs where from routing's
`staff.upserted`, and where a case is from `case.routed`."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from shared import clock
from shared.testing.waiting import wait_until


def uid() -> str:
    return uuid.uuid4().hex[:6].upper()


@pytest.fixture
def running(run_service):
    run_service("routing")
    run_service("intake")


@pytest.fixture
def world(running, client, auth, service_db) -> dict[str, Any]:
    """Departments A and B, a member of each, B's head, a rule sending the region to A, and an
    agent's complaint transferred there: intake shows it in A."""
    intake, routing = client("intake"), client("routing")
    boss = auth("supervisor", subject="sup-who")
    run = uid()
    a, b, region = f"WA-{run}", f"WB-{run}", f"Rgn-{run}"
    for code in (a, b):
        r = routing.post("/departments", json={"code": code, "name": code}, headers=boss)
        assert r.status_code == 201, r.json
    people = {
        "sa": (f"SA-{run}", a, "department_staff"),
        "sb": (f"SB-{run}", b, "department_staff"),
        "hb": (f"HB-{run}", b, "department_head"),
    }
    for staff_id, department, role in people.values():
        body = {
            "staff_id": staff_id,
            "display_name": staff_id,
            "role": role,
            "department": department,
            "regions": [region],
        }
        assert routing.post("/staff", json=body, headers=boss).status_code == 201
    rule = {"position": 0, "department": a, "regions": [region]}
    r = routing.post("/routing-rules", json=rule, headers=boss)
    assert r.status_code == 201, r.json
    rule_id = r.json["id"]
    # intake's copy of the directory, from routing's staff.upserted
    ids = [p[0] for p in people.values()]

    def known() -> bool:
        with service_db("intake").transaction() as tx:
            found = tx.execute("SELECT count(*) FROM staff WHERE staff_id = ANY(%s)", (ids,))
            return found.fetchone()[0] == len(ids)

    wait_until(known, 15, "intake's staff projection")
    agent = auth("agent", subject=f"agent-{run}")
    case = {
        "kind": "complaint",
        "channel": "hotline",
        "category": "installation",
        "region": region,
        "customer_ref": f"ACC-{run}",
        "content": "The installer never came",
        "identity_verified": True,
    }
    opened = intake.post("/cases", json=case, headers=agent)
    assert opened.status_code == 201, opened.json
    case_id = opened.json["id"]
    r = intake.post(f"/cases/{case_id}/transfer", json={"reason": "field visit"}, headers=agent)
    assert r.status_code == 200
    wait_until(
        lambda: intake.get(f"/cases/{case_id}", headers=boss).json["state"] == "in_department",
        15,
        "the case in department A",
    )
    yield {
        "intake": intake,
        "routing": routing,
        "case_id": case_id,
        "a": a,
        "b": b,
        "boss": boss,
        "agent": agent,
        **{k: auth(role, subject=staff_id) for k, (staff_id, _, role) in people.items()},
        "ids": {k: v[0] for k, v in people.items()},
    }
    routing.delete(f"/routing-rules/{rule_id}", headers=boss)


def _timeline(w: dict[str, Any]) -> list[str]:
    r = w["intake"].get(f"/cases/{w['case_id']}/timeline", headers=w["boss"])
    return [e["type"] for e in r.json["items"]]


def test_only_the_department_that_has_the_case_acts_on_it(world: dict[str, Any], auth) -> None:
    w = world
    intake, routing, case_id = w["intake"], w["routing"], w["case_id"]
    eta = (clock.now() + timedelta(days=1)).isoformat()
    tries = [
        ("intake", f"/cases/{case_id}/resolve", {"resolution": "done", "first_contact": False}),
        ("intake", f"/cases/{case_id}/eta", {"eta": eta}),
        ("intake", f"/cases/{case_id}/interactions", {"type": "note", "text": "called them"}),
        ("routing", f"/cases/{case_id}/sla/pause", {"reason": "waiting for the customer"}),
    ]
    before = _timeline(w)
    unknown = auth("department_staff", subject=f"nobody-{uid()}")
    for who, headers, why in (
        ("staff of B", w["sb"], f"is with department {w['a']}"),
        ("the head of B", w["hb"], f"is with department {w['a']}"),
        ("an agent", w["agent"], f"is with department {w['a']}"),
        ("staff nobody knows", unknown, "not an active member of a department"),
    ):
        for service, path, body in tries:
            api = intake if service == "intake" else routing
            r = api.post(path, json=body, headers=headers)
            assert r.status_code == 403 and r.is_json, (who, path, r.status_code)
            assert why in r.json["detail"], (who, path, r.json)
    # nothing was written
    assert _timeline(w) == before
    sla = routing.get(f"/cases/{case_id}/sla", headers=w["boss"]).json
    assert sla["state"] == "running"
    assert intake.get(f"/cases/{case_id}", headers=w["boss"]).json["state"] == "in_department"

    # A's member does all of it
    sa = w["sa"]
    assert intake.post(f"/cases/{case_id}/eta", json={"eta": eta}, headers=sa).status_code == 200
    r = intake.post(f"/cases/{case_id}/interactions", json=tries[2][2], headers=sa)
    assert r.status_code == 201
    r = routing.post(f"/cases/{case_id}/sla/pause", json=tries[3][2], headers=sa)
    assert r.status_code == 200 and r.json["state"] == "paused"
    # B's head may not end A's pause either
    assert routing.post(f"/cases/{case_id}/sla/resume", headers=w["hb"]).status_code == 403
    r = routing.post(f"/cases/{case_id}/sla/resume", headers=sa)
    assert r.status_code == 200 and r.json["state"] == "running"
    r = intake.post(f"/cases/{case_id}/resolve", json=tries[0][2], headers=sa)
    assert r.status_code == 200 and r.json["resolved_by"] == w["ids"]["sa"]
    assert r.json["department"] == w["a"]


def test_a_department_reads_only_its_own_cases_and_work(world: dict[str, Any]) -> None:
    w = world
    intake, routing, case_id = w["intake"], w["routing"], w["case_id"]
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/timeline"):
        for headers in (w["sb"], w["hb"]):
            r = intake.get(path, headers=headers)
            assert r.status_code == 403 and r.is_json, path
        assert intake.get(path, headers=w["sa"]).status_code == 200
        assert intake.get(path, headers=w["agent"]).status_code == 200  # the front line reads all
    listed = intake.get("/cases", query_string={"per_page": 100}, headers=w["hb"]).json["items"]
    assert listed == []  # B has had no case
    r = intake.get("/cases", query_string={"department": w["a"]}, headers=w["hb"])
    assert r.status_code == 403
    mine = intake.get("/cases", query_string={"per_page": 100}, headers=w["sa"]).json["items"]
    assert [c["id"] for c in mine] == [case_id]

    (item,) = routing.get("/work-items", query_string={"case_id": case_id}, headers=w["sa"]).json[
        "items"
    ]
    assert routing.get(f"/work-items/{item['id']}", headers=w["sa"]).status_code == 200
    r = routing.get(f"/work-items/{item['id']}", headers=w["hb"])
    assert r.status_code == 403 and r.is_json
    assert (
        routing.get("/work-items", query_string={"case_id": case_id}, headers=w["hb"]).json["items"]
        == []
    )
    r = routing.get("/work-items", query_string={"department": w["a"]}, headers=w["hb"])
    assert r.status_code == 403
    r = routing.get("/sla/at-risk", query_string={"department": w["a"]}, headers=w["sb"])
    assert r.status_code == 403
    assert routing.get("/sla/breached", headers=w["sb"]).status_code == 200
    # B's head acts on B's items only: A's item refuses them
    r = routing.post(f"/work-items/{item['id']}/accept", json={}, headers=w["hb"])
    assert r.status_code == 403 and "is with department" in r.json["detail"]


def test_members_routing_knew_before_intake_kept_a_copy_are_announced_once(
    running, client, auth, service_db
) -> None:
    """An upgraded system: routing's directory has members intake never heard of. The
    migration lists them; the migration run after it announces them once, and intake learns
    their departments."""
    from services.routing.commands.directory import announce_pending

    routing, run = client("routing"), uid()
    boss = auth("supervisor", subject="sup-who")
    department = f"WU-{run}"
    assert (
        routing.post(
            "/departments", json={"code": department, "name": department}, headers=boss
        ).status_code
        == 201
    )
    old_hand = f"OLD-{run}"
    with service_db("routing").transaction() as tx:  # as if it predated the copy in intake
        tx.execute(
            "INSERT INTO staff (staff_id, display_name, role, department, active, skills,"
            " regions, updated_by, created_at, updated_at)"
            " VALUES (%s, %s, 'department_staff', %s, true, '{}', '{}', 'hr', %s, %s)",
            (old_hand, old_hand, department, tx.now, tx.now),
        )
        tx.execute("INSERT INTO staff_to_announce (staff_id) VALUES (%s)", (old_hand,))
    assert announce_pending(service_db("routing")) >= 1
    assert announce_pending(service_db("routing")) == 0  # once

    def known() -> dict | None:
        with service_db("intake").transaction() as tx:
            return tx.one("SELECT department, active FROM staff WHERE staff_id = %s", (old_hand,))

    assert wait_until(known, 15, "intake's copy") == {"department": department, "active": True}
