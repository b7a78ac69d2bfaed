"""`Idempotency-Key` (shared/idempotency.py) on intake's POSTs that make things: `/cases`,
`/customers`, `/channels/hotline/calls` and `/channels/email`.

A retry with the same key and body answers the first result (status, body, Location) and
makes nothing new; the same key with another body is 422; two identical requests at once make
one case; keys are per caller, kept 24 hours, and a first try that failed leaves no key.
"""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest

from shared import clock
from shared.errors import IDEMPOTENCY_KEY_REUSED

KEY = "Idempotency-Key"


def complaint(**changes: Any) -> dict[str, Any]:
    body = {
        "kind": "complaint",
        "channel": "hotline",
        "category": "broadband",
        "region": "Haidian",
        "customer_ref": f"ACC-IK-{uuid.uuid4().hex[:10]}",
        "content": "Broadband drops every evening",
        "identity_verified": True,
    }
    body.update(changes)
    return body


def cases_of(service_db, customer_ref: str) -> list[str]:
    with service_db("intake").transaction() as tx:
        rows = tx.execute("SELECT id FROM cases WHERE customer_ref = %s", (customer_ref,))
        return [str(r[0]) for r in rows.fetchall()]


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return dict(headers, **{KEY: key})


@pytest.fixture
def intake(client):
    return client("intake")


def test_a_retry_answers_the_first_case_and_makes_no_second(intake, auth, service_db):
    body, key = complaint(), str(uuid.uuid4())
    first = intake.post("/cases", json=body, headers=keyed(auth("agent"), key))
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = intake.post("/cases", json=body, headers=keyed(auth("agent"), key))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"] == f"/cases/{first.json['id']}"
    assert cases_of(service_db, body["customer_ref"]) == [first.json["id"]]


def test_the_body_is_compared_as_json(intake, auth, service_db):
    body, key = complaint(), str(uuid.uuid4())
    first = intake.post("/cases", json=body, headers=keyed(auth("agent"), key))
    reordered = (
        "{\n"
        + ",\n".join(f'  "{k}": {json_value(v)}' for k, v in reversed(list(body.items())))
        + "\n}"
    )
    again = intake.post(
        "/cases",
        data=reordered,
        headers=keyed(dict(auth("agent"), **{"Content-Type": "application/json"}), key),
    )
    assert again.status_code == 201 and again.json["id"] == first.json["id"]
    assert len(cases_of(service_db, body["customer_ref"])) == 1


