"""Network incidents in intake, on the real database: a new case links at once and the caller
is told the incident's message and ETA; every linked customer hears each update; the
resolution resolves every linked case exactly once; routing's `case.linked` may come before or
after its incident's events.

The database is shared by the whole session, so every test works in a region of its own.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.intake import handlers
from services.intake.commands import cases as intake_cases
from services.intake.commands import incidents as intake_incidents
from shared import clock
from shared.events import Event, new_event, parse_event
from shared.personal_data import holds_personal_data
from tests.integration.test_intake_lifecycle import events_of, open_case, timeline_types

MESSAGE = "A fibre cut in your area; engineers are on site"


@pytest.fixture
def intake(client):
    return client("intake")


@pytest.fixture
def agent(auth):
    return auth("agent", subject="agent-42")


@pytest.fixture
def region() -> str:
    return f"Inc-{uuid.uuid4().hex[:8]}"


def apply(service_db, type_: str, subject: str, data: dict[str, Any]) -> Event:
    """The event as routing sends it, handled by intake as its consumer would."""
    event = parse_event(new_event(type_, subject, data, source="/routing").to_json())
    with service_db("intake").transaction() as tx:
        handlers.EVENT_HANDLERS[type_](tx, event)
    return event


def declare(service_db, region: str, **changes: Any) -> dict[str, Any]:
    now = clock.now().replace(microsecond=0)
    data = {
        "incident_id": str(uuid.uuid4()),
        "regions": [region],
        "categories": ["broadband"],
        "started_at": now - timedelta(hours=1),
        "eta": now + timedelta(hours=3),
        "message": MESSAGE,
        "declared_by": "netops-1",
        "declared_at": now,
        **changes,
    }
    apply(service_db, "incident.declared", data["incident_id"], data)
    return data


def update(service_db, incident_id: str, message: str, eta: datetime) -> None:
    apply(
        service_db,
        "incident.updated",
        incident_id,
        {
            "incident_id": incident_id,
            "eta": eta,
            "message": message,
            "updated_by": "netops-1",
            "updated_at": clock.now(),
        },
    )


def resolve(service_db, incident_id: str) -> None:
    apply(
        service_db,
        "incident.resolved",
        incident_id,
        {
            "incident_id": incident_id,
            "cause": "FIBRE_CUT",
            "resolution": "The fibre was spliced",
            "resolved_by": "netops-1",
            "resolved_at": clock.now(),
        },
    )


def link(service_db, case_id: str, incident_id: str) -> None:
    apply(
        service_db,
        "case.linked",
        case_id,
        {"case_id": case_id, "incident_id": incident_id, "linked_at": clock.now()},
    )


def of_type(service_db, case_id: str, type_: str) -> list[Event]:
    return [e for e in events_of(service_db, case_id) if e.type == type_]


def timeline(intake, agent, case_id: str) -> list[dict]:
    r = intake.get(f"/cases/{case_id}/timeline", headers=agent)
    assert r.status_code == 200
    return r.json["items"]


def state(intake, agent, case_id: str) -> str:
    return intake.get(f"/cases/{case_id}", headers=agent).json["state"]


def test_a_new_case_of_an_open_incident_links_at_once_and_the_answer_tells_the_caller(
    intake, agent, service_db, region
):
    incident = declare(service_db, region)
    case = open_case(intake, agent, region=region.lower())  # regions match casefolded
    assert case["incident_id"] == incident["incident_id"]
    told = case["incident"]
    assert told["id"] == incident["incident_id"] and told["message"] == MESSAGE
    assert datetime.fromisoformat(told["eta"]) == incident["eta"]
    [opened] = of_type(service_db, case["id"], "case.opened")
    assert opened.data["incident_id"] == incident["incident_id"]
    assert (
        intake.get(f"/cases/{case['id']}", headers=agent).json["incident_id"]
        == (incident["incident_id"])
    )

    other = open_case(intake, agent, region=region, category="billing")
    elsewhere = open_case(intake, agent, region=f"{region}-x")
    assert other["incident"] is None and elsewhere["incident"] is None
    assert of_type(service_db, other["id"], "case.opened")[0].data["incident_id"] is None

    # the acknowledgement tells the incident's message and ETA
    due = clock.now() + timedelta(days=2)
    apply(
        service_db,
        "sla.started",
        case["id"],
        {
            "case_id": case["id"],
            "clock": "customer",
            "policy_version": 1,
            "due_at": due,
            "provisional": False,
            "started_at": clock.now(),
        },
    )
    ack = intake.get(f"/cases/{case['id']}/acknowledgement", headers=agent).json
    assert ack["template"].endswith(".incident") and "fibre cut" in ack["text"]
    [acknowledged] = of_type(service_db, case["id"], "case.acknowledged")
    assert acknowledged.data["template"] == ack["template"]


def test_updates_reach_every_linked_case_and_the_resolution_resolves_each_once(
    intake, agent, service_db, region
):
    before = open_case(intake, agent, region=region)  # opened before the declaration
    incident = declare(service_db, region)
    inc = incident["incident_id"]
    linked = [open_case(intake, agent, region=region)["id"] for _ in range(3)]
    done = linked.pop()
    assert (
        intake.post(
            f"/cases/{done}/resolve", json={"resolution": "restarted the modem"}, headers=agent
        ).status_code
        == 200
    )

    # the case opened before the declaration was linked by it, told, and routing told
    types = timeline_types(intake, agent, before["id"])
    assert types[-2:] == ["linked", "incident_notified"]
    [told] = of_type(service_db, before["id"], "case.notified")
    assert told.data["message"] == MESSAGE and told.data["case_no"] == before["case_no"]
    [linked_event] = of_type(service_db, before["id"], "case.linked")
    assert linked_event.data["incident_id"] == inc
    link(service_db, before["id"], inc)  # routing's link of it: nothing more
    assert len(of_type(service_db, before["id"], "case.notified")) == 1
    link(service_db, linked[0], inc)  # linked by intake when it opened: nothing to tell again
    assert not of_type(service_db, linked[0], "case.notified")
    assert not of_type(service_db, linked[0], "case.linked")  # case.opened named it

    new_eta = (clock.now() + timedelta(hours=5)).replace(microsecond=0)
    update(service_db, inc, "Repair takes longer (splice)", new_eta)
    for case_id in [before["id"], *linked]:
        entries = [e for e in timeline(intake, agent, case_id) if e["type"] == "incident_notified"]
        assert entries[-1]["detail"]["message"] == "Repair takes longer (splice)"
        assert datetime.fromisoformat(entries[-1]["detail"]["eta"]) == new_eta
        last = of_type(service_db, case_id, "case.notified")[-1]
        assert last.data["eta"] == new_eta and last.data["incident_id"] == inc
        assert not any(holds_personal_data(str(v)) for v in last.data.values())
    assert not of_type(service_db, done, "case.notified")  # resolved already: not told

    resolve(service_db, inc)
    resolve(service_db, inc)  # redelivered: nothing twice
    for case_id in [before["id"], *linked]:
        assert state(intake, agent, case_id) == "resolved"
        assert timeline_types(intake, agent, case_id).count("resolved") == 1
        [resolved] = of_type(service_db, case_id, "case.resolved")
        assert resolved.data["incident_id"] == inc and not resolved.data["first_contact"]
    [own] = of_type(service_db, done, "case.resolved")
    assert own.data["incident_id"] is None  # resolved by its agent, before the incident

    later = open_case(intake, agent, region=region)
    assert later["incident"] is None  # a resolved incident links nothing


def test_a_link_that_comes_late_catches_up_with_its_incident(intake, agent, service_db, region):
    incident = declare(service_db, region, regions=[f"{region}-a"])
    inc = incident["incident_id"]
    first = open_case(intake, agent, region=region)
    second = open_case(intake, agent, region=region)
    resolve(service_db, inc)
    link(service_db, first["id"], inc)  # linked before the resolution, delivered after it
    assert state(intake, agent, first["id"]) == "resolved"
    assert of_type(service_db, first["id"], "case.resolved")[0].data["incident_id"] == inc
    assert state(intake, agent, second["id"]) == "open"

    # a link delivered before its incident's declaration: the declaration tells the case
    early = str(uuid.uuid4())
    link(service_db, second["id"], early)
    assert not of_type(service_db, second["id"], "case.notified")
    declare(service_db, f"{region}-b", incident_id=early)
    [told] = of_type(service_db, second["id"], "case.notified")
    assert told.data["incident_id"] == early


def test_linking_telling_and_resolving_go_through_every_batch(service_db, region, monkeypatch):
    monkeypatch.setattr(intake_incidents, "BATCH", 4)  # small batches: few events for the system
    count = 4 * 2 + 3
    with service_db("intake").transaction() as tx:
        ids = [str(intake_case(tx, region)["id"]) for _ in range(count)]
    incident = declare(service_db, region)  # links them all, in batches
    with service_db("intake").transaction() as tx:
        linked = tx.execute(
            "SELECT count(*) FROM outbox WHERE type = 'case.linked' AND subject = ANY(%s)",
            (ids,),
        ).fetchone()[0]
    assert linked == count
    update(service_db, incident["incident_id"], "Still on it", clock.now() + timedelta(hours=4))
    resolve(service_db, incident["incident_id"])
    with service_db("intake").transaction() as tx:
        states = tx.execute(
            "SELECT state, count(*) FROM cases WHERE id = ANY(%s::uuid[]) GROUP BY state", (ids,)
        ).fetchall()
        told = tx.execute(
            "SELECT count(*), count(DISTINCT subject) FROM outbox WHERE type = 'case.notified'"
            " AND subject = ANY(%s)",
            (ids,),
        ).fetchone()
        resolved = tx.execute(
            "SELECT count(*), count(DISTINCT subject) FROM outbox WHERE type = 'case.resolved'"
            " AND subject = ANY(%s)",
            (ids,),
        ).fetchone()
    assert states == [("resolved", count)]
    assert told == (2 * count, count)  # at the declaration, and at the update
    assert resolved == (count, count)


def intake_case(tx, region: str) -> dict[str, Any]:
    """A case opened as a reporting system's request opens one: many at once, no HTTP."""
    request = {
        "kind": "complaint",
        "channel": "online",
        "category": "broadband",
        "region": region,
        "customer_ref": "ACC-BATCH",
        "content": "No internet",
        "identity_verified": False,
    }
    return intake_cases.open_case(tx, request, agent_id=None)
