"""Improvement measures: created from an analysis, an inspection or feedback, moved through
their statuses with notes and evidence to closure; nothing is changed or deleted."""

from __future__ import annotations

import uuid
from datetime import date

import psycopg
import pytest

from shared.events import parse_event

MEASURE = {
    "problem": "Complaints about evening broadband speed rose 30% in 2026-Q3",
    "department": "NOC",
    "measure": "Upgrade the Haidian aggregation switches",
    "due_on": "2026-12-31",
    "source": "quarterly_analysis",
    "source_ref": "2026-Q3",
}


@pytest.fixture
def api(client):
    return client("followup")


def events(service_db, subject: str) -> list:
    with service_db("followup").transaction() as tx:
        rows = tx.execute(
            "SELECT body FROM outbox WHERE subject = %s ORDER BY seq", (subject,)
        ).fetchall()
    return [parse_event(r[0].encode()) for r in rows]


def test_a_measure_is_tracked_to_closure_with_its_history(api, auth, service_db):
    supervisor, head = auth("supervisor", subject="sup-1"), auth("department_head", subject="h-1")
    r = api.post("/improvements", json=MEASURE, headers=supervisor)
    assert r.status_code == 201, r.json
    m = r.json
    assert m["status"] == "open" and m["due_on"] == "2026-12-31"
    for status, evidence in (
        ("in_progress", None),
        ("done", "switch replaced, ticket 8812"),
        ("in_progress", None),
        ("done", "second switch"),
        ("verified", "evening speed at 290 Mbps for 2 weeks"),
    ):
        r = api.post(
            f"/improvements/{m['id']}/status",
            json={"status": status, "note": f"now {status}", "evidence": evidence},
            headers=head,
        )
        assert r.status_code == 201, r.json
        assert r.json["status"] == status
    assert (
        api.post(
            f"/improvements/{m['id']}/status", json={"status": "open"}, headers=head
        ).status_code
        == 409
    )
    r = api.post(f"/improvements/{m['id']}/status", json={"status": "closed"}, headers=supervisor)
    assert r.status_code == 201
    assert (
        api.post(
            f"/improvements/{m['id']}/status", json={"status": "in_progress"}, headers=supervisor
        ).status_code
        == 409
    )
    got = api.get(f"/improvements/{m['id']}", headers=head).json
    assert [h["status"] for h in got["history"]] == [
        "open",
        "in_progress",
        "done",
        "in_progress",
        "done",
        "verified",
        "closed",
    ]
    assert got["history"][2]["evidence"] == "switch replaced, ticket 8812"
    assert got["history"][1]["by"] == "h-1"
    sent = events(service_db, m["id"])
    assert [e.type for e in sent] == ["improvement.created", "improvement.closed"]
    assert sent[1].data == {
        "improvement_id": m["id"],
        "department": "NOC",
        "source": "quarterly_analysis",
        "due_on": date(2026, 12, 31),
    }
    listed = api.get("/improvements?department=NOC&status=closed", headers=head).json
    assert m["id"] in [i["id"] for i in listed["items"]]


def test_measures_are_validated_and_kept_for_audit(api, auth, service_db):
    supervisor = auth("supervisor")
    assert (
        api.post(
            "/improvements", json=dict(MEASURE, source="rumour"), headers=supervisor
        ).status_code
        == 422
    )
    assert api.post("/improvements", json=MEASURE, headers=auth("agent")).status_code == 403
    assert (
        api.post(
            f"/improvements/{uuid.uuid4()}/status", json={"status": "done"}, headers=supervisor
        ).status_code
        == 404
    )
    assert api.get(f"/improvements/{uuid.uuid4()}", headers=supervisor).status_code == 404
    m = api.post("/improvements", json=MEASURE, headers=supervisor).json
    with service_db("followup").transaction() as tx:
        tx.execute("SAVEPOINT s")
        for sql in (
            "UPDATE improvement_history SET status = 'closed'",
            "DELETE FROM improvements",
            "UPDATE improvements SET measure = 'nothing'",
            "TRUNCATE improvement_history CASCADE",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                tx.execute(sql)
            tx.execute("ROLLBACK TO SAVEPOINT s")
    assert api.get(f"/improvements/{m['id']}", headers=supervisor).json["status"] == "open"
