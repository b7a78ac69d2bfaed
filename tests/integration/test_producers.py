"""Events only from those allowed to send them: the broker vouches for the publisher (its
`user_id`), the catalogue says who may produce each type, and a consumer dead-letters anything
else as "unauthorized producer" without acting on it or re-publishing it."""

from __future__ import annotations

import uuid

import pika.exceptions
import pytest

from shared import clock
from shared.broker import connect, publish_properties
from shared.dead_letters import list_dead_letters
from shared.events import new_event
from shared.events.catalogue import EVENTS_EXCHANGE
from shared.testing.factories import case_opened
from shared.testing.waiting import publish, wait_until

STRANGER = ""  # AMQP_URL's own user: the development tools' guest


def _outbox_types(db, subject: str) -> list[str]:
    with db.transaction() as tx:
        return [
            r[0]
            for r in tx.execute(
                "SELECT type FROM outbox WHERE subject = %s ORDER BY seq", (subject,)
            )
        ]


def _dead_letter(settings, service: str, event_id: str):
    def found():
        return next(
            (d for d in list_dead_letters(settings, service) if d.message_id == event_id), None
        )

    return wait_until(found, 10, f"the forged event in {service}'s dead letters")


@pytest.fixture
def resolved_case(client, auth, run_service, service_db) -> str:
    """A case resolved at first contact, its events published."""
    intake = client("intake")
    agent = auth("agent", subject="agent-trust")
    r = intake.post(
        "/cases",
        json={
            "kind": "consultation",
            "channel": "hotline",
            "category": "billing",
            "region": "Chaoyang",
            "customer_ref": f"ACC-T-{uuid.uuid4().hex[:6]}",
            "content": "Why was I charged twice this month",
            "identity_verified": True,
        },
        headers=agent,
    )
    assert r.status_code == 201, r.json
    case_id = r.json["id"]
    body = {"resolution": "refund of the second charge", "first_contact": True}
    assert intake.post(f"/cases/{case_id}/resolve", json=body, headers=agent).status_code == 200
    return case_id


def test_a_forged_case_handled_and_followup_completed_change_nothing_in_intake(
    cs_settings, run_service, service_db, client, auth, resolved_case
):
    run_service("intake", relay=False)
    case_id, db = resolved_case, service_db("intake")
    before = _outbox_types(db, case_id)
    now = clock.now()
    handled = new_event(
        "case.handled",
        case_id,
        {
            "case_id": case_id,
            "department": "NO-SUCH-DEPT",
            "handled_by": "forger",
            "resolution_code": "fixed",
            "handled_at": now,
        },
        source="/routing",
    )
    unsolved = new_event(
        "followup.completed",
        case_id,
        {
            "followup_id": str(uuid.uuid4()),
            "case_id": case_id,
            "outcome": "unresolved",
            "satisfaction": 1,
            "agent_id": "forger",
            "department": None,
            "completed_at": now,
        },
        source="/followup",
    )
    publish(cs_settings, handled, unsolved, as_user=STRANGER)
    for event in (handled, unsolved):
        letter = _dead_letter(cs_settings, "intake", event.id)
        assert letter.error.startswith("unauthorized producer")
        assert "guest" in letter.error and event.type in letter.error
        assert letter.headers["x-producer"] == "guest"
    case = client("intake").get(f"/cases/{case_id}", headers=auth("agent")).json
    assert case["state"] == "resolved"
    assert _outbox_types(db, case_id) == before, "nothing re-published"
    with db.transaction() as tx:
        seen = tx.execute(
            "SELECT count(*) FROM inbox WHERE event_id = ANY(%s)", ([handled.id, unsolved.id],)
        ).fetchone()[0]
    assert seen == 0


def test_a_forged_staff_change_and_case_request_are_refused(
    cs_settings, run_service, service_db, client, auth
):
    run_service("routing", relay=False)
    run_service("intake", relay=False)
    staff_id = f"FORGED-{uuid.uuid4().hex[:6]}"
    head = new_event(
        "staff.upserted",
        staff_id,
        {
            "staff_id": staff_id,
            "display_name": "Nobody",
            "role": "department_head",
            "department": None,
            "active": True,
        },
        source="/hr",
    )
    ref = f"WEB-{uuid.uuid4().hex[:8]}"
    request = new_event(
        "case.requested",
        ref,
        {
            "channel": "online",
            "kind": "complaint",
            "category": "signal",
            "region": "Haidian",
            "customer_ref": "ACC-1001",
            "content": "Forged complaint",
            "external_ref": ref,
        },
        source="/portal",
    )
    publish(cs_settings, head, request, as_user=STRANGER)
    assert "unauthorized producer" in _dead_letter(cs_settings, "routing", head.id).error
    assert "unauthorized producer" in _dead_letter(cs_settings, "intake", request.id).error
    boss = auth("supervisor")
    assert client("routing").get(f"/staff/{staff_id}", headers=boss).status_code == 404
    with service_db("intake").transaction() as tx:
        assert (
            tx.execute("SELECT count(*) FROM inbox WHERE event_id = %s", (request.id,)).fetchone()[
                0
            ]
            == 0
        )


def test_a_service_may_publish_only_its_own_types(cs_settings):
    """The broker's topic permissions: training cannot put a case.handled on cs.events."""
    event = case_opened()
    conn = connect(cs_settings, name="training-forger", user="training")
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
            channel.basic_publish(
                cs_settings.exchange(EVENTS_EXCHANGE),
                "case.opened",
                event.to_json(),
                publish_properties(event.id, event.type, event.subject, "training"),
            )
        assert refused.value.reply_code == 403
        # nor claim to be someone else: the broker checks user_id against the connection
        channel = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as lied:
            channel.basic_publish(
                cs_settings.exchange(EVENTS_EXCHANGE),
                "training.completed",
                event.to_json(),
                publish_properties(event.id, event.type, event.subject, "intake"),
            )
            channel.basic_qos(prefetch_count=1)  # a round trip: the refusal arrives
        assert lied.value.reply_code == 406
    finally:
        conn.close()
