"""Channels on intake, against the real database: hotline calls matched to customers, inbound
e-mail opening and joining cases, idempotent on Message-ID, and no number or address in clear."""

from __future__ import annotations

import logging
import random
import threading
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared import clock
from shared.testing.problems import invalid_fields

RFC822 = {"Content-Type": "message/rfc822"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def unique_phone() -> str:
    return "137" + "".join(random.choices("0123456789", k=8))


def unique_address() -> str:
    return f"li.{uuid.uuid4().hex[:10]}@example.com"


class Recorder:
    """The intake test client, remembering every response body (to scan them for PII)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.bodies: list[str] = []

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            response = getattr(self.client, method)(*args, **kwargs)
            self.bodies.append(response.get_data(as_text=True))
            return response

        return call


@pytest.fixture
def intake(client) -> Recorder:
    return Recorder(client("intake"))


@pytest.fixture
def gateway(auth) -> dict[str, str]:
    return auth("system", subject="mail-gateway")


@pytest.fixture
def cti(auth) -> dict[str, str]:
    return auth("system", subject="cti")


def new_customer(intake, auth, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_no": f"ACC-{uuid.uuid4().hex[:10]}".upper(),
        "name": "李娜",
        "phones": [unique_phone()],
        "email": unique_address(),
        "address": {"region": "Haidian"},
    }
    body.update(changes)
    r = intake.post("/customers", json=body, headers=auth("agent"))
    assert r.status_code == 201, r.json
    return dict(body, id=r.json["id"])


def mail(
    sender: str,
    subject: str = "机顶盒没有信号",
    body: str = "从昨天开始机顶盒一直显示无信号。",
    attachment: tuple[str, bytes] | None = None,
    message_id: str | None = None,
) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = f"李娜 <{sender}>"
    msg["To"] = "kefu@operator.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(clock.now() - timedelta(minutes=3))
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example")
    msg.set_content(body)
    if attachment:
        msg.add_attachment(attachment[1], "image", "jpeg", filename=attachment[0])
    return msg.as_bytes(), msg["Message-ID"]


def timeline(intake, auth, case_id: str) -> list[dict[str, Any]]:
    r = intake.get(f"/cases/{case_id}/timeline", headers=auth("agent"))
    assert r.status_code == 200
    return r.json["items"]


def rows_text(service_db, sql: str, params: tuple = ()) -> list[str]:
    """Rows as JSON text (bytea shows as \\x-hex)."""
    with service_db("intake").transaction() as tx:
        return [r[0] for r in tx.execute(sql, params).fetchall()]


def assert_nowhere(value: str, texts: list[str]) -> None:
    hexed = value.encode().hex()
    for text in texts:
        assert value.lower() not in text.lower() and hexed not in text.lower()


# --- e-mail ------------------------------------------------------------------------------------


def test_a_new_email_opens_a_case_and_a_reply_joins_it(intake, auth, gateway, service_db):
    customer = new_customer(intake, auth)
    sender = customer["email"]
    photo = b"\xff\xd8\xff" + bytes(2045)
    raw, message_id = mail(sender, attachment=("信号.jpg", photo))
    r = intake.post("/channels/email", data=raw, headers=dict(gateway, **RFC822))
    assert r.status_code == 201, r.json
    assert r.json["joined"] is False and r.json["message_id"] == message_id
    assert r.json["case_no"].startswith("ZX")
    case_id = r.json["id"]

    case = intake.get(f"/cases/{case_id}", headers=auth("agent")).json
    assert case["channel"] == "email" and case["kind"] == "consultation"
    assert case["category"] == "other" and case["region"] == "Haidian"
    assert case["customer_id"] == customer["id"] and case["identity_verified"] is False
    assert case["agent_id"] is None
    assert case["content"] == "机顶盒没有信号\n\n从昨天开始机顶盒一直显示无信号。"
    email_in = [e for e in timeline(intake, auth, case_id) if e["type"] == "email_in"]
    assert len(email_in) == 1 and email_in[0]["by"] == "mail-gateway"
    assert email_in[0]["detail"]["attachments"] == [
        {"name": "信号.jpg", "size": 2048, "content_type": "image/jpeg"}
    ]

    reply, reply_id = mail(
        sender, subject=f"Re: [{case['case_no']}] 机顶盒没有信号", body="还是没有信号。"
    )
    r = intake.post("/channels/email", data=reply, headers=dict(gateway, **RFC822))
    assert r.status_code == 201, r.json
    assert r.json == {
        "id": case_id,
        "case_no": case["case_no"],
        "joined": True,
        "message_id": reply_id,
    }
    entries = [e for e in timeline(intake, auth, case_id) if e["type"] == "email_in"]
    assert len(entries) == 2 and "还是没有信号。" in entries[1]["detail"]["text"]


def test_a_message_received_again_changes_nothing(intake, auth, gateway, service_db):
    raw, message_id = mail(unique_address())
    first = intake.post("/channels/email", data=raw, headers=dict(gateway, **RFC822))
    assert first.status_code == 201
    before = timeline(intake, auth, first.json["id"])
    again = intake.post("/channels/email", data=raw, headers=dict(gateway, **RFC822))
    assert again.status_code == 200 and again.json == first.json
    assert timeline(intake, auth, first.json["id"]) == before
    with service_db("intake").transaction() as tx:
        n = tx.execute("SELECT count(*) FROM emails WHERE message_id = %s", (message_id,))
        assert n.fetchone()[0] == 1
        opened = tx.execute(
            "SELECT count(*) FROM outbox WHERE subject = %s AND type = 'case.opened'",
            (first.json["id"],),
        )
        assert opened.fetchone()[0] == 1


def test_two_deliveries_at_once_make_one_case(client, gateway, service_db):
    raw, message_id = mail(unique_address())
    statuses: list[int] = []

    def deliver() -> None:
        r = client("intake").post("/channels/email", data=raw, headers=dict(gateway, **RFC822))
        statuses.append(r.status_code)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 201]
    with service_db("intake").transaction() as tx:
        n = tx.execute("SELECT count(*) FROM emails WHERE message_id = %s", (message_id,))
        assert n.fetchone()[0] == 1


@pytest.mark.parametrize("subject, body", [("我要投诉", "宽带太慢"), ("Billing", "A complaint")])
def test_a_complaint_keyword_makes_a_complaint(intake, auth, gateway, subject, body):
    raw, _ = mail(unique_address(), subject=subject, body=body)
    r = intake.post("/channels/email", data=raw, headers=dict(gateway, **RFC822))
    assert r.status_code == 201 and r.json["case_no"].startswith("TS")
    case = intake.get(f"/cases/{r.json['id']}", headers=auth("agent")).json
    assert case["kind"] == "complaint"
    # an unknown sender: no customer, no region to take
    assert case["customer_id"] is None and case["region"] == "unknown"


def test_an_unknown_case_number_or_a_strangers_reply_opens_a_new_case(
    intake, auth, gateway, service_db
):
    raw, _ = mail(unique_address())
    original = intake.post("/channels/email", data=raw, headers=dict(gateway, **RFC822)).json
    unknown, _ = mail(unique_address(), subject="Re: [ZX19990101-9999] 请回复")
    r = intake.post("/channels/email", data=unknown, headers=dict(gateway, **RFC822))
    assert r.status_code == 201 and r.json["joined"] is False
    # case numbers are easy to guess: naming one does not let someone else write into it
    stranger, _ = mail(unique_address(), subject=f"Re: [{original['case_no']}] 我也是")
    r = intake.post("/channels/email", data=stranger, headers=dict(gateway, **RFC822))
    assert r.status_code == 201 and r.json["joined"] is False and r.json["id"] != original["id"]
    entry = next(e for e in timeline(intake, auth, r.json["id"]) if e["type"] == "email_in")
    assert entry["detail"]["mentioned_case_no"] == original["case_no"]


def test_what_is_not_a_usable_message_is_refused_and_writes_nothing(
    intake, auth, gateway, service_db
):
    def emails() -> int:
        with service_db("intake").transaction() as tx:
            return tx.execute("SELECT count(*) FROM emails").fetchone()[0]

    before = emails()
    raw, _ = mail(unique_address())
    wrong_type = intake.post(
        "/channels/email", data=raw, headers=dict(gateway, **{"Content-Type": "text/plain"})
    )
    assert wrong_type.status_code == 415 and wrong_type.is_json
    as_json = intake.post("/channels/email", json={"raw": "x"}, headers=gateway)
    assert as_json.status_code == 415
    garbage = intake.post(
        "/channels/email", data=b"\x00\x01garbage\xff", headers=dict(gateway, **RFC822)
    )
    assert garbage.status_code == 400 and garbage.is_json and garbage.json["detail"]
    huge = raw + b"x" * (10 * 1024 * 1024)
    too_big = intake.post("/channels/email", data=huge, headers=dict(gateway, **RFC822))
    assert too_big.status_code == 413 and too_big.is_json
    agent = intake.post("/channels/email", data=raw, headers=dict(auth("agent"), **RFC822))
    assert agent.status_code == 403
    assert intake.post("/channels/email", data=raw, headers=RFC822).status_code == 401
    assert emails() == before


def test_the_sender_address_is_nowhere_in_clear(intake, auth, gateway, service_db, caplog):
    caplog.set_level(logging.DEBUG)
    customer = new_customer(intake, auth)
    sender = customer["email"]
    raw, _ = mail(
        sender,
        subject=f"Question from {sender}",
        body=f"Please write back to {sender.upper()}.",
        attachment=(f"{sender}.jpg", b"\xff\xd8"),
    )
    r = intake.post("/channels/email", data=raw, headers=dict(gateway, **RFC822))
    assert r.status_code == 201
    case_id = r.json["id"]
    intake.get(f"/cases/{case_id}", headers=auth("agent"))
    timeline(intake, auth, case_id)
    texts = rows_text(service_db, "SELECT row_to_json(t)::text FROM emails t")
    assert any(case_id in t for t in texts)
    texts += rows_text(
        service_db,
        "SELECT row_to_json(t)::text FROM case_timeline t WHERE case_id = %s",
        (case_id,),
    )
    texts += rows_text(
        service_db, "SELECT row_to_json(t)::text FROM cases t WHERE id = %s", (case_id,)
    )
    texts += rows_text(
        service_db, "SELECT row_to_json(t)::text FROM outbox t WHERE subject = %s", (case_id,)
    )
    assert_nowhere(sender, [*texts, *intake.bodies, caplog.text])


# --- hotline -------------------------------------------------------------------------------------


def call(number: str, **changes: Any) -> dict[str, Any]:
    started = clock.now() - timedelta(minutes=10)
    body = {
        "caller_number": number,
        "agent_id": "A-7",
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(seconds=185)).isoformat(),
    }
    body.update(changes)
    return body


def test_a_call_is_matched_to_the_customer_with_that_number(intake, auth, cti, service_db):
    customer = new_customer(intake, auth)
    number = customer["phones"][0]
    spaced = f"+86 {number[:3]} {number[3:7]} {number[7:]}"
    r = intake.post("/channels/hotline/calls", json=call(spaced), headers=cti)
    assert r.status_code == 201, r.json
    assert r.json["customer_id"] == customer["id"] and r.json["matched"] is True
    assert r.json["candidates"] == 1 and r.json["case_id"] is None
    assert r.json["duration_s"] == 185

    unknown = intake.post("/channels/hotline/calls", json=call(unique_phone()), headers=cti)
    assert unknown.status_code == 201
    assert unknown.json["matched"] is False and unknown.json["customer_id"] is None
    assert unknown.json["candidates"] == 0

    texts = rows_text(service_db, "SELECT row_to_json(t)::text FROM calls t")
    assert any(r.json["id"] in t for t in texts)
    assert_nowhere(number, texts + intake.bodies)


def test_a_shared_number_matches_nobody(intake, auth, cti):
    number = unique_phone()
    for _ in range(2):
        new_customer(intake, auth, phones=[number])
    r = intake.post("/channels/hotline/calls", json=call(number), headers=cti)
    assert r.status_code == 201
    assert r.json["matched"] is False and r.json["customer_id"] is None
    assert r.json["candidates"] == 2


def test_a_call_on_a_case_goes_on_its_timeline(intake, auth, service_db):
    agent = auth("agent", subject="A-7")
    case = intake.post(
        "/cases",
        json={
            "kind": "complaint",
            "channel": "hotline",
            "category": "signal",
            "region": "Haidian",
            "customer_ref": "ACC-CALLS",
            "content": "No picture",
            "identity_verified": True,
        },
        headers=agent,
    ).json
    number = unique_phone()
    r = intake.post(
        "/channels/hotline/calls",
        json=call(number, case_id=case["id"], direction="out"),
        headers=agent,
    )
    assert r.status_code == 201 and r.json["case_id"] == case["id"]
    entries = timeline(intake, auth, case["id"])
    out = [e for e in entries if e["type"] == "call_out"]
    assert len(out) == 1 and out[0]["by"] == "A-7"
    assert out[0]["detail"]["call_id"] == r.json["id"] and out[0]["detail"]["duration_s"] == 185
    assert_nowhere(
        number,
        rows_text(
            service_db,
            "SELECT row_to_json(t)::text FROM case_timeline t WHERE case_id = %s",
            (case["id"],),
        )
        + intake.bodies,
    )


def test_bad_calls_are_422_without_echo_and_write_nothing(intake, auth, cti, service_db):
    def calls() -> int:
        with service_db("intake").transaction() as tx:
            return tx.execute("SELECT count(*) FROM calls").fetchone()[0]

    before = calls()
    number = unique_phone()
    now = clock.now()
    for body, field in (
        (call(number, case_id=str(uuid.uuid4())), "case_id"),
        (call("12345"), "caller_number"),
        (call(number, ended_at=(now - timedelta(hours=1)).isoformat()), "ended_at"),
        (call(number, started_at=(now + timedelta(hours=1)).isoformat()), "started_at"),
        (call(number, direction="sideways"), "direction"),
        (call(number, started_at="2026-11-25T10:00:00"), "started_at"),
        (dict(call(number), extra=1), "extra"),
    ):
        r = intake.post("/channels/hotline/calls", json=body, headers=cti)
        assert r.status_code == 422 and field in invalid_fields(r.json), (field, r.json)
    assert calls() == before
    assert_nowhere(number, intake.bodies)
    trainer = intake.post("/channels/hotline/calls", json=call(number), headers=auth("trainer"))
    assert trainer.status_code == 403


def test_a_message_handed_over_later_is_recorded_when_the_gateway_took_it_in(
    intake, auth, gateway, service_db
):
    """A gateway delivering its queue after an outage says when it took each message in
    (`?occurred_at=`): the case is recorded then, numbered by that day; never in the future."""
    sent = (clock.now() - timedelta(days=10)).replace(microsecond=0)
    took = sent + timedelta(minutes=2)
    msg = EmailMessage()
    msg["From"] = unique_address()
    msg["To"] = "kefu@operator.example"
    msg["Subject"] = "宽带经常掉线"
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = make_msgid(domain="mail.example")
    msg.set_content("晚上八点以后宽带经常掉线。")
    headers = dict(gateway, **RFC822)
    future = (clock.now() + timedelta(hours=1)).isoformat()
    refused = intake.post(
        "/channels/email",
        query_string={"occurred_at": future},
        data=msg.as_bytes(),
        headers=headers,
    )
    assert refused.status_code == 422 and "occurred_at" in str(refused.json)
    r = intake.post(
        "/channels/email",
        query_string={"occurred_at": took.isoformat()},
        data=msg.as_bytes(),
        headers=headers,
    )
    assert r.status_code == 201, r.json
    assert r.json["case_no"][2:10] == took.astimezone(SHANGHAI).strftime("%Y%m%d")
    case = intake.get(f"/cases/{r.json['id']}", headers=auth("agent")).json
    assert datetime.fromisoformat(case["opened_at"]) == took
    assert datetime.fromisoformat(case["received_at"]) == sent
    entries = timeline(intake, auth, r.json["id"])
    assert {e["type"]: datetime.fromisoformat(e["at"]) for e in entries}["opened"] == took
    # the message is in once: the refused delivery wrote nothing
    assert rows_text(
        service_db, "SELECT count(*)::text FROM emails WHERE message_id = %s", (msg["Message-ID"],)
    ) == ["1"]
