"""Intake's reads: the SQL behind its GET endpoints and the lookups its commands need."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from services.intake.domain.customers import Customer, present
from services.intake.domain.lifecycle import working_states
from services.intake.domain.vault import Vault
from shared import clock
from shared.auth import Caller
from shared.db import Database, Transaction
from shared.paging import fetch_page
from shared.scoping import Actor

_CASE_COLUMNS = """id, case_no, kind, channel, category, region, priority, customer_ref,
customer_id, content, identity_verified, identity_method, state, agent_id, received_at,
opened_at, updated_at, due_at, due_provisional, department, assignee_id, eta, first_contact,
resolution, resolved_by, resolved_at, closed_at, reopen_count, incident_id"""


def get_case(db: Database, case_id: uuid.UUID) -> dict[str, Any] | None:
    with db.transaction() as tx:
        return get_case_in(tx, case_id)


def get_case_in(tx: Transaction, case_id: uuid.UUID) -> dict[str, Any] | None:
    return tx.one(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = %s", (case_id,))


def list_cases(db: Database, filters: dict[str, Any], page: int, per_page: int) -> dict[str, Any]:
    """A page of cases, newest first, and how many match in all."""
    where, params = [], []
    for column in ("state", "kind", "channel", "category", "region", "department", "customer_id"):
        if filters.get(column) is not None:
            where.append(f"{column} = %s")
            params.append(filters[column])
    if filters.get("received_from"):
        where.append("received_at >= (%s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'")
        params.append(filters["received_from"])
    if filters.get("received_to"):
        # the whole last day counts (the day after is computed by PostgreSQL: 9999-12-31 has one)
        where.append("received_at < (%s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'")
        params.append(filters["received_to"])
    if filters.get("overdue") is not None:
        overdue = "(due_at < %s AND state = ANY(%s))"
        where.append(overdue if filters["overdue"] else f"NOT coalesce({overdue}, false)")
        params += [clock.now(), working_states()]
    with db.transaction() as tx:
        return fetch_page(
            tx,
            select=_CASE_COLUMNS,
            table="cases",
            where=where,
            params=params,
            order="received_at DESC, id",
            page=page,
            per_page=per_page,
        )


def timeline(db: Database, case_id: uuid.UUID) -> list[dict[str, Any]] | None:
    """The case's entries in time order, or None when there is no such case."""
    with db.transaction() as tx:
        if tx.one("SELECT 1 AS found FROM cases WHERE id = %s", (case_id,)) is None:
            return None
        return timeline_in(tx, case_id)


def timeline_in(tx: Transaction, case_id: uuid.UUID) -> list[dict[str, Any]]:
    return tx.all(
        "SELECT id, at, type, by, detail FROM case_timeline WHERE case_id = %s ORDER BY at, id",
        (case_id,),
    )


def acknowledgement(db: Database, case_id: uuid.UUID) -> dict[str, Any] | None:
    with db.transaction() as tx:
        return tx.one(
            "SELECT c.case_no, a.template, a.text, a.due_at, a.at FROM case_acknowledgements a"
            " JOIN cases c ON c.id = a.case_id WHERE a.case_id = %s ORDER BY a.id DESC LIMIT 1",
            (case_id,),
        )


def get_call(db: Database, call_id: uuid.UUID) -> dict[str, Any] | None:
    """A hotline call as `POST /channels/hotline/calls` answered it (no number in it)."""
    with db.transaction() as tx:
        return tx.one(
            "SELECT id, customer_id, customer_id IS NOT NULL AS matched, candidates, case_id,"
            " extract(epoch FROM ended_at - started_at)::int AS duration_s FROM calls"
            " WHERE id = %s",
            (call_id,),
        )


def actor(tx: Transaction, caller: Caller) -> Actor:
    """The caller with the department the staff directory gives them (None unless active)."""
    row = tx.one("SELECT department FROM staff WHERE staff_id = %s AND active", (caller.subject,))
    return Actor.of(caller, row["department"] if row else None)


# --- customers (decrypted with the vault; writes in commands/customers.py) ---------------------

