"""Customers, their consent and the log of unmasked reads: SQL and use cases.

Every function takes the caller's `shared.db.Transaction` (one unit of work) and, where personal
values are read or written, the `Vault`. Personal values exist in clear only in memory, between
the vault and the response; the tables hold ciphertext and blind indexes. Nothing here logs.

For the cases code: `find_id_by_phone`, `find_id_by_email` and `exists` resolve a customer
reference to the opaque id that may travel in events. (Opening a case by account number looks
the customer up inside its insert, by the same blind index: `commands.open_case`.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import errors

from services.intake.domain import masking
from services.intake.vault import Vault
from shared.db import Database, Transaction
from shared.logs import correlation_id

# the personal fields a caller may ask to see unmasked (the access log names these)
PII_FIELDS = ("name", "phones", "id_number", "email", "address.line")
SEARCH_LIMIT = 50


class DuplicateAccount(Exception):
    """Another customer already has this account number (the message names no number)."""

    def __init__(self) -> None:
        super().__init__("a customer with this account number exists")


@dataclass(frozen=True)
class Customer:
    """One customer, decrypted: lives only for the length of a request."""

    id: uuid.UUID
    account_no: str
    name: str
    phones: tuple[str, ...]
    id_number: str | None
    email: str | None
    region: str
    district: str | None
    address_line: str | None
    created_at: datetime
    updated_at: datetime


# --- reading ---------------------------------------------------------------------------------

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


def load(tx: Transaction, vault: Vault, customer_id: uuid.UUID) -> Customer | None:
    found = _load_many(tx, vault, [customer_id])
    return found[0] if found else None


def present(customer: Customer, revealed: Collection[str] = ()) -> dict[str, Any]:
    """The API's view of a customer: every personal field masked except those in `revealed`."""

    def show(name: str, value: str | None, mask: Callable[[str], str]) -> str | None:
        if value is None:
            return None
        return value if name in revealed else mask(value)

    phones = list(customer.phones)
    return {
        "id": customer.id,
        "account_no": customer.account_no,
        "name": show("name", customer.name, masking.mask_name),
        "phones": phones if "phones" in revealed else [masking.mask_phone(p) for p in phones],
        "id_number": show("id_number", customer.id_number, masking.mask_id_number),
        "email": show("email", customer.email, masking.mask_email),
        "address": {
            "region": customer.region,
            "district": customer.district,
            "line": show("address.line", customer.address_line, masking.mask_address_line),
        },
        "revealed": [f for f in PII_FIELDS if f in revealed],
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def get_masked(tx: Transaction, vault: Vault, customer_id: uuid.UUID) -> dict[str, Any] | None:
    customer = load(tx, vault, customer_id)
    return None if customer is None else present(customer)


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
    customer = load(tx, vault, customer_id)
    if customer is None:
        return None
    wanted = [f for f in PII_FIELDS if f in set(fields)]
    tx.execute(
        "INSERT INTO pii_access_log (accessed_by, customer_id, fields, reason, correlation_id,"
        " at) VALUES (%s, %s, %s, %s, %s, %s)",
        (by, customer_id, wanted, reason, correlation_id.get(), tx.now),
    )
    return present(customer, wanted)


def version(
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


def exists(tx: Transaction, customer_id: uuid.UUID) -> bool:
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
            " WHERE p.phone_index = %s ORDER BY c.created_at, c.id LIMIT %s",
            (vault.blind_index("phone", phone), SEARCH_LIMIT),
        )
    ]


