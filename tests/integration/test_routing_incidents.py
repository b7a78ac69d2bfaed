"""Network incidents on the real database and broker: declared or suspected from a burst,
confirmed, linked, updated, resolved; one work item for the incident, none per linked case.

The database is shared by the whole session, so every test works in a region of its own.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pika.exceptions
import pytest

from services.routing import handlers
from shared import clock as business_clock
from shared.broker import connect, publish_properties
from shared.dead_letters import list_dead_letters
from shared.events import new_event
from shared.events.catalogue import INBOUND_EXCHANGE
from shared.testing.factories import case_opened
from shared.testing.problems import invalid_fields
from shared.testing.waiting import handled, publish, wait_handled, wait_until
from tests.integration.test_intake_lifecycle import CASE
from tests.integration.test_routing_work import (
    count,
    events_of,
    make_department,
    make_rule,
    make_staff,
    parsed,
    transfer,
    uid,
)


@pytest.fixture
def routing(client):
    return client("routing")


@pytest.fixture
def ops(auth):
    return auth("supervisor", subject="netops-1")


@pytest.fixture
def region() -> str:
    return f"Daxing-{uid()}"


def open_case(service_db, region: str, category: str = "broadband", **facts: Any) -> str:
    facts.setdefault("opened_at", business_clock.now().replace(microsecond=0))
    event = parsed(case_opened(region=region, category=category, **facts))
    with service_db("routing").transaction() as tx:
        handlers.on_case_opened(tx, event)
    return event.subject


def resolve_case(service_db, case_id: str) -> None:
    event = parsed(
        new_event(
            "case.resolved",
            case_id,
            {
                "case_id": case_id,
                "kind": "complaint",
                "category": "broadband",
                "department": None,
                "resolved_by": "agent-1",
                "first_contact": True,
                "opened_at": business_clock.now(),
                "resolved_at": business_clock.now(),
            },
            source="/intake",
        )
    )
    with service_db("routing").transaction() as tx:
        handlers.on_case_resolved(tx, event)


def intake_links(service_db, incident_id: str, case_ids: list[str]) -> None:
    """Intake's `case.linked` for cases it linked (it holds the cases), as routing applies it."""
    with service_db("routing").transaction() as tx:
        for case_id in case_ids:
            data = {"case_id": case_id, "incident_id": incident_id, "linked_at": tx.now}
            event = parsed(new_event("case.linked", case_id, data, source="/intake"))
            handlers.on_case_linked(tx, event)


def declare(routing, ops, region: str, **fields: Any):
    now = business_clock.now()
    body = {
        "regions": [region],
        "categories": ["broadband"],
        "started_at": (now - timedelta(hours=1)).isoformat(),
        "eta": (now + timedelta(hours=3)).isoformat(),
        "message": "A fibre cut in your area; engineers are on site",
        **fields,
    }
    return routing.post("/incidents", json=body, headers=ops)


def suspected_in(routing, ops, region: str) -> list[dict]:
    r = routing.get("/incidents", query_string={"state": "suspected", "per_page": 500}, headers=ops)
    assert r.status_code == 200, r.json
    return [i for i in r.json["items"] if region in i["regions"]]


def items_of_case(routing, ops, case_id: str) -> list[dict]:
    r = routing.get("/work-items", query_string={"case_id": case_id}, headers=ops)
    return r.json["items"]


def incident_items(service_db, incident_id: str) -> list[dict]:
    with service_db("routing").transaction() as tx:
        return tx.all("SELECT * FROM work_items WHERE incident_id = %s", (incident_id,))


