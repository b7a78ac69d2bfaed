"""Customers, their consent and the log of unmasked reads: the writes.

Every function takes the caller's `shared.db.Transaction` (one unit of work) and, where personal
values are read or written, the `Vault`. Personal values exist in clear only in memory, between
the vault and the response; the tables hold ciphertext and blind indexes. Nothing here logs.
Reads are in `queries.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from psycopg import errors

from services.intake import queries
from services.intake.domain import masking
from services.intake.domain.customers import PII_FIELDS, Customer, present
from services.intake.domain.vault import Vault
from shared.db import Transaction
from shared.errors import Conflict
from shared.logs import correlation_id


class DuplicateAccount(Conflict):
    """409: another customer already has this account number (the message names no number)."""

    def __init__(self) -> None:
        super().__init__("a customer with this account number exists")


def reveal(
    tx: Transaction,
    vault: Vault,
    customer_id: uuid.UUID,
    *,
    by: str,
    reason: str,
    fields: Iterable[str] = PII_FIELDS,
) -> dict[str, Any] | None:
    """The customer with `fields` in clear, and the access-log entry that says so.

    The entry is written in the caller's transaction: if it cannot be written, nothing is shown.
    """
    customer = queries.load_customer(tx, vault, customer_id)
    if customer is None:
        return None
    wanted = [f for f in PII_FIELDS if f in set(fields)]
    tx.execute(
        "INSERT INTO pii_access_log (accessed_by, customer_id, fields, reason, correlation_id,"
        " at) VALUES (%s, %s, %s, %s, %s, %s)",
        (by, customer_id, wanted, reason, correlation_id.get(), tx.now),
    )
    return present(customer, wanted)


def log_case_reveal(
    tx: Transaction,
    case_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    *,
    by: str,
    reason: str,
    fields: Iterable[str],
) -> None:
    """Records that `by` saw a case's text in clear (its customer too, when it has one)."""
    tx.execute(
        "INSERT INTO pii_access_log (accessed_by, customer_id, case_id, fields, reason,"
        " correlation_id, at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (by, customer_id, case_id, list(fields), reason, correlation_id.get(), tx.now),
    )


# --- writing ---------------------------------------------------------------------------------


def _encrypted(vault: Vault, value: str | None) -> bytes | None:
    return None if value is None else vault.encrypt(value)


def _unique_phones(phones: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for p in phones:
        seen.setdefault(masking.normalise_phone(p) or p, None)
    return list(seen)


def _write_phones(
    tx: Transaction, vault: Vault, customer_id: uuid.UUID, phones: Iterable[str]
) -> None:
    tx.execute("DELETE FROM customer_phones WHERE customer_id = %s", (customer_id,))
    for position, phone in enumerate(_unique_phones(phones)):
        tx.execute(
            "INSERT INTO customer_phones (customer_id, position, phone_enc, phone_index)"
            " VALUES (%s, %s, %s, %s)",
            (customer_id, position, vault.encrypt(phone), vault.blind_index("phone", phone)),
        )


def _account_taken(tx: Transaction, index: bytes, other_than: uuid.UUID | None = None) -> bool:
    row = tx.one(
        "SELECT 1 AS taken FROM customers WHERE account_no_index = %s AND id IS DISTINCT FROM %s",
        (index, other_than),
    )
    return row is not None


def create(tx: Transaction, vault: Vault, data: Mapping[str, Any], *, by: str) -> Customer:
    """Records a customer; `data` is validated and normalised (see api/customers.py).

    Raises DuplicateAccount when the account number is taken.
    """
    customer_id = uuid.uuid4()
    account_no = data["account_no"].strip().upper()
    account_index = vault.blind_index("account", account_no)
    if _account_taken(tx, account_index):
        raise DuplicateAccount()
    address = data["address"]
    email = data.get("email")
    try:
        tx.execute(
            """
            INSERT INTO customers (id, account_no_enc, account_no_index, name_enc, id_number_enc,
                                   email_enc, email_index, region, district, address_line_enc,
                                   created_by, created_at, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (
                customer_id,
                vault.encrypt(account_no),
                account_index,
                vault.encrypt(data["name"]),
                _encrypted(vault, data.get("id_number")),
                _encrypted(vault, email),
                None if email is None else vault.blind_index("email", email),
                address["region"],
                address.get("district"),
                _encrypted(vault, address.get("line")),
                by,
                tx.now,
                tx.now,
            ),
        )
    except errors.UniqueViolation:  # a concurrent create won the race
        raise DuplicateAccount() from None
    _write_phones(tx, vault, customer_id, data.get("phones") or ())
    customer = queries.load_customer(tx, vault, customer_id)
    assert customer is not None
    return customer


def update(
    tx: Transaction, vault: Vault, customer_id: uuid.UUID, changes: Mapping[str, Any]
) -> Customer | None:
    """Applies a partial update: given fields replace the stored ones, `None` clears optional
    ones (id_number, email, address.district, address.line); `phones` replaces the whole list.

    Returns None for an unknown customer; raises DuplicateAccount on a taken account number.
    """
    if tx.one("SELECT id FROM customers WHERE id = %s FOR UPDATE", (customer_id,)) is None:
        return None
    columns: dict[str, Any] = {}
    if "account_no" in changes:
        account_no = changes["account_no"].strip().upper()
        index = vault.blind_index("account", account_no)
        if _account_taken(tx, index, customer_id):
            raise DuplicateAccount()
        columns.update(account_no_enc=vault.encrypt(account_no), account_no_index=index)
    if "name" in changes:
        columns["name_enc"] = vault.encrypt(changes["name"])
    if "id_number" in changes:
        columns["id_number_enc"] = _encrypted(vault, changes["id_number"])
    if "email" in changes:
        email = changes["email"]
        columns["email_enc"] = _encrypted(vault, email)
        columns["email_index"] = None if email is None else vault.blind_index("email", email)
    address = changes.get("address") or {}
    for key, column in (("region", "region"), ("district", "district")):
        if key in address:
            columns[column] = address[key]
    if "line" in address:
        columns["address_line_enc"] = _encrypted(vault, address["line"])
    if "phones" in changes:
        _write_phones(tx, vault, customer_id, changes["phones"] or ())
    if columns or "phones" in changes:
        # column names come from the fixed set above, never from the request
        assignments = ", ".join(f"{c} = %({c})s" for c in columns)
        try:
            tx.execute(
                f"UPDATE customers SET {assignments}{', ' if columns else ''}updated_at"
                " = %(updated_at)s WHERE id = %(id)s",
                dict(columns, id=customer_id, updated_at=tx.now),
            )
        except errors.UniqueViolation:
            raise DuplicateAccount() from None
    return queries.load_customer(tx, vault, customer_id)


# --- consent ---------------------------------------------------------------------------------


def record_consent(
    tx: Transaction,
    customer_id: uuid.UUID,
    *,
    purpose: str,
    granted: bool,
    channel: str,
    at: datetime | None,
    by: str,
) -> dict[str, Any] | None:
    """Appends a grant or a withdrawal; None for an unknown customer. History is never changed."""
    if not queries.customer_exists(tx, customer_id):
        return None
    return tx.one(
        f"""
        INSERT INTO customer_consents (customer_id, purpose, granted, channel, decided_at,
                                       recorded_by, correlation_id, recorded_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        RETURNING {queries.CONSENT_COLUMNS}
        """,
        (customer_id, purpose, granted, channel, at or tx.now, by, correlation_id.get(), tx.now),
    )
