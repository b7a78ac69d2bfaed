"""Campaigns: a reproducible sample of customers with cases in a period (by region), never one
on the do-not-call list; responses and their suggestions as `feedback.received`."""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shared.events import parse_event
from shared.testing.factories import case_opened
from shared.testing.waiting import publish, wait_handled

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUESTIONS = [
    {"key": "overall", "text": "How satisfied are you with our service?", "type": "scale"},
    {"key": "recommend", "text": "Would you recommend us?", "type": "yes_no"},
    {
        "key": "product",
        "text": "Which product do you use most?",
        "type": "choice",
        "choices": ["tv", "broadband", "both"],
    },
    {"key": "suggestion", "text": "What should we do better?", "type": "text"},
]


@pytest.fixture
def api(client):
    return client("followup")


@pytest.fixture
def supervisor(auth):
    return auth("supervisor", subject="sup-1")


@pytest.fixture
def region(cs_settings, service_db, run_service) -> tuple[str, list[str]]:
    """A fresh region with 12 customers who had cases in 2024-Q3 (one of them twice), and
    customers elsewhere or at other times who must never be drawn."""
    run_service("followup", relay=False)
    name = f"R-{uuid.uuid4().hex[:8]}"
    customers = [str(uuid.uuid4()) for _ in range(12)]
    events = [
        case_opened(
            customer_id=c,
            region=name,
            category="broadband" if i % 2 else "tv",
            opened_at=datetime(2024, 7 + i % 3, 3 + i, 10, 0, tzinfo=SHANGHAI),
        )
        for i, c in enumerate(customers)
    ]
    events += [
        case_opened(
            customer_id=customers[0],
            region=name,
            category="tv",
            opened_at=datetime(2024, 9, 30, 23, 0, tzinfo=SHANGHAI),
        ),
        # the day after the quarter, Shanghai time
        case_opened(
            customer_id=str(uuid.uuid4()),
            region=name,
            opened_at=datetime(2024, 10, 1, 0, 30, tzinfo=SHANGHAI),
        ),
        case_opened(
            customer_id=str(uuid.uuid4()),
            region="elsewhere",
            opened_at=datetime(2024, 8, 1, 10, 0, tzinfo=SHANGHAI),
        ),
        case_opened(
            customer_id=None, region=name, opened_at=datetime(2024, 8, 1, 10, 0, tzinfo=SHANGHAI)
        ),
    ]
    publish(cs_settings, *events)
    for e in events:
        wait_handled(service_db("followup"), e.id)
    return name, customers


def campaign(api, supervisor, region_name: str, size: int = 5, **target) -> dict:
    body = {
        "name": "Quarterly satisfaction survey",
        "period": "2024-Q4",
        "questions": QUESTIONS,
        "target": {"size": size, "cases_period": "2024-Q3", "region": region_name, **target},
    }
    r = api.post("/campaigns", json=body, headers=supervisor)
    assert r.status_code == 201, r.json
    return r.json


def drawn(api, supervisor, campaign_id: str, seed: int) -> list[dict]:
    r = api.post(f"/campaigns/{campaign_id}/draw", json={"seed": seed}, headers=supervisor)
    assert r.status_code == 201, r.json
    return r.json["items"]


def test_the_sample_is_reproducible_and_respects_do_not_call(api, auth, supervisor, region):
    name, customers = region
    refused = customers[3:5]
    for c in refused:
        assert (
            api.post("/do-not-call", json={"customer_id": c}, headers=auth("agent")).status_code
            == 201
        )
    first = drawn(api, supervisor, campaign(api, supervisor, name)["id"], 42)
    second = drawn(api, supervisor, campaign(api, supervisor, name)["id"], 42)
    other = drawn(api, supervisor, campaign(api, supervisor, name)["id"], 7)
    sample = [t["customer_id"] for t in first]
    assert sample == [t["customer_id"] for t in second]
    assert sample != [t["customer_id"] for t in other]
    # computed independently: sorted eligible customers, then random.Random(seed)
    eligible = sorted(set(customers) - set(refused))
    assert sample == random.Random(42).sample(eligible, 5)
    assert [t["position"] for t in first] == [1, 2, 3, 4, 5]
    assert all(t["state"] == "due" for t in first)
    everyone = drawn(api, supervisor, campaign(api, supervisor, name, size=50)["id"], 1)
    assert sorted(t["customer_id"] for t in everyone) == eligible
    broadband = drawn(
        api, supervisor, campaign(api, supervisor, name, size=50, category="broadband")["id"], 1
    )
    assert {t["customer_id"] for t in broadband} == {
        c for i, c in enumerate(customers) if i % 2 and c not in refused
    }


