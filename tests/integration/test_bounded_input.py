"""Hostile input is bounded (issue 15), through each service's app on the real database: body
size, JSON depth, times a client sends, NUL and undecodable bytes and part counts in e-mail,
correlation ids, periods, and the headers every answer carries. Nothing refused is written, and
nothing a client could store makes a later read fail. (tests/e2e/test_request_limits.py sends
the same through gunicorn: slow and huge bodies on a real socket.)"""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest

from shared import clock
from shared.config import SERVICES
from shared.events import new_event
from shared.testing.problems import invalid_fields
from shared.testing.waiting import publish_and_wait

CASE = {
    "kind": "complaint",
    "channel": "hotline",
    "category": "broadband",
    "region": "Haidian",
    "customer_ref": "ACC-BOUNDS",
    "content": "No signal since Monday",
    "identity_verified": True,
}
RFC822 = {"Content-Type": "message/rfc822"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
FAR = "9999-12-31T23:00:00-12:00"


@pytest.fixture
def intake(client: Any) -> Any:
    return client("intake")


@pytest.fixture
def agent(auth: Any) -> dict[str, str]:
    return auth("agent", subject="agent-bounds")


def count(service_db: Any, sql: str) -> int:
    with service_db("intake").transaction() as tx:
        return tx.execute(sql).fetchone()[0]


def _open(intake: Any, agent: dict[str, str]) -> dict[str, Any]:
    r = intake.post("/cases", json=CASE, headers=agent)
    assert r.status_code == 201, r.json
    return r.json


# --- bodies ------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_with_a_json_body_and_writes_nothing(
    intake: Any, agent: dict[str, str], service_db: Any
) -> None:
    before = count(service_db, "SELECT count(*) FROM cases")
    big = b'{"kind": "complaint", "content": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    r = intake.post("/cases", data=big, content_type="application/json", headers=agent)
    assert r.status_code == 413 and r.is_json
    assert "larger than 1048576 bytes" in r.json["detail"]
    assert count(service_db, "SELECT count(*) FROM cases") == before


@pytest.mark.parametrize("depth", [33, 1_000, 3_000, 100_000])
def test_json_nested_too_deep_is_400_not_500(intake: Any, agent: dict[str, str], depth: int):
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        r = intake.post("/cases", data=body, content_type="application/json", headers=agent)
        assert r.status_code == 400 and "nests deeper than 32" in r.json["detail"], r.json


def test_json_nested_within_the_limit_reaches_the_schema(intake: Any, agent: dict[str, str]):
    body = "[" * 32 + "]" * 32
    r = intake.post("/cases", data=body, content_type="application/json", headers=agent)
    assert r.status_code == 422  # a list is no case, but the body was read


@pytest.mark.parametrize(
    "body", [b'{"content": "\\ud800"}', b'{"a": NaN}', b'{"a": 1,}', b"\xff\xfe{}"]
)
def test_json_that_is_not_json_is_400(intake: Any, agent: dict[str, str], body: bytes) -> None:
    r = intake.post("/cases", data=body, content_type="application/json", headers=agent)
    assert r.status_code == 400 and r.is_json and "not valid JSON" in r.json["detail"]


# --- times a client sends ---------------------------------------------------------------------


def test_a_note_dated_9999_is_422_and_the_timeline_still_reads(
    intake: Any, agent: dict[str, str], auth: Any
) -> None:
    case = _open(intake, agent)
    system = auth("system", subject="cti")
    url = f"/cases/{case['id']}/interactions"
    for body, headers in (
        ({"type": "note", "text": "called", "occurred_at": FAR}, system),
        ({"type": "note", "text": "called", "occurred_at": "1999-12-31T23:00:00+08:00"}, system),
        ({"type": "note", "text": "called", "at": FAR}, agent),  # no such field
    ):
        r = intake.post(url, json=body, headers=headers)
        assert r.status_code == 422 and r.is_json, (body, r.json)
    r = intake.get(f"/cases/{case['id']}/timeline", headers=agent)
    assert r.status_code == 200 and [e["type"] for e in r.json["items"]] == ["opened"]


def test_an_eta_lies_ahead_by_at_most_180_days(intake: Any, agent: dict[str, str]) -> None:
    case = _open(intake, agent)
    now = clock.now()
    url = f"/cases/{case['id']}/eta"
    for eta in (
        FAR,
        (now + timedelta(days=181)).isoformat(),
        (now - timedelta(hours=1)).isoformat(),
    ):
        r = intake.post(url, json={"eta": eta}, headers=agent)
        assert r.status_code == 422 and "eta" in invalid_fields(r.json), (eta, r.json)
    ok = (now + timedelta(days=179)).replace(microsecond=0)
    r = intake.post(url, json={"eta": ok.isoformat()}, headers=agent)
    assert r.status_code == 200 and datetime.fromisoformat(r.json["eta"]) == ok
    # the pages of cases read, whatever was tried
    assert intake.get("/cases?per_page=100", headers=agent).status_code == 200


def test_every_date_a_client_sends_lies_between_2000_and_2100(
    intake: Any, agent: dict[str, str], client: Any, auth: Any
) -> None:
    refused = [
        intake.post(
            "/cases", json=dict(CASE, received_at="1999-12-31T10:00:00+08:00"), headers=agent
        ),
        intake.get("/cases?received_to=9999-12-31", headers=agent),
        intake.get("/cases?received_from=1900-01-01", headers=agent),
        client("routing").get("/routing-rules?at=2100-01-01", headers=auth("supervisor")),
        client("followup").post(
            "/improvements",
            json={
                "title": "x",
                "department": "NOC",
                "source": "inspection",
                "due_on": "9999-12-31",
            },
            headers=auth("supervisor"),
        ),
    ]
    for r in refused:
        assert r.status_code == 422, r.get_data(as_text=True)[:300]