def test_a_declared_incident_links_its_open_cases_and_later_ones_at_once(
    routing, ops, auth, service_db, region
):
    department = make_department(routing, ops, "NET")
    make_staff(routing, ops, department, skills=["broadband"])
    make_rule(routing, ops, department=department, regions=[region])
    covered = [open_case(service_db, region) for _ in range(3)]
    transfer(service_db, covered[0])  # routed before the declaration: its item closes
    assert items_of_case(routing, ops, covered[0])

    r = declare(routing, ops, region)
    assert r.status_code == 201, r.json
    incident = r.json
    assert r.headers["Location"].endswith(f"/incidents/{incident['id']}")
    # intake holds the cases: it links the open ones the incident covers and tells routing
    assert incident["state"] == "open" and incident["linked_cases"] == 0
    assert [h["kind"] for h in incident["history"]] == ["declared"]
    assert [e.type for e in events_of(service_db, incident["id"])] == ["incident.declared"]
    intake_links(service_db, incident["id"], covered)
    intake_links(service_db, incident["id"], covered[:1])  # redelivered: linked once
    intake_links(service_db, "no-such-incident", covered[1:2])  # no one's: skipped
    got = routing.get(f"/incidents/{incident['id']}", headers=ops).json
    assert got["linked_cases"] == 3
    assert not events_of(service_db, covered[1], "case.linked")  # intake's: not told back
    assert not items_of_case(routing, ops, covered[0])  # the incident's item is its work
    [item] = incident_items(service_db, incident["id"])
    assert item["department"] == department and item["case_id"] is None

    late = open_case(service_db, region)
    assert [e.data["incident_id"] for e in events_of(service_db, late, "case.linked")] == [
        incident["id"]
    ]
    transfer(service_db, late)
    assert not items_of_case(routing, ops, late)  # no work item of its own
    assert len(incident_items(service_db, incident["id"])) == 1
    with service_db("routing").transaction() as tx:
        clocks = tx.all("SELECT clock FROM sla_clocks WHERE case_id = %s", (late,))
    assert [c["clock"] for c in clocks] == ["customer"]  # the customer's clock still runs

    reader = auth("agent", subject="agent-5")
    got = routing.get(f"/incidents/{incident['id']}", headers=reader)
    assert got.status_code == 200 and got.json["linked_cases"] == 4
    listed = routing.get("/incidents", query_string={"state": "open"}, headers=reader).json
    assert listed["total"] >= 1
    assert any(i["id"] == incident["id"] and i["linked_cases"] == 4 for i in listed["items"])


def test_case_opened_naming_an_open_incident_is_linked_to_it(routing, ops, service_db, region):
    incident = declare(routing, ops, region).json
    elsewhere = open_case(service_db, f"Other-{uid()}", incident_id=incident["id"])
    assert not events_of(service_db, elsewhere, "case.linked")  # intake linked it: it knows
    got = routing.get(f"/incidents/{incident['id']}", headers=ops).json
    assert got["linked_cases"] == 1


