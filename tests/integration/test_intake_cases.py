"""POST /cases and GET /cases/{id} on intake, against the real database."""

from __future__ import annotations

import uuid

import jwt
import orjson
import pytest

from shared.events import parse_event
from shared.testing.problems import invalid_fields

COMPLAINT = {
    "kind": "complaint",
    "channel": "hotline",
    "category": "broadband",
    "region": "Haidian",
    "customer_ref": "ACC-1001",
    "content": "Broadband drops every evening since Monday",
    "identity_verified": True,
    "received_at": "2026-02-13T10:00:00+08:00",
}


def counts(service_db) -> tuple[int, int]:
    with service_db("intake").transaction() as tx:
        cases = tx.execute("SELECT count(*) FROM cases").fetchone()[0]
        outbox = tx.execute("SELECT count(*) FROM outbox").fetchone()[0]
    return cases, outbox


def test_a_complaint_is_recorded_with_a_readable_number_and_announced(client, auth, service_db):
    r = client("intake").post("/cases", json=COMPLAINT, headers=auth("agent", subject="agent-7"))
    assert r.status_code == 201, r.json
    case = r.json
    assert case["case_no"].startswith("TS") and len(case["case_no"]) >= len("TS20261124-0007")
    assert case["state"] == "open" and case["agent_id"] == "agent-7"

    got = client("intake").get(f"/cases/{case['id']}", headers=auth("agent"))
    assert got.status_code == 200
    assert got.json["case_no"] == case["case_no"]
    assert got.json["received_at"].startswith("2026-02-13T02:00:00")

    with service_db("intake").transaction() as tx:
        body = tx.execute("SELECT body FROM outbox WHERE subject = %s", (case["id"],)).fetchone()[0]
    event = parse_event(body.encode())
    assert event.type == "case.opened" and event.source == "/intake"
    assert event.data["case_no"] == case["case_no"]
    assert event.data["received_at"].isoformat() == "2026-02-13T10:00:00+08:00"
    # no personal data: neither the account reference nor what the customer said
    assert "ACC-1001" not in body and "Broadband drops" not in body


def test_consultations_get_their_own_number_series(client, auth):
    r = client("intake").post(
        "/cases", json=dict(COMPLAINT, kind="consultation"), headers=auth("agent")
    )
    assert r.status_code == 201
    assert r.json["case_no"].startswith("ZX")


def test_case_numbers_are_unique(client, auth):
    numbers = {
        client("intake").post("/cases", json=COMPLAINT, headers=auth("agent")).json["case_no"]
        for _ in range(5)
    }
    assert len(numbers) == 5


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "grumble"}, "kind"),
        ({"channel": "fax"}, "channel"),
        ({"category": "weather"}, "category"),
        ({"identity_verified": "perhaps"}, "identity_verified"),
        ({"received_at": "2026-02-13T10:00:00"}, "received_at"),
        ({"received_at": "2099-01-01T10:00:00+08:00"}, "received_at"),
        ({"received_at": "0001-01-01T10:00:00+08:00"}, "received_at"),
        ({"content": ""}, "content"),
        ({"shoe_size": 42}, "shoe_size"),
        ({"region": None}, "region"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    client, auth, service_db, change, field
):
    before = counts(service_db)
    body = {k: v for k, v in dict(COMPLAINT, **change).items()}
    r = client("intake").post("/cases", json=body, headers=auth("agent"))
    assert r.status_code == 422
    assert field in invalid_fields(r.json), r.json
    assert counts(service_db) == before


def test_a_body_that_is_not_json_gets_a_json_error(client, auth, service_db):
    before = counts(service_db)
    r = client("intake").post(
        "/cases",
        data=b"{not json",
        headers=dict(auth("agent"), **{"Content-Type": "application/json"}),
    )
    assert 400 <= r.status_code < 500 and r.is_json
    assert counts(service_db) == before


def test_missing_forged_and_expired_tokens_get_401(client, cs_settings, service_db):
    before = counts(service_db)
    c = client("intake")
    assert c.post("/cases", json=COMPLAINT).status_code == 401
    forged = jwt.encode(
        {"iss": "cs-platform", "sub": "mallory", "roles": ["admin"], "exp": 4102444800},
        "not-the-secret-but-long-enough-to-look-real",
        algorithm="HS256",
    )
    r = c.post("/cases", json=COMPLAINT, headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and "invalid token" in r.json["detail"]
    expired = jwt.encode(
        {"iss": "cs-platform", "sub": "a", "roles": ["agent"], "exp": 1000},
        cs_settings.jwt_secret,
        algorithm="HS256",
    )
    r = c.post("/cases", json=COMPLAINT, headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    r = c.post("/cases", json=COMPLAINT, headers={"Authorization": "Basic abc"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert counts(service_db) == before


def test_a_role_without_the_right_gets_403(client, auth, service_db):
    before = counts(service_db)
    r = client("intake").post("/cases", json=COMPLAINT, headers=auth("trainer"))
    assert r.status_code == 403 and r.is_json
    assert counts(service_db) == before


def test_unknown_case_is_404_json(client, auth):
    r = client("intake").get(f"/cases/{uuid.uuid4()}", headers=auth("agent"))
    assert r.status_code == 404 and "no case" in r.json["detail"]


def test_health_metrics_and_openapi_need_no_token(client):
    c = client("intake")
    assert c.get("/healthz").status_code == 200
    ready = c.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"] == {"database": "ok", "broker": "ok"}
    c.get("/cases/not-a-uuid")
    assert b"cs_http_requests_total" in c.get("/metrics").data
    doc = orjson.loads(c.get("/openapi.json").data)
    assert "/cases" in doc["paths"] and "bearerAuth" in doc["components"]["securitySchemes"]