def find_ids_by_email(tx: Transaction, vault: Vault, email: str) -> list[uuid.UUID]:
    return [
        r["id"]
        for r in tx.all(
            "SELECT id FROM customers WHERE email_index = %s ORDER BY created_at, id LIMIT %s",
            (vault.blind_index("email", email), SEARCH_LIMIT),
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


def search(
    tx: Transaction,
    vault: Vault,
    *,
    phone: str | None = None,
    account_no: str | None = None,
    email: str | None = None,
) -> list[dict[str, Any]]:
    """Masked customers matching every criterion given (at least one is required)."""
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
    ids = sorted(set.intersection(*candidates))
    customers = sorted(_load_many(tx, vault, ids), key=lambda c: (c.created_at, c.id))
    return [present(c) for c in customers]


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
    customer = load(tx, vault, customer_id)
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
    return load(tx, vault, customer_id)


# --- consent ---------------------------------------------------------------------------------

_CONSENT_COLUMNS = "id, purpose, granted, channel, decided_at AS at, recorded_at, recorded_by"


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
    if not exists(tx, customer_id):
        return None
    return tx.one(
        f"""
        INSERT INTO customer_consents (customer_id, purpose, granted, channel, decided_at,
                                       recorded_by, correlation_id, recorded_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        RETURNING {_CONSENT_COLUMNS}
        """,
        (customer_id, purpose, granted, channel, at or tx.now, by, correlation_id.get(), tx.now),
    )


def consents(tx: Transaction, customer_id: uuid.UUID) -> dict[str, Any] | None:
    """The current decision per purpose (the latest one) and the whole history, newest first."""
    if not exists(tx, customer_id):
        return None
    history = tx.all(
        f"SELECT {_CONSENT_COLUMNS} FROM customer_consents WHERE customer_id = %s"
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
    if not exists(tx, customer_id):
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
    customer_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    by: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Unmasked reads, newest first, optionally of one customer, one case and/or by one caller."""
    return tx.all(
        """
        SELECT id, at, accessed_by AS by, customer_id, case_id, fields, reason, correlation_id
        FROM pii_access_log
        WHERE (%(customer_id)s::uuid IS NULL OR customer_id = %(customer_id)s)
          AND (%(case_id)s::uuid IS NULL OR case_id = %(case_id)s)
          AND (%(by)s::text IS NULL OR accessed_by = %(by)s)
        ORDER BY at DESC, id DESC
        LIMIT %(limit)s
        """,
        {"customer_id": customer_id, "case_id": case_id, "by": by, "limit": limit},
    )


# --- key rotation ----------------------------------------------------------------------------

_ENCRYPTED_COLUMNS = (
    "account_no_enc",
    "name_enc",
    "id_number_enc",
    "email_enc",
    "address_line_enc",
)
_STALE = " OR ".join(
    f"substring(c.{col} FROM 1 FOR 4) <> %(kid)s" for col in _ENCRYPTED_COLUMNS
) + (
    " OR EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.id"
    " AND substring(p.phone_enc FROM 1 FOR 4) <> %(kid)s)"
)


def count_to_rotate(tx: Transaction, vault: Vault) -> int:
    """Customers with any value not under the current key."""
    row = tx.one(
        f"SELECT count(*) AS n FROM customers c WHERE {_STALE}", {"kid": vault.current_key_id}
    )
    return int(row["n"]) if row else 0


def reencrypt_batch(
    tx: Transaction, vault: Vault, after: uuid.UUID, limit: int
) -> tuple[int, uuid.UUID | None]:
    """Re-encrypts up to `limit` stale customers with ids above `after`, under the current key.

    Returns how many were rewritten and the last id seen (None when there are no more).
    Blind indexes are untouched: they use their own key.
    """
    rows = tx.all(
        f"SELECT c.id, {', '.join(_ENCRYPTED_COLUMNS)} FROM customers c"
        f" WHERE c.id > %(after)s AND ({_STALE}) ORDER BY c.id LIMIT %(limit)s FOR UPDATE",
        {"kid": vault.current_key_id, "after": after, "limit": limit},
    )
    for row in rows:
        fresh = {
            col: vault.encrypt(vault.decrypt(row[col]))
            for col in _ENCRYPTED_COLUMNS
            if row[col] is not None and vault.needs_rotation(row[col])
        }
        if fresh:
            assignments = ", ".join(f"{c} = %({c})s" for c in fresh)
            tx.execute(
                f"UPDATE customers SET {assignments} WHERE id = %(id)s", dict(fresh, id=row["id"])
            )
        for phone in tx.all(
            "SELECT position, phone_enc FROM customer_phones WHERE customer_id = %s",
            (row["id"],),
        ):
            if vault.needs_rotation(phone["phone_enc"]):
                tx.execute(
                    "UPDATE customer_phones SET phone_enc = %s"
                    " WHERE customer_id = %s AND position = %s",
                    (
                        vault.encrypt(vault.decrypt(phone["phone_enc"])),
                        row["id"],
                        phone["position"],
                    ),
                )
    return len(rows), (rows[-1]["id"] if rows else None)


def index_key_matches(tx: Transaction, vault: Vault) -> bool | None:
    """Whether the vault's index key built the stored blind indexes (None: no customers yet).

    CS_PII_INDEX_KEY defaults to CS_PII_KEY: changing the latter without pinning the former
    would silently break every lookup by phone, account or e-mail.
    """
    row = tx.one("SELECT account_no_enc, account_no_index FROM customers LIMIT 1")
    if row is None:
        return None
    account_no = vault.decrypt(row["account_no_enc"])
    return vault.blind_index("account", account_no) == bytes(row["account_no_index"])


def rotate(
    db: Database,
    vault: Vault,
    *,
    batch_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Re-encrypts every stale customer under the current key, one transaction per batch.

    Safe to interrupt and run again (each batch commits on its own; done rows are not stale
    any more). Returns (re-encrypted, found stale at the start).
    """
    with db.transaction() as tx:
        total = count_to_rotate(tx, vault)
    done, after = 0, uuid.UUID(int=0)
    while True:
        with db.transaction() as tx:
            n, last = reencrypt_batch(tx, vault, after, batch_size)
        if last is None:
            break
        done, after = done + n, last
        if progress is not None:
            progress(done, total)
    return done, total
