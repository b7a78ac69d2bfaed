"""Customers on intake, against the real database: encryption at rest, masking, reveal with an
access log, blind-index lookups, consent, and key rotation through `cs pii rotate`."""

from __future__ import annotations

import json
import logging
import random
import uuid
from typing import Any

import psycopg
import pytest

from services.intake import queries
from services.intake.commands import keys
from services.intake.domain.customers import PII_FIELDS
from services.intake.domain.vault import UnknownKeyError, Vault
from shared import cli
from shared.testing.problems import invalid_fields

ID_NUMBER = "110105199001011232"  # valid GB 11643 check character
ID_MASKED = "110105********1232"


def unique_phone() -> str:
    return "139" + "".join(random.choices("0123456789", k=8))


def new_customer(**changes: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:10]
    body: dict[str, Any] = {
        "account_no": f"ACC-{tag}".upper(),
        "name": "张伟",
        "phones": [unique_phone()],
        "id_number": ID_NUMBER,
        "address": {"region": "Haidian", "district": "Zhongguancun", "line": "中关村大街1号3-502"},
        "email": f"zw.{tag}@example.com",
    }
    body.update(changes)
    return body


@pytest.fixture
def intake(client):
    return client("intake")


@pytest.fixture
def created(intake, auth) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what was posted, what came back)."""
    body = new_customer()
    r = intake.post("/customers", json=body, headers=auth("agent", subject="agent-7"))
    assert r.status_code == 201, r.json
    return body, r.json


def pii_headers(make_token, reason: str | None = "customer called to change the address", **kw):
    headers = {"Authorization": f"Bearer {make_token('agent', scopes=('pii:read',), **kw)}"}
    if reason is not None:
        headers["X-Access-Reason"] = reason
    return headers


def personal_values(body: dict[str, Any]) -> list[str]:
    return [
        body["name"],
        *body["phones"],
        body["id_number"],
        body["email"],
        body["address"]["line"],
        body["account_no"],
    ]


def table_text(service_db) -> list[str]:
    """Every row of the customer tables as JSON text (bytea shows as \\x-hex)."""
    with service_db("intake").transaction() as tx:
        return [
            r[0]
            for table in ("customers", "customer_phones", "customer_consents", "pii_access_log")
            for r in tx.execute(f"SELECT row_to_json(t)::text FROM {table} t").fetchall()
        ]


def count(service_db, table: str) -> int:
    with service_db("intake").transaction() as tx:
        return tx.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# --- create, mask, store encrypted ------------------------------------------------------------


def test_a_customer_is_created_and_shown_masked(intake, auth, created):
    body, out = created
    phone = body["phones"][0]
    assert out["account_no"] == body["account_no"]
    assert out["name"] == "张*"
    assert out["phones"] == [phone[:3] + "****" + phone[-4:]]
    assert out["id_number"] == ID_MASKED
    assert out["email"] == "z***@example.com"
    assert out["address"] == {"region": "Haidian", "district": "Zhongguancun", "line": "***"}
    assert out["revealed"] == []

    got = intake.get(f"/customers/{out['id']}", headers=auth("agent"))
    assert got.status_code == 200
    assert got.json == out
    assert got.headers["Cache-Control"] == "no-store"


def test_personal_data_is_unreadable_in_the_tables(created, service_db, intake, make_token):
    body, out = created
    # a reveal and a consent add rows of their own: they must not hold the values either
    intake.get(f"/customers/{out['id']}?reveal=true", headers=pii_headers(make_token))
    texts = table_text(service_db)
    assert any(out["id"] in t for t in texts)
    for value in personal_values(body):
        hexed = value.encode().hex()
        for text in texts:
            assert value not in text and hexed not in text.lower()


def test_phones_are_normalised_and_duplicates_dropped(intake, auth):
    phone = unique_phone()
    spaced = f"{phone[:3]} {phone[3:7]}-{phone[7:]}"
    body = new_customer(phones=[spaced, phone, "010-62345678"])
    r = intake.post("/customers", json=body, headers=auth("agent"))
    assert r.status_code == 201, r.json
    assert r.json["phones"] == [phone[:3] + "****" + phone[-4:], "010****5678"]


def test_optional_fields_may_be_left_out(intake, auth):
    body = new_customer()
    for key in ("email", "id_number", "phones"):
        del body[key]
    body["address"] = {"region": "Chaoyang"}
    r = intake.post("/customers", json=body, headers=auth("supervisor"))
    assert r.status_code == 201, r.json
    assert r.json["email"] is None and r.json["id_number"] is None and r.json["phones"] == []
    assert r.json["address"] == {"region": "Chaoyang", "district": None, "line": None}


def test_a_duplicate_account_number_is_409(intake, auth, created, service_db):
    body, _ = created
    before = count(service_db, "customers")
    again = new_customer(account_no=body["account_no"].lower())
    r = intake.post("/customers", json=again, headers=auth("agent"))
    assert r.status_code == 409 and r.is_json
    assert body["account_no"] not in r.get_data(as_text=True)
    assert count(service_db, "customers") == before


@pytest.mark.parametrize(
    "change, field, value",
    [
        ({"phones": ["12800138000"]}, "phones", "12800138000"),
        ({"phones": ["138001380"]}, "phones", "138001380"),
        ({"id_number": "110105199001011234"}, "id_number", "110105199001011234"),
        ({"id_number": "110105900101123"}, "id_number", "110105900101123"),
        ({"email": "zw-at-example.com"}, "email", "zw-at-example.com"),
        ({"name": "张" * 51}, "name", "张" * 51),
        ({"name": "  "}, "name", None),
        ({"account_no": "A" * 65}, "account_no", "A" * 65),
        ({"address": {"line": "中关村大街9号"}}, "address", "中关村大街9号"),
        ({"address": {"region": "Haidian", "floor": "中关村大街9号"}}, "address", "中关村大街9号"),
        ({"nickname": "小张"}, "nickname", "小张"),
        ({"phones": "13800138000"}, "phones", "13800138000"),
    ],
)
def test_bad_input_is_422_naming_the_field_without_echoing_the_value(
    intake, auth, service_db, change, field, value
):
    before = count(service_db, "customers")
    r = intake.post("/customers", json=new_customer(**change), headers=auth("agent"))
    assert r.status_code == 422, r.json
    assert field in invalid_fields(r.json), r.json
    # both as sent (JSON may escape non-ASCII) and as decoded
    texts = (r.get_data(as_text=True), json.dumps(r.json, ensure_ascii=False))
    if value is not None:
        assert not any(value in text for text in texts), r.json
    assert count(service_db, "customers") == before


def test_only_front_line_roles_create_customers(intake, auth, service_db):
    before = count(service_db, "customers")
    for role in ("trainer", "department_staff"):
        assert intake.post("/customers", json=new_customer(), headers=auth(role)).status_code == 403
    assert intake.post("/customers", json=new_customer()).status_code == 401
    assert count(service_db, "customers") == before


def test_unknown_customers_are_404_json(intake, auth, make_token):
    missing = uuid.uuid4()
    for r in (
        intake.get(f"/customers/{missing}", headers=auth("agent")),
        intake.get(f"/customers/{missing}?reveal=true", headers=pii_headers(make_token)),
        intake.patch(f"/customers/{missing}", json={"name": "李四"}, headers=auth("agent")),
        intake.get(f"/customers/{missing}/consents", headers=auth("agent")),
        intake.get(f"/customers/{missing}/consents/x_y", headers=auth("agent")),
        intake.post(
            f"/customers/{missing}/consents",
            json={"purpose": "installation_contractor", "granted": True, "channel": "hotline"},
            headers=auth("agent"),
        ),
    ):
        assert r.status_code == 404 and "no customer" in r.json["detail"]


# --- reveal and the access log ----------------------------------------------------------------


def test_reveal_needs_the_permission_first_then_a_reason(intake, auth, make_token, created):
    _, out = created
    url = f"/customers/{out['id']}?reveal=true"
    no_scope = {"Authorization": f"Bearer {make_token('supervisor')}", "X-Access-Reason": "why"}
    assert intake.get(url, headers=no_scope).status_code == 403
    assert intake.get(url, headers=auth("agent")).status_code == 403  # 403 before 400
    # admin passes every role check but holds no permission it was not given
    admin = {"Authorization": f"Bearer {make_token('admin')}", "X-Access-Reason": "audit"}
    refused = intake.get(url, headers=admin)
    assert refused.status_code == 403 and "pii:read" in refused.json["detail"]
    assert intake.get(url, headers=pii_headers(make_token, reason=None)).status_code == 400
    assert intake.get(url, headers=pii_headers(make_token, reason="   ")).status_code == 400
    log = intake.get(f"/access-log?customer_id={out['id']}", headers=auth("supervisor"))
    assert log.json["items"] == []


def test_reveal_shows_clear_values_and_is_logged(intake, auth, make_token, created):
    body, out = created
    r = intake.get(
        f"/customers/{out['id']}?reveal=true",
        headers=dict(
            pii_headers(make_token, subject="agent-42", reason="核实身份 for installation"),
            **{"X-Correlation-ID": "corr-reveal-1"},
        ),
    )
    assert r.status_code == 200, r.json
    assert r.json["name"] == body["name"]
    assert r.json["phones"] == body["phones"]
    assert r.json["id_number"] == ID_NUMBER
    assert r.json["email"] == body["email"]
    assert r.json["address"]["line"] == body["address"]["line"]
    assert r.json["revealed"] == list(PII_FIELDS)

    assert (
        intake.get(f"/access-log?customer_id={out['id']}", headers=auth("agent")).status_code == 403
    )
    log = intake.get(f"/access-log?customer_id={out['id']}", headers=auth("supervisor"))
    assert log.status_code == 200
    [entry] = log.json["items"]
    assert entry["by"] == "agent-42" and entry["customer_id"] == out["id"]
    assert entry["fields"] == list(PII_FIELDS)
    assert entry["reason"] == "核实身份 for installation"
    assert entry["correlation_id"] == "corr-reveal-1"
    assert set(entry) == {
        "id",
        "at",
        "by",
        "customer_id",
        "case_id",
        "fields",
        "reason",
        "correlation_id",
    }


def test_a_reveal_can_be_limited_to_some_fields_and_the_log_is_newest_first(
    intake, auth, make_token, created
):
    body, out = created
    url = f"/customers/{out['id']}?reveal=true"
    intake.get(url, headers=pii_headers(make_token, reason="first"))
    r = intake.get(f"{url}&fields=phones", headers=pii_headers(make_token, reason="second"))
    assert r.json["phones"] == body["phones"] and r.json["name"] == "张*"
    assert r.json["id_number"] == ID_MASKED and r.json["revealed"] == ["phones"]
    items = intake.get(f"/access-log?customer_id={out['id']}", headers=auth("admin")).json["items"]
    assert [(e["reason"], e["fields"]) for e in items] == [
        ("second", ["phones"]),
        ("first", list(PII_FIELDS)),
    ]
    bad = intake.get(f"{url}&fields=shoe_size", headers=pii_headers(make_token))
    assert bad.status_code == 422


def test_the_access_log_is_append_only(intake, make_token, created, service_db):
    _, out = created
    intake.get(f"/customers/{out['id']}?reveal=true", headers=pii_headers(make_token))
    for statement in (
        "UPDATE pii_access_log SET reason = 'nothing to see' WHERE customer_id = %s",
        "DELETE FROM pii_access_log WHERE customer_id = %s",
    ):
        with (
            pytest.raises(psycopg.Error, match="append-only"),
            service_db("intake").transaction() as tx,
        ):
            tx.execute(statement, (out["id"],))
    with (
        pytest.raises(psycopg.Error, match="append-only"),
        service_db("intake").transaction() as tx,
    ):
        tx.execute("TRUNCATE pii_access_log")
    with service_db("intake").transaction() as tx:
        n = tx.execute(
            "SELECT count(*) FROM pii_access_log WHERE customer_id = %s", (out["id"],)
        ).fetchone()[0]
    assert n == 1


def test_nothing_personal_reaches_the_logs(intake, auth, make_token, caplog):
    caplog.set_level(logging.DEBUG)
    body = new_customer()
    out = intake.post("/customers", json=body, headers=auth("agent")).json
    intake.get(f"/customers/{out['id']}?reveal=true", headers=pii_headers(make_token))
    intake.get(f"/customers?phone={body['phones'][0]}", headers=auth("agent"))
    intake.post("/customers", json=new_customer(id_number="110105199001011234"), headers=auth())
    for value in personal_values(body):
        assert value not in caplog.text


# --- lookups by blind index -------------------------------------------------------------------


def test_customers_are_found_by_phone_account_and_email(intake, auth, created):
    body, out = created
    phone = body["phones"][0]
    for query in (
        f"phone={phone}",
        f"phone={phone[:3]}-{phone[3:7]}-{phone[7:]}",
        f"account_no={body['account_no'].lower()}",
        f"email={body['email'].upper()}",
        f"phone={phone}&account_no={body['account_no']}",
    ):
        r = intake.get(f"/customers?{query}", headers=auth("agent"))
        assert r.status_code == 200, (query, r.json)
        assert [c["id"] for c in r.json["items"]] == [out["id"]], query
        assert r.json["items"][0]["phones"][0].count("*") == 4  # masked
    assert intake.get(f"/customers?phone={unique_phone()}", headers=auth("agent")).json == {
        "items": [],
        "page": 1,
        "per_page": 50,
        "total": 0,
    }
    other = new_customer()
    mismatch = f"phone={phone}&account_no={other['account_no']}"
    assert intake.get(f"/customers?{mismatch}", headers=auth("agent")).json["items"] == []


def test_there_is_no_listing_of_all_customers(intake, auth):
    for query in ("", "?phone=", "?region=Haidian", "?phone=abc"):
        r = intake.get(f"/customers{query}", headers=auth("supervisor"))
        assert r.status_code == 400 and r.is_json, query


def test_lookups_for_the_cases_code(service_db, cs_settings, created):
    body, out = created
    vault = Vault.from_settings(cs_settings)
    cid = uuid.UUID(out["id"])
    with service_db("intake").transaction() as tx:
        assert queries.find_id_by_account(tx, vault, body["account_no"].lower()) == cid
        assert queries.find_id_by_phone(tx, vault, body["phones"][0]) == cid
        assert queries.find_id_by_email(tx, vault, body["email"]) == cid
        assert queries.find_id_by_account(tx, vault, "ACC-NOBODY") is None
        assert queries.customer_exists(tx, cid) and not queries.customer_exists(tx, uuid.uuid4())


def test_a_shared_phone_names_no_single_customer(intake, auth, service_db, cs_settings):
    phone = unique_phone()
    ids = {
        intake.post("/customers", json=new_customer(phones=[phone]), headers=auth()).json["id"]
        for _ in range(2)
    }
    vault = Vault.from_settings(cs_settings)
    with service_db("intake").transaction() as tx:
        assert queries.find_id_by_phone(tx, vault, phone) is None
        assert {str(i) for i in queries.find_ids_by_phone(tx, vault, phone)} == ids
    r = intake.get(f"/customers?phone={phone}", headers=auth("agent"))
    assert {c["id"] for c in r.json["items"]} == ids


# --- update -----------------------------------------------------------------------------------


def test_patch_re_encrypts_and_re_indexes(intake, auth, make_token, created):
    body, out = created
    old_phone, new_phone = body["phones"][0], unique_phone()
    r = intake.patch(
        f"/customers/{out['id']}",
        json={
            "name": "欧阳娜娜",
            "phones": [new_phone],
            "email": None,
            "address": {"line": "朝阳路8号", "district": None},
        },
        headers=auth("agent"),
    )
    assert r.status_code == 200, r.json
    assert r.json["name"] == "欧***" and r.json["email"] is None
    assert r.json["address"] == {"region": "Haidian", "district": None, "line": "***"}
    assert r.json["updated_at"] > out["updated_at"]

    def found(query: str) -> list[str]:
        return [c["id"] for c in intake.get(f"/customers?{query}", headers=auth()).json["items"]]

    assert found(f"phone={new_phone}") == [out["id"]]
    assert found(f"phone={old_phone}") == []
    assert found(f"email={body['email']}") == []

    clear = intake.get(f"/customers/{out['id']}?reveal=true", headers=pii_headers(make_token))
    assert clear.json["name"] == "欧阳娜娜" and clear.json["phones"] == [new_phone]
    assert clear.json["address"]["line"] == "朝阳路8号"
    assert clear.json["id_number"] == ID_NUMBER  # untouched


def test_patch_to_a_taken_account_number_is_409_and_changes_nothing(intake, auth, created):
    body, out = created
    other = intake.post("/customers", json=new_customer(), headers=auth()).json
    r = intake.patch(
        f"/customers/{other['id']}",
        json={"account_no": body["account_no"], "name": "李四"},
        headers=auth("agent"),
    )
    assert r.status_code == 409 and r.is_json
    assert intake.get(f"/customers/{other['id']}", headers=auth()).json == other
    # keeping one's own number is no collision
    same = intake.patch(
        f"/customers/{out['id']}", json={"account_no": body["account_no"]}, headers=auth()
    )
    assert same.status_code == 200
    renamed = intake.patch(
        f"/customers/{out['id']}",
        json={"account_no": "acc-renamed-" + out["id"][:8]},
        headers=auth(),
    )
    assert renamed.json["account_no"] == "ACC-RENAMED-" + out["id"][:8].upper()


def test_patch_refuses_bad_values_without_echoing_them(intake, auth, created):
    _, out = created
    for change in ({"phones": ["9"]}, {"name": None}, {"address": {"region": None}}, {"x": 1}):
        r = intake.patch(f"/customers/{out['id']}", json=change, headers=auth("agent"))
        assert r.status_code == 422, change
    assert (
        intake.patch(f"/customers/{out['id']}", json={}, headers=auth("trainer")).status_code == 403
    )


# --- consent ----------------------------------------------------------------------------------


def test_consent_is_granted_withdrawn_and_kept_as_history(intake, auth, created, service_db):
    _, out = created
    base = f"/customers/{out['id']}/consents"
    may = intake.get(f"{base}/installation_contractor", headers=auth("agent"))
    assert may.status_code == 200
    assert may.json == {"purpose": "installation_contractor", "may_share": False, "since": None}

    granted = intake.post(
        base,
        json={
            "purpose": "installation_contractor",
            "granted": True,
            "channel": "hotline",
            "at": "2026-11-20T10:00:00+08:00",
        },
        headers=auth("agent", subject="agent-7"),
    )
    assert granted.status_code == 201, granted.json
    assert granted.json["granted"] is True and granted.json["recorded_by"] == "agent-7"
    may = intake.get(f"{base}/installation_contractor", headers=auth("agent")).json
    assert may["may_share"] is True and may["since"].startswith("2026-11-20T02:00:00")

    withdrawn = intake.post(
        base,
        json={"purpose": "installation_contractor", "granted": False, "channel": "online"},
        headers=auth("agent"),
    )
    assert withdrawn.status_code == 201
    intake.post(
        base,
        json={"purpose": "marketing_partner", "granted": True, "channel": "written"},
        headers=auth("agent"),
    )
    assert intake.get(f"{base}/installation_contractor", headers=auth()).json["may_share"] is False
    assert intake.get(f"{base}/marketing_partner", headers=auth()).json["may_share"] is True

    state = intake.get(base, headers=auth("agent")).json
    assert [(c["purpose"], c["may_share"]) for c in state["current"]] == [
        ("installation_contractor", False),
        ("marketing_partner", True),
    ]
    assert [(h["purpose"], h["granted"]) for h in state["history"]][-1] == (
        "installation_contractor",
        True,
    )
    assert len(state["history"]) == 3
    with (
        pytest.raises(psycopg.Error, match="append-only"),
        service_db("intake").transaction() as tx,
    ):
        tx.execute("DELETE FROM customer_consents WHERE customer_id = %s", (out["id"],))


def test_a_decision_dated_earlier_does_not_override_a_later_one(intake, auth, created):
    _, out = created
    base = f"/customers/{out['id']}/consents"
    for granted, at in ((False, "2026-11-21T09:00:00+08:00"), (True, "2026-11-01T09:00:00+08:00")):
        body = {"purpose": "installation_contractor", "granted": granted, "channel": "hotline"}
        assert intake.post(base, json=dict(body, at=at), headers=auth()).status_code == 201
    assert intake.get(f"{base}/installation_contractor", headers=auth()).json["may_share"] is False


@pytest.mark.parametrize(
    "body, field",
    [
        ({"purpose": "Installation Contractor"}, "purpose"),
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"granted": "perhaps"}, "granted"),
        ({"at": "2026-11-20T10:00:00"}, "at"),
        ({"at": "2099-01-01T10:00:00+08:00"}, "at"),
        ({"note": "x"}, "note"),
    ],
)
def test_bad_consent_input_is_422(intake, auth, created, body, field):
    _, out = created
    good = {"purpose": "installation_contractor", "granted": True, "channel": "hotline"}
    r = intake.post(f"/customers/{out['id']}/consents", json=dict(good, **body), headers=auth())
    assert r.status_code == 422 and field in invalid_fields(r.json), r.json


# --- key rotation -----------------------------------------------------------------------------


def run_rotate(monkeypatch, cs_settings, current: str, old: tuple[str, ...]) -> int:
    monkeypatch.setenv("DATABASE_URL", cs_settings.database_url)
    monkeypatch.setenv("CS_PII_KEY", current)
    monkeypatch.setenv("CS_PII_OLD_KEYS", ",".join(old))
    monkeypatch.setenv("CS_PII_INDEX_KEY", cs_settings.pii_index_key)
    return cli.main(["pii", "rotate", "--batch-size", "2"])


def test_keys_rotate_without_losing_data(
    intake, auth, service_db, cs_settings, monkeypatch, capsys
):
    key_a, key_b = cs_settings.pii_key, "rotation-test-key-B-" + uuid.uuid4().hex
    bodies = [new_customer() for _ in range(3)]
    ids = [uuid.UUID(intake.post("/customers", json=b, headers=auth()).json["id"]) for b in bodies]
    call = {
        "caller_number": bodies[0]["phones"][0],
        "agent_id": "A-7",
        "started_at": "2026-11-20T10:00:00+08:00",
    }
    assert intake.post("/channels/hotline/calls", json=call, headers=auth()).status_code == 201
    index_key = cs_settings.pii_index_key
    both = Vault(key_b, (key_a,), index_key=index_key)
    only_b = Vault(key_b, index_key=index_key)
    db = service_db("intake")

    def names(vault: Vault) -> list[str]:
        with db.transaction() as tx:
            return [queries.load_customer(tx, vault, i).name for i in ids]  # type: ignore[union-attr]

    try:
        assert names(both) == ["张伟"] * 3  # B current, A old: reads work before rotating
        with db.transaction() as tx:
            stale = keys.count_to_rotate(tx, both)
        assert stale >= 3

        assert run_rotate(monkeypatch, cs_settings, key_b, (key_a,)) == 0
        out = capsys.readouterr().out
        assert f"re-encrypted 2 of {stale}" in out and f"re-encrypted {stale} of {stale}" in out

        with db.transaction() as tx:
            assert keys.count_to_rotate(tx, only_b) == 0
            blobs = tx.execute(
                "SELECT name_enc FROM customers UNION ALL SELECT phone_enc FROM customer_phones"
                " UNION ALL SELECT caller_enc FROM calls UNION ALL SELECT sender_enc FROM emails"
            ).fetchall()
            assert {bytes(b[0][:4]) for b in blobs} == {only_b.current_key_id}
            # A is gone: the data reads with B alone, lookups (own key) still work
            assert queries.find_id_by_phone(tx, only_b, bodies[0]["phones"][0]) == ids[0]
            with pytest.raises(UnknownKeyError):
                queries.load_customer(tx, Vault(key_a, index_key=index_key), ids[0])
        assert names(only_b) == ["张伟"] * 3
        with db.transaction() as tx:
            clear = queries.load_customer(tx, only_b, ids[1])
        assert clear is not None and clear.phones == tuple(bodies[1]["phones"])
        assert clear.id_number == ID_NUMBER and clear.email == bodies[1]["email"]

        # a second run finds nothing to do
        assert run_rotate(monkeypatch, cs_settings, key_b, (key_a,)) == 0
        assert "done: 0" in capsys.readouterr().out
    finally:
        # back under the session's key, for every other test
        assert run_rotate(monkeypatch, cs_settings, key_a, (key_b,)) == 0
    assert names(Vault.from_settings(cs_settings)) == ["张伟"] * 3


def test_rotation_without_the_old_key_stops_clearly_and_changes_nothing(
    intake, auth, cs_settings, monkeypatch, capsys, service_db
):
    intake.post("/customers", json=new_customer(), headers=auth())
    assert run_rotate(monkeypatch, cs_settings, "some-unrelated-key", ()) == 1
    assert "CS_PII_OLD_KEYS" in capsys.readouterr().err
    with service_db("intake").transaction() as tx:
        assert keys.count_to_rotate(tx, Vault.from_settings(cs_settings)) == 0


def test_rotation_refuses_an_index_key_that_changed(intake, auth, cs_settings, monkeypatch, capsys):
    intake.post("/customers", json=new_customer(), headers=auth())
    monkeypatch.setenv("DATABASE_URL", cs_settings.database_url)
    monkeypatch.setenv("CS_PII_KEY", "new-key-" + uuid.uuid4().hex)
    monkeypatch.setenv("CS_PII_OLD_KEYS", cs_settings.pii_key)
    monkeypatch.setenv("CS_PII_INDEX_KEY", "not-the-index-key")
    assert cli.main(["pii", "rotate"]) == 1
    assert "CS_PII_INDEX_KEY" in capsys.readouterr().err
