"""Re-encrypting personal data under the current key (`cs pii rotate`, services/intake/cli.py).

One mechanism for every encrypted column: `_reencrypt` rewrites the values of some rows that
are not under the current key. Customers go in batches of whole customers (their phones with
them), counted for progress; callers' numbers and senders' addresses follow. Each batch commits
on its own, so a rotation is safe to interrupt and run again. Blind indexes are untouched: they
use their own key.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.intake.domain.vault import KEY_ID_LEN, Vault
from shared.db import Database, Transaction


@dataclass(frozen=True)
class Encrypted:
    """A table's encrypted columns and the columns that name one of its rows."""

    table: str
    key: tuple[str, ...]
    columns: tuple[str, ...]

    def stale(self, alias: str) -> str:
        """SQL: the row has a value not under the key `%(kid)s`."""
        return " OR ".join(
            f"substring({alias}.{c} FROM 1 FOR {KEY_ID_LEN}) <> %(kid)s" for c in self.columns
        )


CUSTOMERS = Encrypted(
    "customers",
    ("id",),
    ("account_no_enc", "name_enc", "id_number_enc", "email_enc", "address_line_enc"),
)
PHONES = Encrypted("customer_phones", ("customer_id", "position"), ("phone_enc",))
CHANNELS = (
    Encrypted("calls", ("id",), ("caller_enc",)),
    Encrypted("emails", ("id",), ("sender_enc",)),
)
# a customer is stale when any value of theirs is, their phones' too
_STALE_CUSTOMER = (
    f"({CUSTOMERS.stale('c')}) OR EXISTS (SELECT 1 FROM {PHONES.table} p"
    f" WHERE p.customer_id = c.id AND ({PHONES.stale('p')}))"
)


def _reencrypt(
    tx: Transaction, vault: Vault, of: Encrypted, where: str, params: dict[str, Any]
) -> int:
    """Re-encrypts under the current key the stale values of the rows of `of` that match
    `where` (SQL over alias `t`, with `params`); returns how many rows it rewrote."""
    key = ", ".join(of.key)
    rows = tx.all(
        f"SELECT {key}, {', '.join(of.columns)} FROM {of.table} t"
        f" WHERE ({where}) AND ({of.stale('t')}) ORDER BY {key} FOR UPDATE",
        dict(params, kid=vault.current_key_id),
    )
    match = " AND ".join(f"{k} = %({k})s" for k in of.key)
    for row in rows:
        fresh = {
            c: vault.encrypt(vault.decrypt(row[c]))
            for c in of.columns
            if row[c] is not None and vault.needs_rotation(row[c])
        }
        if fresh:
            assignments = ", ".join(f"{c} = %({c})s" for c in fresh)
            tx.execute(
                f"UPDATE {of.table} SET {assignments} WHERE {match}",
                dict(fresh, **{k: row[k] for k in of.key}),
            )
    return len(rows)


def count_to_rotate(tx: Transaction, vault: Vault) -> int:
    """Customers with any value not under the current key."""
    row = tx.one(
        f"SELECT count(*) AS n FROM customers c WHERE {_STALE_CUSTOMER}",
        {"kid": vault.current_key_id},
    )
    return int(row["n"]) if row else 0


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


def rotate_customers(
    db: Database,
    vault: Vault,
    *,
    batch_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Re-encrypts every stale customer (with their phones), `batch_size` customers per
    transaction. Returns (re-encrypted, found stale at the start)."""
    with db.transaction() as tx:
        total = count_to_rotate(tx, vault)
    done, after = 0, uuid.UUID(int=0)
    while True:
        with db.transaction() as tx:
            ids = [
                r["id"]
                for r in tx.all(
                    f"SELECT c.id FROM customers c WHERE c.id > %(after)s AND ({_STALE_CUSTOMER})"
                    " ORDER BY c.id LIMIT %(limit)s FOR UPDATE",
                    {"kid": vault.current_key_id, "after": after, "limit": batch_size},
                )
            ]
            if not ids:
                break
            _reencrypt(tx, vault, CUSTOMERS, "t.id = ANY(%(ids)s)", {"ids": ids})
            _reencrypt(tx, vault, PHONES, "t.customer_id = ANY(%(ids)s)", {"ids": ids})
        done, after = done + len(ids), ids[-1]
        if progress is not None:
            progress(done, total)
    return done, total


def rotate_channel_blobs(db: Database, vault: Vault, batch_size: int = 500) -> int:
    """Re-encrypts callers' numbers and senders' addresses not under the current key,
    `batch_size` rows per transaction; returns how many."""
    done = 0
    for of in CHANNELS:
        while True:
            with db.transaction() as tx:
                n = _reencrypt(
                    tx,
                    vault,
                    of,
                    f"t.{of.key[0]} IN (SELECT {of.key[0]} FROM {of.table} s"
                    f" WHERE {of.stale('s')} ORDER BY 1 LIMIT %(limit)s)",
                    {"limit": batch_size},
                )
            done += n
            if n < batch_size:
                break
    return done
