"""The life of a case in intake: every move emits its event once; illegal moves get 409."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.intake.domain.acknowledgements import format_due
from shared import clock
from shared.events import new_event, parse_event
from shared.testing.problems import invalid_fields
from shared.testing.waiting import publish_and_wait

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE = {
    "kind": "complaint",
    "channel": "hotline",
    "category": "broadband",
    "region": "Haidian",
    "customer_ref": "ACC-LIFE",
    "content": "No signal since the storm",
    "identity_verified": True,
    "identity_method": "account_id_digits",
}


@pytest.fixture
def intake(client):
    return client("intake")


@pytest.fixture
def agent(auth):
    return auth("agent", subject="agent-42")


def open_case(intake, agent, **changes) -> dict:
    r = intake.post("/cases", json=dict(CASE, **changes), headers=agent)
    assert r.status_code == 201, r.json
    return r.json


def events_of(service_db, case_id: str) -> list:
    with service_db("intake").transaction() as tx:
        rows = tx.execute(
            "SELECT body FROM outbox WHERE subject = %s ORDER BY seq", (case_id,)
        ).fetchall()
    return [parse_event(r[0].encode()) for r in rows]


def types_of(service_db, case_id: str) -> list[str]:
    return [e.type for e in events_of(service_db, case_id)]


def timeline_types(intake, agent, case_id: str) -> list[str]:
    r = intake.get(f"/cases/{case_id}/timeline", headers=agent)
    assert r.status_code == 200
    entries = r.json["items"]
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    assert times == sorted(times)
    assert all(e["by"] for e in entries)
    return [e["type"] for e in entries]


def test_first_contact_resolution_then_close(intake, agent, auth, service_db):
    case = open_case(intake, agent)
    r = intake.post(
        f"/cases/{case['id']}/resolve",
        json={"resolution": "Reset the set-top box", "first_contact": True},
        headers=agent,
    )
    assert r.status_code == 200 and r.json["state"] == "resolved" and r.json["first_contact"]
    again = intake.post(f"/cases/{case['id']}/resolve", json={"resolution": "x"}, headers=agent)
    assert again.status_code == 409 and "resolved" in again.json["detail"]
    # an agent closes nothing: a case is closed as confirmed by its follow-up call only
    close = f"/cases/{case['id']}/close"
    for outcome in ("confirmed", "withdrawn"):
        refused = intake.post(close, json={"outcome": outcome}, headers=agent)
        assert refused.status_code == 403 and "supervisor" in refused.json["detail"]
    # nor does a supervisor as confirmed; by hand, a supervisor closes it without confirmation
    supervisor = auth("supervisor", subject="sup-1")
    refused = intake.post(close, json={"outcome": "confirmed"}, headers=supervisor)
    assert refused.status_code == 403 and "follow-up call" in refused.json["detail"]
    assert intake.post(close, json={}, headers=supervisor).status_code == 422
    assert intake.post(close, json={"outcome": "fixed"}, headers=supervisor).status_code == 422
    assert types_of(service_db, case["id"]) == ["case.opened", "case.resolved"]
    closed = intake.post(close, json={"outcome": "withdrawn"}, headers=supervisor)
    assert closed.status_code == 200 and closed.json["state"] == "closed"
    assert types_of(service_db, case["id"]) == ["case.opened", "case.resolved", "case.closed"]
    assert events_of(service_db, case["id"])[2].data["outcome"] == "withdrawn"
    resolved = events_of(service_db, case["id"])[1]
    assert resolved.data["first_contact"] is True and resolved.data["resolved_by"] == "agent-42"
    assert timeline_types(intake, agent, case["id"]) == ["opened", "resolved", "closed"]
    # the identity check is told in the opening entry, not in an entry of its own
    opened = intake.get(f"/cases/{case['id']}/timeline", headers=agent).json["items"][0]
    assert opened["detail"] == {
        "kind": "complaint",
        "channel": "hotline",
        "identity_verified": True,
        "identity_method": "account_id_digits",
    }


def test_transfer_means_no_first_contact_and_reopen_starts_again(intake, agent, auth, service_db):
    case = open_case(intake, agent)
    r = intake.post(
        f"/cases/{case['id']}/transfer",
        json={"reason": "Needs a field visit", "requested_department": "FIELD"},
        headers=agent,
    )
    assert r.status_code == 200 and r.json["state"] == "transferred"
    assert (
        intake.post(
            f"/cases/{case['id']}/transfer", json={"reason": "again"}, headers=agent
        ).status_code
        == 409
    )
    # on its way to a department: not the agent's to resolve any more; a supervisor may
    resolve = {"resolution": "Replaced the cable", "first_contact": True}
    r = intake.post(f"/cases/{case['id']}/resolve", json=resolve, headers=agent)
    assert r.status_code == 403 and "being transferred" in r.json["detail"]
    r = intake.post(
        f"/cases/{case['id']}/resolve", json=resolve, headers=auth("supervisor", subject="sup-1")
    )
    assert r.json["first_contact"] is False
    r = intake.post(
        f"/cases/{case['id']}/reopen", json={"reason": "Still no signal"}, headers=agent
    )
    assert r.status_code == 200 and r.json["state"] == "reopened" and r.json["reopen_count"] == 1
    assert types_of(service_db, case["id"]) == [
        "case.opened",
        "case.transferred",
        "case.resolved",
        "case.reopened",
    ]
    transferred = events_of(service_db, case["id"])[1]
    assert transferred.data["requested_department"] == "FIELD"


@pytest.mark.parametrize(
    "move, body, role",
    [
        ("close", {"outcome": "duplicate"}, "supervisor"),
        ("reopen", {"reason": "x"}, "agent"),
    ],
)
def test_illegal_moves_from_open_get_409_and_write_nothing(
    intake, auth, agent, service_db, move, body, role
):
    case = open_case(intake, agent)
    r = intake.post(f"/cases/{case['id']}/{move}", json=body, headers=auth(role))
    assert r.status_code == 409 and r.is_json
    assert types_of(service_db, case["id"]) == ["case.opened"]


def test_moves_on_an_unknown_case_are_404(intake, agent):
    r = intake.post(f"/cases/{uuid.uuid4()}/resolve", json={"resolution": "x"}, headers=agent)
    assert r.status_code == 404


def test_eta_and_interactions_appear_on_the_timeline(intake, agent):
    case = open_case(intake, agent)
    eta = (clock.now() + timedelta(days=3)).replace(microsecond=0)
    r = intake.post(
        f"/cases/{case['id']}/eta", json={"eta": eta.isoformat(), "note": "parts"}, headers=agent
    )
    assert r.status_code == 200 and datetime.fromisoformat(r.json["eta"]) == eta
    intake.post(
        f"/cases/{case['id']}/eta",
        json={"eta": (eta + timedelta(days=1)).isoformat()},
        headers=agent,
    )
    r = intake.post(
        f"/cases/{case['id']}/interactions",
        json={"type": "call_out", "text": "Told the customer"},
        headers=agent,
    )
    assert r.status_code == 201
    assert timeline_types(intake, agent, case["id"]) == [
        "opened",
        "eta_given",
        "eta_updated",
        "call_out",
    ]
    bad = intake.post(
        f"/cases/{case['id']}/interactions", json={"type": "telepathy"}, headers=agent
    )
    assert bad.status_code == 422 and "type" in invalid_fields(bad.json)


def test_listing_filters_and_pages(intake, agent):
    region = f"R-{uuid.uuid4().hex[:6]}"
    for kind in ("complaint", "complaint", "consultation"):
        open_case(intake, agent, region=region, kind=kind)
    r = intake.get(f"/cases?region={region}&kind=complaint&per_page=1&page=2", headers=agent)
    assert r.status_code == 200
    assert r.json["total"] == 2 and len(r.json["items"]) == 1 and r.json["page"] == 2
    assert intake.get(f"/cases?region={region}&state=closed", headers=agent).json["total"] == 0
    assert intake.get("/cases?state=sleeping", headers=agent).status_code == 422


def test_routing_events_move_the_case_and_the_deadline_shows(
    cs_settings, service_db, run_service, intake, agent
):
    run_service("intake", relay=False)
    db = service_db("intake")
    case = open_case(intake, agent)
    case_id = case["id"]
    intake.post(f"/cases/{case_id}/transfer", json={"reason": "needs NOC"}, headers=agent)
    now = clock.now()
    due = (now + timedelta(days=5)).replace(hour=9, minute=30, second=0, microsecond=0)

    def ev(type_, **data):
        return new_event(type_, case_id, dict(case_id=case_id, **data), source="/routing")

    publish_and_wait(
        cs_settings,
        db,
        ev("sla.started", clock="customer", policy_version=1, due_at=due, provisional=False),
    )
    publish_and_wait(
        cs_settings,
        db,
        ev("case.routed", department="NOC", assignee_id="s-1", due_at=due, routed_at=now),
    )
    publish_and_wait(cs_settings, db, ev("case.progressed", eta=due, by="s-1", at=now))
    publish_and_wait(
        cs_settings,
        db,
        ev(
            "case.handled",
            department="NOC",
            handled_by="s-1",
            resolution_code="line_repaired",
            handled_at=now,
        ),
    )
    got = intake.get(f"/cases/{case_id}", headers=agent).json
    assert got["state"] == "resolved" and got["department"] == "NOC"
    assert datetime.fromisoformat(got["due_at"]) == due and got["resolved_by"] == "s-1"
    ack = intake.get(f"/cases/{case_id}/acknowledgement", headers=agent).json
    assert ack["template"] == "ack.complaint.hotline"
    assert case["case_no"] in ack["text"] and format_due(due) in ack["text"]
    assert format_due(due).endswith("17:30")  # 09:30 UTC
    assert types_of(service_db, case_id) == [
        "case.opened",
        "case.transferred",
        "case.acknowledged",
        "case.resolved",
    ]
    # a follow-up that finds it unsolved reopens it; a confirmed one closes it
    publish_and_wait(
        cs_settings,
        db,
        new_event(
            "followup.completed",
            case_id,
            {
                "followup_id": "f-1",
                "case_id": case_id,
                "outcome": "unresolved",
                "satisfaction": 2,
                "agent_id": "agent-9",
                "department": "NOC",
                "completed_at": now,
            },
            source="/followup",
        ),
    )
    assert intake.get(f"/cases/{case_id}", headers=agent).json["state"] == "reopened"
    # a late duplicate of case.handled for a case already past it is skipped, not dead-lettered
    late = ev(
        "case.handled", department="NOC", handled_by="s-1", resolution_code="x", handled_at=now
    )
    intake.post(f"/cases/{case_id}/resolve", json={"resolution": "fixed"}, headers=agent)
    publish_and_wait(cs_settings, db, late)
    assert types_of(service_db, case_id).count("case.resolved") == 2


def test_a_case_recorded_late_keeps_its_place_in_time_and_is_not_acknowledged_now(
    cs_settings, service_db, run_service, intake, auth
):
    """The call-centre system reports a complaint recorded ten days ago: routing's deadline
    shows on the timeline when the case was recorded, and, its time limit long past, the
    customer is not told about it now (no acknowledgement, no case.acknowledged)."""
    run_service("intake", relay=False)
    cti = auth("system", subject="cti")
    received = (clock.now() - timedelta(days=10)).replace(microsecond=0)
    recorded = received + timedelta(minutes=3)
    body = dict(
        CASE, received_at=received.isoformat(), occurred_at=recorded.isoformat(), actor_id="a-7"
    )
    r = intake.post("/cases", json=body, headers=cti)
    assert r.status_code == 201, r.json
    case_id = r.json["id"]
    due = received + timedelta(days=3)
    started = new_event(
        "sla.started",
        case_id,
        {
            "case_id": case_id,
            "clock": "customer",
            "policy_version": 1,
            "due_at": due,
            "provisional": False,
            "started_at": received,
        },
        source="/routing",
    )
    publish_and_wait(cs_settings, service_db("intake"), started)
    entries = intake.get(f"/cases/{case_id}/timeline", headers=cti).json["items"]
    at = {e["type"]: datetime.fromisoformat(e["at"]) for e in entries}
    assert at["opened"] == recorded and at["deadline_set"] == recorded
    assert "acknowledged" not in at
    assert intake.get(f"/cases/{case_id}/acknowledgement", headers=cti).status_code == 404
    assert "case.acknowledged" not in types_of(service_db, case_id)
    got = intake.get(f"/cases/{case_id}", headers=cti).json
    assert datetime.fromisoformat(got["due_at"]) == due and got["agent_id"] == "a-7"


def test_a_case_requested_event_opens_a_case(cs_settings, service_db, run_service, intake, agent):
    run_service("intake", relay=False)
    event = new_event(
        "case.requested",
        "portal-123",
        {
            "channel": "online",
            "kind": "consultation",
            "category": "package_change",
            "region": "Chaoyang",
            "customer_ref": "ACC-PORTAL",
            "content": "Which package has HBO?",
        },
        source="/portal",
    )
    publish_and_wait(cs_settings, service_db("intake"), event)
    r = intake.get("/cases?region=Chaoyang&channel=online", headers=agent)
    assert r.json["total"] >= 1
    assert any(c["content"] == "Which package has HBO?" for c in r.json["items"])


def test_a_request_delivered_late_is_recorded_when_the_portal_recorded_it(
    cs_settings, service_db, run_service, intake, agent
):
    """The envelope's time is when the portal recorded the request: a request delivered late
    keeps it (case number of that day); one dated in the future is recorded now."""
    run_service("intake", relay=False)
    submitted = (clock.now() - timedelta(days=20)).replace(microsecond=0)
    region = f"Late-{uuid.uuid4().hex[:8]}"

    def request(content: str, at: datetime) -> object:
        event = new_event(
            "case.requested",
            f"portal-{uuid.uuid4().hex[:8]}",
            {
                "channel": "online",
                "kind": "complaint",
                "category": "broadband",
                "region": region,
                "customer_ref": "ACC-LATE",
                "content": content,
                "received_at": submitted,
            },
            source="/portal",
        )
        return replace(event, time=at)

    late = request("Broadband drops every evening", submitted + timedelta(seconds=40))
    skewed = request("The set-top box reboots", clock.now() + timedelta(days=2))
    for event in (late, skewed):
        publish_and_wait(cs_settings, service_db("intake"), event)
    found = intake.get("/cases", query_string={"region": region}, headers=agent).json
    mine = {c["content"]: c for c in found["items"]}
    first = mine["Broadband drops every evening"]
    assert datetime.fromisoformat(first["opened_at"]) == submitted + timedelta(seconds=40)
    assert first["case_no"][2:10] == submitted.astimezone(SHANGHAI).strftime("%Y%m%d")
    second = datetime.fromisoformat(mine["The set-top box reboots"]["opened_at"])
    assert abs(second - clock.now()) < timedelta(minutes=1)