_SELECT = """
SELECT id, account_no_enc, name_enc, id_number_enc, email_enc, region, district,
       address_line_enc, created_at, updated_at
FROM customers WHERE id = ANY(%s)
"""


def _load_many(tx: Transaction, vault: Vault, ids: Sequence[uuid.UUID]) -> list[Customer]:
    """The customers with these ids, decrypted, in the order of `ids` (missing ones skipped)."""
    if not ids:
        return []
    rows = {r["id"]: r for r in tx.all(_SELECT, (list(ids),))}
    phones: dict[uuid.UUID, list[str]] = {}
    for p in tx.all(
        "SELECT customer_id, phone_enc FROM customer_phones WHERE customer_id = ANY(%s)"
        " ORDER BY customer_id, position",
        (list(rows),),
    ):
        phones.setdefault(p["customer_id"], []).append(vault.decrypt(p["phone_enc"]))

    def clear(blob: bytes | None) -> str | None:
        return None if blob is None else vault.decrypt(blob)

    return [
        Customer(
            id=r["id"],
            account_no=vault.decrypt(r["account_no_enc"]),
            name=vault.decrypt(r["name_enc"]),
            phones=tuple(phones.get(r["id"], ())),
            id_number=clear(r["id_number_enc"]),
            email=clear(r["email_enc"]),
            region=r["region"],
            district=r["district"],
            address_line=clear(r["address_line_enc"]),
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )
        for r in (rows.get(i) for i in ids)
        if r is not None
    ]


def load_customer(tx: Transaction, vault: Vault, customer_id: uuid.UUID) -> Customer | None:
    found = _load_many(tx, vault, [customer_id])
    return found[0] if found else None


def get_masked_customer(
    tx: Transaction, vault: Vault, customer_id: uuid.UUID
) -> dict[str, Any] | None:
    customer = load_customer(tx, vault, customer_id)
    return None if customer is None else present(customer)