def test_a_burst_of_30_raises_one_suspicion_with_evidence_and_confirming_links_it(
    routing, ops, service_db, region
):
    ids: list[str] = []
    lock = threading.Lock()

    def burst() -> None:
        for _ in range(6):
            case_id = open_case(service_db, region)
            with lock:
                ids.append(case_id)

    threads = [threading.Thread(target=burst) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [suspicion] = suspected_in(routing, ops, region)
    evidence = suspicion["evidence"]
    assert evidence["count"] >= 20 and evidence["threshold"] == 20
    assert evidence["baseline_median"] == 0
    assert set(evidence["case_ids"]) <= set(ids) and len(evidence["case_ids"]) == evidence["count"]
    assert suspicion["linked_cases"] == 0
    assert [e.type for e in events_of(service_db, suspicion["id"])] == ["incident.suspected"]

    more = open_case(service_db, region)  # the same burst's tail: no second suspicion
    assert len(suspected_in(routing, ops, region)) == 1

    eta = (business_clock.now() + timedelta(hours=3)).replace(microsecond=0)
    r = routing.post(
        f"/incidents/{suspicion['id']}/confirm",
        json={"eta": eta.isoformat(), "message": "A fibre cut; engineers are on site"},
        headers=ops,
    )
    assert r.status_code == 200, r.json
    assert r.json["state"] == "open" and r.json["linked_cases"] == 0
    assert [h["kind"] for h in r.json["history"]] == ["suspected", "confirmed"]
    [declared] = events_of(service_db, suspicion["id"], "incident.declared")
    assert declared.data["regions"] == [region] and declared.data["categories"] == ["broadband"]
    assert declared.data["started_at"] == datetime.fromisoformat(evidence["window_start"])
    intake_links(service_db, suspicion["id"], [*ids, more])
    assert routing.get(f"/incidents/{suspicion['id']}", headers=ops).json["linked_cases"] == 31

    late = open_case(service_db, region)
    assert events_of(service_db, late, "case.linked")
    transfer(service_db, late)
    assert not items_of_case(routing, ops, late)
    assert routing.get(f"/incidents/{suspicion['id']}", headers=ops).json["linked_cases"] == 32


def test_updates_and_resolution_are_kept_and_announced(routing, ops, service_db, region):
    incident = declare(routing, ops, region).json
    new_eta = business_clock.now() + timedelta(hours=6)
    r = routing.post(
        f"/incidents/{incident['id']}/updates",
        json={"eta": new_eta.isoformat(), "message": "Repair takes longer"},
        headers=ops,
    )
    assert r.status_code == 200, r.json
    assert r.json["message"] == "Repair takes longer"
    r = routing.post(
        f"/incidents/{incident['id']}/resolve",
        json={"cause": "FIBRE_CUT", "resolution": "The fibre was spliced"},
        headers=ops,
    )
    assert r.status_code == 200, r.json
    assert r.json["state"] == "resolved" and r.json["cause"] == "FIBRE_CUT"
    assert [h["kind"] for h in r.json["history"]] == ["declared", "updated", "resolved"]
    assert [e.type for e in events_of(service_db, incident["id"])] == [
        "incident.declared",
        "incident.updated",
        "incident.resolved",
    ]
    assert not events_of(service_db, open_case(service_db, region), "case.linked")
    with service_db("routing").transaction() as tx, pytest.raises(Exception, match="append"):
        tx.execute("DELETE FROM incident_changes WHERE incident_id = %s", (incident["id"],))


def test_illegal_moves_are_409_and_change_nothing(routing, ops, region):
    incident = declare(routing, ops, region).json
    url = f"/incidents/{incident['id']}"
    assert routing.post(f"{url}/confirm", json={"message": "x"}, headers=ops).status_code == 409
    assert routing.post(f"{url}/dismiss", json={}, headers=ops).status_code == 409
    resolve = {"cause": "FIBRE_CUT", "resolution": "spliced"}
    assert routing.post(f"{url}/resolve", json=resolve, headers=ops).status_code == 200
    again = routing.post(f"{url}/resolve", json=resolve, headers=ops)
    assert again.status_code == 409 and again.json["status"] == 409
    assert routing.post(f"{url}/updates", json={"message": "y"}, headers=ops).status_code == 409
    history = routing.get(url, headers=ops).json["history"]
    assert [h["kind"] for h in history] == ["declared", "resolved"]
    assert routing.post("/incidents/nope/resolve", json=resolve, headers=ops).status_code == 404


def test_bad_input_is_a_problem_and_writes_nothing(routing, ops, service_db, region):
    before = count(service_db, "incidents")
    r = routing.post("/incidents", json={"categories": ["broadband"]}, headers=ops)
    assert r.status_code == 422, r.json
    assert {"regions", "started_at", "message"} <= invalid_fields(r.json)
    past = (business_clock.now() - timedelta(days=2)).isoformat()
    r = declare(routing, ops, region, eta=past, started_at=past)
    assert r.status_code == 422 and "eta" in invalid_fields(r.json)
    r = declare(routing, ops, region, message="x" * 269)
    assert r.status_code == 422 and "message" in invalid_fields(r.json)
    r = declare(routing, ops, region, regions=[])
    assert r.status_code == 422 and "regions" in invalid_fields(r.json)
    assert count(service_db, "incidents") == before
    incident = declare(routing, ops, region).json
    r = routing.post(f"/incidents/{incident['id']}/updates", json={}, headers=ops)
    assert r.status_code == 422, r.json
    r = routing.post(
        f"/incidents/{incident['id']}/resolve", json={"cause": "no spaces!"}, headers=ops
    )
    assert r.status_code == 422 and {"cause", "resolution"} <= invalid_fields(r.json)
    r = routing.get("/incidents", query_string={"state": "lost"}, headers=ops)
    assert r.status_code == 422


def test_only_network_operations_move_incidents(routing, ops, auth, region):
    incident = declare(routing, ops, region).json
    for role in ("agent", "department_staff", "department_head"):
        who = auth(role, subject=f"{role}-1")
        assert declare(routing, who, region).status_code == 403
        r = routing.post(f"/incidents/{incident['id']}/updates", json={"message": "z"}, headers=who)
        assert r.status_code == 403
        assert routing.get(f"/incidents/{incident['id']}", headers=who).status_code == 200
    assert declare(routing, auth("admin", subject="admin-1"), region).status_code == 201


def test_an_eta_past_a_linked_deadline_is_flagged(routing, ops, service_db, region):
    case_id = open_case(service_db, region)  # a complaint: due within 2 working days
    r = declare(routing, ops, region, eta=(business_clock.now() + timedelta(days=20)).isoformat())
    assert r.json["eta_past_deadline"] is False  # nothing linked yet
    intake_links(service_db, r.json["id"], [case_id])
    got = routing.get(f"/incidents/{r.json['id']}", headers=ops).json
    assert got["linked_cases"] == 1
    assert got["eta_past_deadline"] is True and got["first_deadline_before_eta"]
    soon = declare(routing, ops, f"Quiet-{uid()}").json
    assert soon["eta_past_deadline"] is False


def test_an_incident_without_eta_has_one_work_item_never_overdue(routing, ops, region):
    department = make_department(routing, ops, "NET")
    make_rule(routing, ops, department=department, regions=[region])
    r = declare(routing, ops, region, eta=None)
    assert r.status_code == 201, r.json
    listed = routing.get("/work-items", query_string={"department": department}, headers=ops)
    [item] = listed.json["items"]
    assert item["incident_id"] == r.json["id"] and item["case_id"] is None
    assert item["due_at"] is None and item["overdue"] is False
    done = routing.post(
        f"/work-items/{item['id']}/handled", json={"resolution_code": "x"}, headers=ops
    )
    assert done.status_code == 409, done.json


# declared by network operations' own system (broker user netops, on cs.inbound)


def netops_declared(region: str, incident_id: str, *, source: str = "/netops") -> Any:
    now = business_clock.now().replace(microsecond=0)
    return new_event(
        "incident.declared",
        incident_id,
        {
            "incident_id": incident_id,
            "regions": [region],
            "categories": ["broadband"],
            "started_at": now - timedelta(hours=1),
            "eta": now + timedelta(hours=4),
            "message": "A head-end failed in your area; engineers are on site",
            "declared_by": "noc-7",
            "declared_at": now,
        },
        source=source,
    )


def test_an_incident_netops_declares_on_the_broker_opens_in_routing_with_its_cases(
    routing, ops, auth, client, service_db, cs_settings, run_service, region
):
    """Through the real broker, both services running: netops declares; routing opens the
    incident and announces it; intake links its open cases and tells routing."""
    department = make_department(routing, ops, "NET")
    make_rule(routing, ops, department=department, regions=[region])
    run_service("routing")
    run_service("intake")
    intake, agent = client("intake"), auth("agent", subject="agent-noc")
    covered = []
    for _ in range(3):
        r = intake.post("/cases", json=dict(CASE, region=region), headers=agent)
        assert r.status_code == 201, r.json
        covered.append(r.json["id"])
    for case_id in covered:  # routing has them (its clocks), before the declaration
        wait_until(lambda c=case_id: events_of(service_db, c, "sla.started"), 10, "case.opened")
    incident_id = f"NOC-{uid()}"
    declared = netops_declared(region, incident_id)
    publish(cs_settings, declared)  # as the broker user netops, on cs.inbound
    wait_handled(service_db("routing"), declared.id)

    def linked() -> dict | None:
        got = routing.get(f"/incidents/{incident_id}", headers=ops).json
        return got if got["linked_cases"] == 3 else None

    incident = wait_until(linked, 15, "intake's links of the incident's cases")
    assert incident["state"] == "open"
    assert incident["declared_by"] == "noc-7" and incident["regions"] == [region]
    assert incident["message"] == declared.data["message"]
    assert [h["kind"] for h in incident["history"]] == ["declared"]
    for case_id in covered:
        assert intake.get(f"/cases/{case_id}", headers=agent).json["incident_id"] == incident_id
        assert not items_of_case(routing, ops, case_id)  # linked, not assigned one by one
    assert len(incident_items(service_db, incident_id)) == 1
    # announced on cs.events as routing's own, for the other services
    [announced] = events_of(service_db, incident_id)
    assert announced.type == "incident.declared" and announced.source == "/routing"
    assert announced.data["declared_by"] == "noc-7"

    # declared again (the very same event, and a retry with a new event id): nothing changes
    again = netops_declared(region, incident_id)
    publish(cs_settings, declared, again)  # in one partition, in this order
    wait_handled(service_db("routing"), again.id)
    got = routing.get(f"/incidents/{incident_id}", headers=ops).json
    assert [h["kind"] for h in got["history"]] == ["declared"] and got["linked_cases"] == 3
    assert len(events_of(service_db, incident_id)) == 1


def test_routing_does_not_apply_its_own_declared_incident_again(routing, ops, service_db, region):
    """Routing's announcement never reaches routing's queues (it binds the type on cs.inbound
    only, and its consumer refuses its own user); should it reach the handler, it is skipped."""
    incident_id = f"OWN-{uid()}"
    before = count(service_db, "incidents")
    with service_db("routing").transaction() as tx:
        handlers.on_incident_declared(
            tx, parsed(netops_declared(region, incident_id, source="/routing"))
        )
    assert count(service_db, "incidents") == before
    assert routing.get(f"/incidents/{incident_id}", headers=ops).status_code == 404

    # an incident declared over the API: its own announcement handled changes nothing
    incident = declare(routing, ops, region).json
    [own] = events_of(service_db, incident["id"])
    with service_db("routing").transaction() as tx:
        handlers.on_incident_declared(tx, parsed(own))
    assert len(events_of(service_db, incident["id"])) == 1
    history = routing.get(f"/incidents/{incident['id']}", headers=ops).json["history"]
    assert [h["kind"] for h in history] == ["declared"]


def test_a_forged_declared_incident_is_refused(
    routing, ops, service_db, cs_settings, run_service, region
):
    open_case(service_db, region)
    incident_id = f"FORGED-{uid()}"
    forged = netops_declared(region, incident_id)
    run_service("routing", relay=False)
    publish(cs_settings, forged, as_user="")  # AMQP_URL's own user, on cs.inbound
    letter = wait_until(
        lambda: next(
            (d for d in list_dead_letters(cs_settings, "routing") if d.message_id == forged.id),
            None,
        ),
        10,
        "the forged incident.declared in routing's dead letters",
    )
    assert letter.error.startswith("unauthorized producer")
    assert "incident.declared" in letter.error and letter.headers["x-producer"] == "guest"
    assert routing.get(f"/incidents/{incident_id}", headers=ops).status_code == 404
    assert not handled(service_db("routing"), forged.id)


def test_another_outside_system_may_not_publish_a_declared_incident(cs_settings, region):
    """The broker's topic permissions: the portal cannot put an incident.declared on cs.inbound."""
    event = netops_declared(region, f"PORTAL-{uid()}")
    conn = connect(cs_settings, name="portal-forger", user="portal")
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
            channel.basic_publish(
                cs_settings.exchange(INBOUND_EXCHANGE),
                "incident.declared",
                event.to_json(),
                publish_properties(event.id, event.type, event.subject, "portal"),
            )
        assert refused.value.reply_code == 403
    finally:
        conn.close()