def test_a_campaign_is_drawn_once_and_validated(api, auth, supervisor, region):
    name, _ = region
    c = campaign(api, supervisor, name)
    assert (
        api.post(f"/campaigns/{c['id']}/draw", json={"seed": 1}, headers=auth("agent")).status_code
        == 403
    )
    drawn(api, supervisor, c["id"], 1)
    again = api.post(f"/campaigns/{c['id']}/draw", json={"seed": 1}, headers=supervisor)
    assert again.status_code == 409
    got = api.get(f"/campaigns/{c['id']}", headers=auth("agent")).json
    assert got["seed"] == 1 and got["drawn"] == 5 and got["target"]["cases_period"] == "2024-Q3"
    bad_bodies = [
        {"name": "x", "period": "2024-13", "questions": QUESTIONS, "target": {"size": 1}},
        {"name": "x", "period": "2024-Q4", "questions": [], "target": {"size": 1}},
        {
            "name": "x",
            "period": "2024-Q4",
            "target": {"size": 1},
            "questions": [{"key": "a", "text": "?", "type": "choice", "choices": ["only"]}],
        },
        {
            "name": "x",
            "period": "2024-Q4",
            "target": {"size": 1},
            "questions": [QUESTIONS[0], QUESTIONS[0]],
        },
        {"name": "x", "period": "2024-Q4", "questions": QUESTIONS, "target": {"size": 0}},
    ]
    for body in bad_bodies:
        assert api.post("/campaigns", json=body, headers=supervisor).status_code == 422, body
    assert (
        api.post(
            f"/campaigns/{uuid.uuid4()}/draw", json={"seed": 1}, headers=supervisor
        ).status_code
        == 404
    )


def test_responses_and_suggestions_become_feedback_without_their_text(
    api, auth, supervisor, region, service_db
):
    name, _ = region
    c = campaign(api, supervisor, name)
    tasks = drawn(api, supervisor, c["id"], 3)
    agent = auth("agent", subject="agent-7")
    url = f"/campaigns/{c['id']}/responses"
    invalid = [
        [{"question": "overall", "value": 6}],
        [{"question": "recommend", "value": "yes"}],
        [{"question": "product", "value": "radio"}],
        [{"question": "nope", "value": 1}],
        [{"question": "overall", "value": 4, "topic": "billing", "department": "BILLING"}],
        [{"question": "suggestion", "value": "x", "topic": "billing"}],
    ]
    for answers in invalid:
        r = api.post(url, json={"task_id": tasks[0]["id"], "answers": answers}, headers=agent)
        assert r.status_code == 422, answers
    text = "Please send the engineer's arrival time by SMS"
    answers = [
        {"question": "overall", "value": 4},
        {"question": "recommend", "value": True},
        {"question": "product", "value": "both"},
        {"question": "suggestion", "value": text, "topic": "field_visits", "department": "FIELD"},
    ]
    r = api.post(url, json={"task_id": tasks[0]["id"], "answers": answers}, headers=agent)
    assert r.status_code == 201, r.json
    assert r.json["answers"][3]["value"] == text and r.json["recorded_by"] == "agent-7"
    assert (
        api.post(url, json={"task_id": tasks[0]["id"], "answers": []}, headers=agent).status_code
        == 409
    )
    assert (
        api.post(url, json={"task_id": str(uuid.uuid4()), "answers": []}, headers=agent).status_code
        == 422
    )
    states = api.get(f"/campaigns/{c['id']}/tasks?state=responded", headers=agent).json["items"]
    assert [t["id"] for t in states] == [tasks[0]["id"]]
    with service_db("followup").transaction() as tx:
        rows = tx.execute(
            "SELECT body FROM outbox WHERE type = 'feedback.received' AND subject = %s",
            (c["id"],),
        ).fetchall()
    (event,) = [parse_event(r[0].encode()) for r in rows]
    assert event.data["topic"] == "field_visits" and event.data["department"] == "FIELD"
    assert "SMS" not in rows[0][0]


def test_tasks_of_an_undrawn_campaign_answer_a_null_seed_as_documented(api, supervisor, region):
    name, _ = region
    c = campaign(api, supervisor, name)
    r = api.get(f"/campaigns/{c['id']}/tasks", headers=supervisor)
    assert r.status_code == 200 and r.json == {
        "campaign_id": c["id"],
        "seed": None,
        "items": [],
        "page": 1,
        "per_page": 50,
        "total": 0,
    }
    schemas = api.get("/openapi.json").json["components"]["schemas"]
    assert schemas["CampaignTasksOut"]["properties"]["seed"]["nullable"] is True


def test_free_text_answers_are_kept_with_personal_data_masked(
    api, auth, supervisor, region, service_db
):
    name, _ = region
    c = campaign(api, supervisor, name)
    tasks = drawn(api, supervisor, c["id"], 5)
    text = "Call me on 13912345678 or write to zhao.lei@example.com about the SMS"
    answers = [
        {"question": "product", "value": "both"},
        {"question": "suggestion", "value": text, "topic": "field_visits", "department": "FIELD"},
    ]
    r = api.post(
        f"/campaigns/{c['id']}/responses",
        json={"task_id": tasks[0]["id"], "answers": answers},
        headers=auth("agent"),
    )
    assert r.status_code == 201, r.json
    kept = "Call me on 139****5678 or write to z***@example.com about the SMS"
    assert r.json["answers"][1]["value"] == kept
    assert r.json["answers"][0]["value"] == "both"
    with service_db("followup").transaction() as tx:
        stored = tx.execute(
            "SELECT answers::text FROM campaign_responses WHERE campaign_id = %s", (c["id"],)
        ).fetchone()[0]
        feedback = tx.execute(
            "SELECT text FROM feedback WHERE campaign_id = %s", (c["id"],)
        ).fetchone()[0]
    assert "13912345678" not in stored and "zhao.lei" not in stored
    assert feedback == kept