def customer_version(
    tx: Transaction, customer_id: uuid.UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    """What a customer's ETag is made of: the stored row and phones as they are. Ciphertexts:
    any change, even one the mask hides, gives a new ETag, and the ETag reveals nothing.
    `lock` holds the row until commit (before a change)."""
    return tx.one(
        "SELECT account_no_enc, name_enc, id_number_enc, email_enc, region, district,"
        " address_line_enc, updated_at, ARRAY(SELECT phone_enc FROM customer_phones p"
        " WHERE p.customer_id = c.id ORDER BY position) AS phones"
        " FROM customers c WHERE id = %s" + (" FOR UPDATE OF c" if lock else ""),
        (customer_id,),
    )


def customer_exists(tx: Transaction, customer_id: uuid.UUID) -> bool:
    return tx.one("SELECT 1 AS found FROM customers WHERE id = %s", (customer_id,)) is not None


# --- lookups by blind index ------------------------------------------------------------------


def find_id_by_account(tx: Transaction, vault: Vault, account_no: str) -> uuid.UUID | None:
    """The customer with this account number (case and surrounding blanks ignored), or None."""
    row = tx.one(
        "SELECT id FROM customers WHERE account_no_index = %s",
        (vault.blind_index("account", account_no),),
    )
    return None if row is None else row["id"]


def find_ids_by_phone(tx: Transaction, vault: Vault, phone: str) -> list[uuid.UUID]:
    """Every customer with this phone number (a household may share one), oldest first."""
    return [
        r["customer_id"]
        for r in tx.all(
            "SELECT p.customer_id FROM customer_phones p JOIN customers c ON c.id = p.customer_id"
            " WHERE p.phone_index = %s ORDER BY c.created_at, c.id",
            (vault.blind_index("phone", phone),),
        )
    ]


def find_ids_by_email(tx: Transaction, vault: Vault, email: str) -> list[uuid.UUID]:
    return [
        r["id"]
        for r in tx.all(
            "SELECT id FROM customers WHERE email_index = %s ORDER BY created_at, id",
            (vault.blind_index("email", email),),
        )
    ]


def find_id_by_phone(tx: Transaction, vault: Vault, phone: str) -> uuid.UUID | None:
    """The one customer with this phone number; None when there is none *or several*.

    A shared number cannot name a customer: guessing one would attach a case to the wrong
    person. Use `find_ids_by_phone` to tell "none" from "several".
    """
    ids = find_ids_by_phone(tx, vault, phone)
    return ids[0] if len(ids) == 1 else None


def find_id_by_email(tx: Transaction, vault: Vault, email: str) -> uuid.UUID | None:
    """Like `find_id_by_phone`: None when no customer or several have this address."""
    ids = find_ids_by_email(tx, vault, email)
    return ids[0] if len(ids) == 1 else None


def search_customers(
    tx: Transaction,
    vault: Vault,
    page: int,
    per_page: int,
    *,
    phone: str | None = None,
    account_no: str | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    """A page of the masked customers matching every criterion given (at least one is
    required), oldest first, and how many match in all."""
    candidates: list[set[uuid.UUID]] = []
    if account_no is not None:
        found = find_id_by_account(tx, vault, account_no)
        candidates.append({found} if found else set())
    if phone is not None:
        candidates.append(set(find_ids_by_phone(tx, vault, phone)))
    if email is not None:
        candidates.append(set(find_ids_by_email(tx, vault, email)))
    if not candidates:
        raise ValueError("search needs a phone number, an account number or an e-mail address")
    found = fetch_page(
        tx,
        select="id",
        table="customers",
        where=["id = ANY(%s)"],
        params=[list(set.intersection(*candidates))],
        order="created_at, id",
        page=page,
        per_page=per_page,
    )
    customers = _load_many(tx, vault, [r["id"] for r in found["items"]])
    return dict(found, items=[present(c) for c in customers])


# --- consent ---------------------------------------------------------------------------------

CONSENT_COLUMNS = "id, purpose, granted, channel, decided_at AS at, recorded_at, recorded_by"


def consents(tx: Transaction, customer_id: uuid.UUID) -> dict[str, Any] | None:
    """The current decision per purpose (the latest one) and the whole history, newest first."""
    if not customer_exists(tx, customer_id):
        return None
    history = tx.all(
        f"SELECT {CONSENT_COLUMNS} FROM customer_consents WHERE customer_id = %s"
        " ORDER BY decided_at DESC, id DESC",
        (customer_id,),
    )
    current: dict[str, dict[str, Any]] = {}
    for row in history:
        current.setdefault(
            row["purpose"],
            {
                "purpose": row["purpose"],
                "may_share": row["granted"],
                "since": row["at"],
                "channel": row["channel"],
            },
        )
    return {"current": sorted(current.values(), key=lambda c: c["purpose"]), "history": history}


def may_share(tx: Transaction, customer_id: uuid.UUID, purpose: str) -> dict[str, Any] | None:
    """May this customer's data go to a third party for `purpose`? The latest decision says;
    without any decision the answer is no. None for an unknown customer.
    """
    if not customer_exists(tx, customer_id):
        return None
    latest = tx.one(
        "SELECT granted, decided_at FROM customer_consents WHERE customer_id = %s"
        " AND purpose = %s ORDER BY decided_at DESC, id DESC LIMIT 1",
        (customer_id, purpose),
    )
    return {
        "purpose": purpose,
        "may_share": bool(latest and latest["granted"]),
        "since": latest["decided_at"] if latest else None,
    }


# --- access log ------------------------------------------------------------------------------


def access_log(
    tx: Transaction,
    *,
    page: int,
    per_page: int,
    customer_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    by: str | None = None,
) -> dict[str, Any]:
    """A page of unmasked reads, newest first, optionally of one customer, one case and/or by
    one caller, and how many there are in all."""
    where, params = [], []
    for column, value in (("customer_id", customer_id), ("case_id", case_id), ("accessed_by", by)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    return fetch_page(
        tx,
        select="id, at, accessed_by AS by, customer_id, case_id, fields, reason, correlation_id",
        table="pii_access_log",
        where=where,
        params=params,
        order="at DESC, id DESC",
        page=page,
        per_page=per_page,
    )
