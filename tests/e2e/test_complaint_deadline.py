"""The walking skeleton: HTTP into intake, over the broker, routing shows the deadline."""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.testing.factories import case_opened
from shared.testing.waiting import publish_and_wait, wait_until

COMPLAINT = {
    "kind": "complaint",
    "channel": "hotline",
    "category": "broadband",
    "region": "Haidian",
    "customer_ref": "ACC-1001",
    "content": "Broadband drops every evening since Monday",
    "identity_verified": True,
}


@pytest.fixture
def system(run_service):
    run_service("intake", consumer=False)
    run_service("routing")


def open_and_wait_for_clock(client, auth, body, headers=None):
    r = client("intake").post("/cases", json=body, headers={**auth("agent"), **(headers or {})})
    assert r.status_code == 201, r.json
    case_id = r.json["id"]

    def sla():
        got = client("routing").get(f"/cases/{case_id}/sla", headers=auth("agent"))
        return got.json if got.status_code == 200 else None

    return case_id, wait_until(sla, 10, "routing to show the clock")


@pytest.mark.parametrize(
    "kind, received_at, due_at, provisional",
    [
        # Sat 02-14 is a makeup workday, 02-15..02-23 Spring Festival
        ("complaint", "2026-02-13T10:00:00+08:00", "2026-02-24T17:30:00+08:00", False),
        # received after hours: only the date counts; the makeup Saturday is the 1st day
        ("consultation", "2026-02-13T20:00:00+08:00", "2026-02-14T17:30:00+08:00", False),
        # Labour Day: 05-01..05-05 off; Sat 05-09 is a makeup workday
        ("complaint", "2026-04-30T15:00:00+08:00", "2026-05-07T17:30:00+08:00", False),
        ("complaint", "2026-05-07T15:00:00+08:00", "2026-05-09T17:30:00+08:00", False),
        # National Day: 10-01..10-07 off
        ("complaint", "2026-09-30T09:00:00+08:00", "2026-10-09T17:30:00+08:00", False),
    ],
)
def test_routing_shows_the_working_day_deadline(
    system, client, auth, kind, received_at, due_at, provisional
):
    body = dict(COMPLAINT, kind=kind, received_at=received_at)
    _case_id, sla = open_and_wait_for_clock(client, auth, body)
    assert datetime.fromisoformat(sla["due_at"]) == datetime.fromisoformat(due_at)
    assert sla["due_at"].endswith("+08:00")
    assert sla["provisional"] is provisional
    assert sla["state"] == "running"
    assert sla["policy"]["working_days"] == (2 if kind == "complaint" else 1)


def test_a_deadline_in_a_year_without_official_schedule_is_provisional(
    cs_settings, service_db, run_service, client, auth
):
    """2027 has no official schedule yet; New Year's Day is still not a working day."""
    run_service("routing")
    event = case_opened(
        kind="consultation", opened_at=datetime.fromisoformat("2026-12-31T11:00:00+08:00")
    )
    publish_and_wait(cs_settings, service_db("routing"), event)
    sla = client("routing").get(f"/cases/{event.data['case_id']}/sla", headers=auth("agent")).json
    assert sla["due_at"] == "2027-01-04T17:30:00+08:00"
    assert sla["provisional"] is True


def test_the_correlation_id_follows_the_request_into_routings_events(
    system, client, auth, service_db
):
    case_id, _ = open_and_wait_for_clock(
        client, auth, COMPLAINT, headers={"X-Correlation-ID": "call-4711"}
    )
    with service_db("routing").transaction() as tx:
        body = tx.execute(
            "SELECT body FROM outbox WHERE type = 'sla.started' AND subject = %s", (case_id,)
        ).fetchone()[0]
    assert '"correlationid":"call-4711"' in body


def test_an_unknown_case_has_no_clock(client, auth):
    r = client("routing").get("/cases/nope/sla", headers=auth("agent"))
    assert r.status_code == 404 and r.is_json