def json_value(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def test_the_same_key_with_another_body_is_422_and_makes_nothing(intake, auth, service_db):
    body, key = complaint(), str(uuid.uuid4())
    first = intake.post("/cases", json=body, headers=keyed(auth("agent"), key))
    other = dict(body, content="something else entirely")
    r = intake.post("/cases", json=other, headers=keyed(auth("agent"), key))
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert r.json["type"] == IDEMPOTENCY_KEY_REUSED and "new key" in r.json["detail"]
    assert cases_of(service_db, body["customer_ref"]) == [first.json["id"]]
    # another endpoint with the same key is another request too
    customer = {"account_no": f"ACC-{uuid.uuid4().hex[:8]}", "name": "赵敏", "phones": []}
    customer["address"] = {"region": "Haidian"}
    r = intake.post("/customers", json=customer, headers=keyed(auth("agent"), key))
    assert r.status_code == 422 and r.json["type"] == IDEMPOTENCY_KEY_REUSED


def test_keys_belong_to_their_caller(intake, auth, service_db):
    body, key = complaint(), str(uuid.uuid4())
    mine = intake.post("/cases", json=body, headers=keyed(auth("agent", subject="a-1"), key))
    theirs = intake.post("/cases", json=body, headers=keyed(auth("agent", subject="a-2"), key))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json["id"] != theirs.json["id"]
    assert len(cases_of(service_db, body["customer_ref"])) == 2


def test_without_a_key_each_post_makes_a_case(intake, auth, service_db):
    body = complaint()
    a = intake.post("/cases", json=body, headers=auth("agent"))
    b = intake.post("/cases", json=body, headers=auth("agent"))
    assert a.status_code == b.status_code == 201 and a.json["id"] != b.json["id"]
    assert "Idempotent-Replayed" not in b.headers


def test_identical_requests_at_once_make_one_case(intake, auth, service_db):
    body, key = complaint(), str(uuid.uuid4())
    headers = keyed(auth("agent"), key)
    start = threading.Barrier(6)
    answers: list[tuple[int, str]] = []

    def post() -> None:
        own = intake.application.test_client()
        start.wait()
        r = own.post("/cases", json=body, headers=headers)
        answers.append((r.status_code, r.json["id"]))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(answers) == 6 and {status for status, _ in answers} == {201}
    assert len({case_id for _, case_id in answers}) == 1
    assert cases_of(service_db, body["customer_ref"]) == [answers[0][1]]


def test_a_key_is_kept_24_hours_then_forgotten(intake, auth, service_db):
    body, key = complaint(), str(uuid.uuid4())
    first = intake.post("/cases", json=body, headers=keyed(auth("agent"), key))
    clock.advance(timedelta(hours=23, minutes=59))
    within = intake.post("/cases", json=body, headers=keyed(auth("agent"), key))
    assert within.json["id"] == first.json["id"]
    clock.advance(timedelta(minutes=2))
    later = intake.post("/cases", json=body, headers=keyed(auth("agent"), key))
    assert later.status_code == 201 and later.json["id"] != first.json["id"]
    assert "Idempotent-Replayed" not in later.headers
    with service_db("intake").transaction() as tx:
        kept = tx.execute(
            "SELECT count(*) FROM idempotency_keys WHERE key = %s", (key,)
        ).fetchone()[0]
    assert kept == 1


def test_expired_keys_are_deleted_by_later_keyed_requests(intake, auth, service_db):
    old = str(uuid.uuid4())
    intake.post("/cases", json=complaint(), headers=keyed(auth("agent"), old))
    clock.advance(timedelta(hours=25))
    r = intake.post("/cases", json=complaint(), headers=keyed(auth("agent"), str(uuid.uuid4())))
    assert r.status_code == 201
    with service_db("intake").transaction() as tx:
        left = tx.execute("SELECT count(*) FROM idempotency_keys WHERE key = %s", (old,))
        assert left.fetchone()[0] == 0


def test_a_first_try_that_failed_leaves_no_key(intake, auth, service_db):
    key = str(uuid.uuid4())
    body = complaint(customer_id=str(uuid.uuid4()))  # no such customer: 422, nothing written
    failed = intake.post("/cases", json=body, headers=keyed(auth("agent"), key))
    assert failed.status_code == 422
    with service_db("intake").transaction() as tx:
        left = tx.execute("SELECT count(*) FROM idempotency_keys WHERE key = %s", (key,))
        assert left.fetchone()[0] == 0
    fixed = complaint(customer_ref=body["customer_ref"])
    r = intake.post("/cases", json=fixed, headers=keyed(auth("agent"), key))
    assert r.status_code == 201


@pytest.mark.parametrize("key", ["", "a key with spaces", "k" * 256, "ключ"])
def test_a_malformed_key_is_400_naming_the_header(intake, auth, service_db, key):
    body = complaint()
    headers = dict(auth("agent"), **{KEY: key.encode().decode("latin-1")})
    r = intake.post("/cases", json=body, headers=headers)
    assert r.status_code == 400 and r.json["errors"] == [
        {"detail": "1-255 visible ASCII characters, e.g. a UUID", "header": KEY}
    ]
    assert cases_of(service_db, body["customer_ref"]) == []


def test_customers_calls_and_emails_take_a_key_too(intake, auth, service_db):
    key = str(uuid.uuid4())
    phone = "135" + "".join(random.choices("0123456789", k=8))
    customer = {
        "account_no": f"ACC-{uuid.uuid4().hex[:8]}",
        "name": "钱进",
        "phones": [phone],
        "address": {"region": "Haidian"},
    }
    answers = [
        intake.post("/customers", json=customer, headers=keyed(auth("agent"), key))
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json == answers[1].json and answers[1].headers["Idempotent-Replayed"]
    customer_id = answers[0].json["id"]

    started = clock.now() - timedelta(minutes=5)
    call = {"caller_number": phone, "agent_id": "A-7", "started_at": started.isoformat()}
    calls = [
        intake.post(
            "/channels/hotline/calls", json=call, headers=keyed(auth("system"), key + "-call")
        )
        for _ in range(2)
    ]
    assert [c.status_code for c in calls] == [201, 201] and calls[0].json == calls[1].json
    assert calls[0].json["customer_id"] == customer_id
    got = intake.get(calls[1].headers["Location"], headers=auth("system"))
    assert got.status_code == 200 and got.json == calls[0].json
    with service_db("intake").transaction() as tx:
        made = tx.execute("SELECT count(*) FROM calls WHERE customer_id = %s", (customer_id,))
        assert made.fetchone()[0] == 1

    msg = EmailMessage()
    msg["From"] = f"mail.{uuid.uuid4().hex[:8]}@example.com"
    msg["To"] = "kefu@operator.example"
    msg["Subject"] = "电视没有声音"
    msg["Date"] = format_datetime(clock.now() - timedelta(minutes=3))
    msg["Message-ID"] = make_msgid(domain="mail.example")
    msg.set_content("从昨天开始电视没有声音。")
    headers = keyed(dict(auth("system"), **{"Content-Type": "message/rfc822"}), key + "-mail")
    mails = [intake.post("/channels/email", data=msg.as_bytes(), headers=headers) for _ in "ab"]
    assert [m.status_code for m in mails] == [201, 201], mails[0].json  # replayed, not 200
    assert mails[1].headers["Idempotent-Replayed"] == "true"
    assert mails[0].json == mails[1].json
    assert mails[1].headers["Location"] == f"/cases/{mails[0].json['id']}"
    other = msg.as_bytes().replace(b"\xe3\x80\x82", b"!")  # another body, same key
    r = intake.post("/channels/email", data=other, headers=headers)
    assert r.status_code == 422 and r.json["type"] == IDEMPOTENCY_KEY_REUSED