def test_a_call_that_ends_in_the_future_is_422(intake: Any, auth: Any) -> None:
    now = clock.now()
    body = {
        "caller_number": "13700000001",
        "agent_id": "agent-1",
        "started_at": (now - timedelta(minutes=5)).isoformat(),
        "ended_at": FAR,
    }
    r = intake.post("/channels/hotline/calls", json=body, headers=auth("system", subject="cti"))
    assert r.status_code == 422 and "ended_at" in invalid_fields(r.json)


# --- e-mail -----------------------------------------------------------------------------------


def _mail(body: str = "No signal since Monday", parts: int = 0) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"cust.{uuid.uuid4().hex[:8]}@example.com"
    msg["To"] = "kefu@operator.example"
    msg["Subject"] = "no signal"
    msg["Message-ID"] = make_msgid(domain="mail.example")
    msg.set_content(body)
    for i in range(parts):
        msg.add_attachment(b"x", "application", "octet-stream", filename=f"a{i}.bin")
    return msg.as_bytes()


def test_an_email_with_nul_or_undecodable_text_or_too_many_parts_is_400(
    intake: Any, auth: Any, service_db: Any
) -> None:
    gateway = dict(auth("system", subject="mail-gateway"), **RFC822)
    before = count(service_db, "SELECT count(*) FROM emails")
    nul = _mail().replace(b"No signal", b"No \x00 signal")
    bad_utf8 = _mail().replace(b"No signal", b"No \xff\xfe signal")
    parts = _mail(parts=300)
    for raw, why in ((nul, "NUL"), (bad_utf8, "not text"), (parts, "more than 250 parts")):
        started = time.perf_counter()
        r = intake.post("/channels/email", data=raw, headers=gateway)
        assert r.status_code == 400 and why in r.json["detail"], r.json
        assert time.perf_counter() - started < 1.0
    assert count(service_db, "SELECT count(*) FROM emails") == before


def test_an_email_may_be_larger_than_the_json_limit(intake: Any, auth: Any) -> None:
    gateway = dict(auth("system", subject="mail-gateway"), **RFC822)
    r = intake.post("/channels/email", data=_mail("x" * (3 * 1024 * 1024)), headers=gateway)
    assert r.status_code == 201, r.json
    huge = intake.post("/channels/email", data=_mail("x" * (11 * 1024 * 1024)), headers=gateway)
    assert huge.status_code == 413 and "10485760" in huge.json["detail"]


# --- correlation ids and headers --------------------------------------------------------------


@pytest.mark.parametrize(
    "given", ["x" * 65, "has space", "13912345678", "<script>", "ünïcode", "a\tb"]
)
def test_a_bad_correlation_id_is_replaced(intake: Any, agent: dict[str, str], given: str) -> None:
    r = intake.get("/healthz", headers={"X-Correlation-ID": given})
    cid = r.headers["X-Correlation-ID"]
    assert cid != given and uuid.UUID(cid)


def test_a_good_correlation_id_is_carried(intake: Any) -> None:
    r = intake.get("/healthz", headers={"X-Correlation-ID": "gw-2026:abc_1.2"})
    assert r.headers["X-Correlation-ID"] == "gw-2026:abc_1.2"


@pytest.mark.parametrize("service", SERVICES)
def test_every_answer_forbids_sniffing_and_framing(client: Any, auth: Any, service: str) -> None:
    for r in (
        client(service).get("/healthz"),
        client(service).get("/openapi.json"),
        client(service).post("/nothing-here", json={}, headers=auth("admin")),
    ):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


# --- periods and schema -----------------------------------------------------------------------


def test_periods_are_limited_to_the_years_the_system_keeps(
    client: Any, auth: Any, cs_settings: Any, service_db: Any, run_service: Any
) -> None:
    run_service("training", relay=False)
    staff = f"agent-{uuid.uuid4().hex[:6]}"
    data = {"staff_id": staff, "display_name": "A", "role": "agent", "active": True}
    event = new_event("staff.upserted", staff, dict(data, department="HOTLINE"), source="/routing")
    publish_and_wait(cs_settings, service_db("training"), event)
    ahead = clock.now().year + 6
    training, routing = client("training"), client("routing")
    admin = auth("admin")
    for period in ("1000-Q1", "1999-12", f"{ahead}-Q1"):
        r = training.get(f"/scorecards/{staff}?period={period}", headers=admin)
        assert r.status_code == 422 and "between 2000 and" in str(r.json), r.json
        r = routing.get(f"/sla/compliance?period={period}", headers=admin)
        assert r.status_code == 422, r.json
        r = client("followup").get(f"/campaigns?period={period[:4]}-Q1", headers=admin)
        assert r.status_code == 422, r.json
    card = training.get(f"/scorecards/{staff}?period=2000-Q1", headers=admin)
    assert card.status_code == 200 and RFC3339.match(card.json["as_of"]), card.json


def test_a_calendar_of_a_year_out_of_range_or_with_a_nul_is_refused(client: Any, auth: Any):
    routing, admin = client("routing"), auth("admin")
    far = "date,working,reason\n9999-12-31,false,end of days\n"
    r = routing.post("/calendar/import", data=far, headers=admin)
    assert r.status_code == 422 and "year" in invalid_fields(r.json), r.json
    nul = "date,working,reason\n2026-12-31,false,new\x00year\n"
    assert routing.post("/calendar/import", data=nul, headers=admin).status_code == 400
    r = routing.put("/calendar/9999-12-31", json={"working": False, "reason": "x"}, headers=admin)
    assert r.status_code == 422 and "day" in invalid_fields(r.json), r.json
    assert routing.get("/calendar?year=2026", headers=admin).status_code == 200
