"""Network incidents in followup, from routing's and intake's events: a resolved incident's
cases get follow-up calls for a sample only (at least the floor, not all; the others recorded
as deliberately not called), decided one resolution at a time under the incident's lock, so
consumers side by side and redeliveries schedule nothing more; the quarterly report and the
dashboard count incident cases apart from the rest and list the incident."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.followup import handlers
from shared import clock
from shared.db import Database
from shared.events import Event, new_event, parse_event
from shared.periods import Period
from shared.testing.factories import case_opened
from shared.testing.waiting import publish, wait_handled

CASES = 40


def declared(incident_id: str, started_at: datetime, **changes: Any) -> Event:
    data = {
        "incident_id": incident_id,
        "regions": ["Daxing", "Tongzhou"],
        "categories": ["broadband"],
        "started_at": started_at,
        "eta": started_at + timedelta(hours=4),
        "message": "A fibre cut in your area; engineers are on site.",
        "declared_by": "netops-3",
        "declared_at": started_at + timedelta(minutes=20),
        **changes,
    }
    return new_event("incident.declared", incident_id, data, source="/routing")


def incident_resolved(incident_id: str, resolved_at: datetime) -> Event:
    data = {
        "incident_id": incident_id,
        "cause": "FIBRE_CUT",
        "resolution": "The fibre was spliced.",
        "resolved_by": "netops-3",
        "resolved_at": resolved_at,
    }
    return new_event("incident.resolved", incident_id, data, source="/routing")


def linked(case_id: str, incident_id: str, at: datetime) -> Event:
    data = {"case_id": case_id, "incident_id": incident_id, "linked_at": at}
    return new_event("case.linked", case_id, data, source="/routing")


def case_resolved(case_id: str, resolved_at: datetime, incident_id: str | None) -> Event:
    data = {
        "case_id": case_id,
        "kind": "complaint",
        "category": "broadband",
        "department": "NOC",
        "resolved_by": "netops-3" if incident_id else "agent-resolver",
        "first_contact": False,
        "opened_at": resolved_at - timedelta(hours=3),
        "resolved_at": resolved_at,
        "incident_id": incident_id,
    }
    return new_event("case.resolved", case_id, data, source="/intake")


def received(event: Event) -> Event:
    """The event as a consumer hands it to a handler: parsed, its times loaded."""
    return parse_event(event.to_json())


def handle_resolution(db: Database, case_id: str, at: datetime, incident_id: str) -> None:
    """followup's handler applies one case.resolved in a transaction of its own, as a consumer
    does."""
    with db.transaction() as tx:
        handlers.on_case_resolved(tx, received(case_resolved(case_id, at, incident_id)))


def apply(own_system: Any, *events: Event) -> None:
    publish(own_system.settings, *events)
    db = own_system.db("followup")
    for e in events:
        wait_handled(db, e.id, timeout=30)


def tasks_of(api: Any, auth: Any, case_id: str) -> list[dict]:
    r = api.get(f"/followups?case_id={case_id}", headers=auth("agent"))
    assert r.status_code == 200, r.json
    return r.json["items"]


def not_sampled(db: Database, incident_id: str) -> set[str]:
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT case_id FROM followups_not_sampled WHERE incident_id = %s", (incident_id,)
        ).fetchall()
    return {r[0] for r in rows}


def an_incident_with_cases(at: datetime, n: int) -> tuple[str, list[str], list[Event]]:
    """An incident declared at `at` and `n` cases of it: most linked as they opened (the id on
    case.opened), every fifth opened before the declaration and linked by case.linked."""
    incident_id = str(uuid.uuid4())
    events: list[Event] = [declared(incident_id, at)]
    ids = []
    for k in range(n):
        opened_at = at + timedelta(minutes=1 + k % 30)
        if k % 5:
            opened = case_opened(opened_at=opened_at, incident_id=incident_id)
            events.append(opened)
        else:
            opened = case_opened(opened_at=opened_at)
            events += [opened, linked(opened.data["case_id"], incident_id, opened_at)]
        ids.append(opened.data["case_id"])
    return incident_id, ids, events


def test_a_resolved_incident_schedules_calls_for_a_sample_and_redelivery_adds_none(
    own_system, auth
):
    own_system.run("followup", relay=False)
    db, api = own_system.db("followup"), own_system.client("followup")
    at = clock.now().replace(microsecond=0) - timedelta(hours=6)
    incident_id, ids, events = an_incident_with_cases(at, CASES)
    done = at + timedelta(hours=4)
    resolutions = [case_resolved(c, done, incident_id) for c in ids]
    apply(own_system, *events, incident_resolved(incident_id, done), *resolutions)

    called = [c for c in ids if tasks_of(api, auth, c)]
    # a sample: the floor (5 by default) at least, not every case
    assert 5 <= len(called) < CASES, len(called)
    for c in called:
        (task,) = tasks_of(api, auth, c)
        assert task["state"] == "due" and task["agent_id"] != "netops-3"
    # the others are recorded as deliberately not called, each once
    skipped = not_sampled(db, incident_id)
    assert skipped == set(ids) - set(called)
    with db.transaction() as tx:
        counts = tx.one(
            "SELECT followups_sampled, followups_not_sampled FROM incidents WHERE incident_id = %s",
            (incident_id,),
        )
    assert counts == {
        "followups_sampled": len(called),
        "followups_not_sampled": CASES - len(called),
    }

    # the same events again (the inbox drops them) and copies with new ids (a producer's retry)
    copies = [dataclasses.replace(e, id=str(uuid.uuid4())) for e in resolutions]
    publish(own_system.settings, *resolutions)
    apply(own_system, *reversed(copies))
    assert [c for c in ids if tasks_of(api, auth, c)] == called
    assert not_sampled(db, incident_id) == skipped

    # a case of the region resolved on its own, outside the incident, gets its call as always
    alone = case_opened(opened_at=at)
    apply(own_system, alone, case_resolved(alone.data["case_id"], done, None))
    assert len(tasks_of(api, auth, alone.data["case_id"])) == 1


def test_consumers_side_by_side_never_call_more_than_the_floor(own_system):
    """With no share, exactly the floor is called however many transactions decide at once:
    each decision holds the incident's row (without the lock, several would take the last
    place)."""
    settings = own_system.settings.with_(incident_followup_share=0.0, incident_followup_at_least=5)
    db = Database(settings, "followup")
    try:
        incident_id = str(uuid.uuid4())
        done = clock.now().replace(microsecond=0) - timedelta(hours=1)
        ids = [str(uuid.uuid4()) for _ in range(36)]
        barrier = threading.Barrier(6)
        errors: list[BaseException] = []

        def consumer(mine: list[str]) -> None:
            try:
                barrier.wait()
                for case_id in mine:
                    handle_resolution(db, case_id, done, incident_id)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=consumer, args=(ids[k::6],)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors

        def decisions() -> tuple[int, int]:
            with db.transaction() as tx:
                tasks = tx.execute(
                    "SELECT count(*) FROM followups WHERE case_id = ANY(%s)", (ids,)
                ).fetchone()[0]
            return tasks, len(not_sampled(db, incident_id))

        assert decisions() == (5, 31)
        # every resolution handled again (a copy with a new id passes the inbox): all decided
        for case_id in ids:
            handle_resolution(db, case_id, done, incident_id)
        assert decisions() == (5, 31)
    finally:
        db.close()


def test_a_customer_who_asked_not_to_be_called_takes_no_place_in_the_sample(own_system, auth):
    settings = own_system.settings.with_(incident_followup_share=0.0, incident_followup_at_least=2)
    db = Database(settings, "followup")
    try:
        incident_id = str(uuid.uuid4())
        done = clock.now().replace(microsecond=0) - timedelta(hours=1)
        listed = str(uuid.uuid4())
        with db.transaction() as tx:
            tx.execute(
                "INSERT INTO do_not_call (customer_id, since, added_by) VALUES (%s, %s, 'sup')",
                (listed, done - timedelta(days=1)),
            )
        first = case_opened(opened_at=done - timedelta(hours=3), customer_id=listed)
        ids = [first.data["case_id"], *(str(uuid.uuid4()) for _ in range(4))]
        with db.transaction() as tx:
            handlers.on_case_opened(tx, received(first))
        for case_id in ids:
            handle_resolution(db, case_id, done, incident_id)
        with db.transaction() as tx:
            states = dict(
                tx.execute(
                    "SELECT case_id, state FROM followups WHERE case_id = ANY(%s)", (ids,)
                ).fetchall()
            )
        # the listed customer's task is skipped as always; the floor's two calls go to others
        assert states == {ids[0]: "skipped_do_not_call", ids[1]: "due", ids[2]: "due"}
        assert not_sampled(db, incident_id) == set(ids[3:])
    finally:
        db.close()


def test_the_report_counts_incident_cases_apart_and_lists_the_incident(own_system, auth):
    own_system.run("followup", relay=False)
    api = own_system.client("followup")
    quarter = Period.of(clock.now(), "quarter").previous()
    at = quarter.start + timedelta(days=20, hours=3)
    incident_id, ids, events = an_incident_with_cases(at, 12)
    done = at + timedelta(hours=5)
    # the rest of the quarter: three complaints and a consultation of their own
    others = [case_opened(opened_at=at + timedelta(days=d)) for d in (1, 2, 3)]
    others.append(case_opened(opened_at=at + timedelta(days=4), kind="consultation"))
    apply(
        own_system,
        *events,
        *others,
        incident_resolved(incident_id, done),
        *(case_resolved(c, done, incident_id) for c in ids),
    )
    r = api.get(f"/reports/quarterly/{quarter}", headers=auth("supervisor"))
    assert r.status_code == 200, r.json
    report = r.json
    assert (report["complaints"]["volume"], report["complaints"]["consultations"]) == (3, 1)
    assert report["complaints"]["by_category"] == [
        {"category": "broadband", "count": 3, "share_percent": 100.0, "previous": 0, "change": 3}
    ]
    n = report["incidents"]
    called = sum(1 for c in ids if tasks_of(api, auth, c))
    assert 5 <= called < 12
    assert (n["cases"], n["complaints"], n["consultations"], n["count"]) == (12, 12, 0, 1)
    assert n["items"] == [
        {
            "incident_id": incident_id,
            "regions": ["Daxing", "Tongzhou"],
            "categories": ["broadband"],
            "started_at": at.astimezone(clock.SHANGHAI).isoformat(),
            "resolved_at": done.astimezone(clock.SHANGHAI).isoformat(),
            "cause": "FIBRE_CUT",
            "linked_cases": 12,
            "followups_sampled": called,
            "followups_not_sampled": 12 - called,
        }
    ]
    # the quarter after lists it no more; the CSV and the page carry it
    later = api.get(f"/reports/quarterly/{quarter.next()}", headers=auth("supervisor")).json
    assert later["incidents"]["items"] == [] and later["incidents"]["cases"] == 0
    csv = api.get(f"/reports/quarterly/{quarter}?format=csv", headers=auth("supervisor"))
    assert f"incidents,incident,{incident_id},cause,FIBRE_CUT" in csv.get_data(as_text=True)
    assert "incidents,overall,,cases,12" in csv.get_data(as_text=True)
    page = api.get(f"/reports/quarterly/{quarter}.html", headers=auth("supervisor"))
    assert page.status_code == 200 and incident_id in page.get_data(as_text=True)


def test_the_dashboard_counts_open_incident_cases_apart(own_system, auth):
    own_system.run("followup", relay=False)
    api = own_system.client("followup")
    now = clock.now().replace(microsecond=0)
    incident_id = str(uuid.uuid4())
    started = now - timedelta(minutes=30)
    events: list[Event] = [declared(incident_id, started)]
    on_incident = [case_opened(opened_at=now, incident_id=incident_id) for _ in range(3)]
    before = case_opened(opened_at=now)  # opened before the declaration, linked afterwards
    own = [case_opened(opened_at=now) for _ in range(2)]
    events += [*on_incident, before, linked(before.data["case_id"], incident_id, now), *own]
    apply(own_system, *events)
    r = api.get("/dashboard.json", headers=auth("supervisor"))
    assert r.status_code == 200, r.json
    figures = r.json
    assert figures["open_cases"]["total"] == 2
    assert figures["intake_today"]["total"] == 2
    n = figures["incidents"]
    assert (n["open_cases"], n["received_today"], n["count"], n["open"]) == (4, 4, 1, 1)
    assert n["latest"] == [
        {
            "incident_id": incident_id,
            "regions": ["Daxing", "Tongzhou"],
            "categories": ["broadband"],
            "started_at": started.astimezone(clock.SHANGHAI).isoformat(),
            "resolved_at": None,
            "cause": None,
            "linked_cases": 4,
        }
    ]
    page = api.get("/dashboard", headers=auth("supervisor"))
    assert page.status_code == 200
    assert "4 open cases and 4 received today belong to network incidents" in page.get_data(
        as_text=True
    )


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_the_share_is_the_operators_to_set(own_system, share):
    settings = own_system.settings.with_(
        incident_followup_share=share, incident_followup_at_least=0
    )
    db = Database(settings, "followup")
    try:
        incident_id = str(uuid.uuid4())
        done = clock.now().replace(microsecond=0) - timedelta(hours=1)
        ids = [str(uuid.uuid4()) for _ in range(10)]
        for case_id in ids:
            handle_resolution(db, case_id, done, incident_id)
        assert len(not_sampled(db, incident_id)) == (10 if share == 0.0 else 0)
    finally:
        db.close()
