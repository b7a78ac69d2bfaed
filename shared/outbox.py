"""The transactional outbox: events are rows written in the business transaction.

Each service schema has an `outbox` table (shared migration 0001). Rows are claimed by the relay
in `seq` order while unpublished, never by tailing `seq > last_seen`: sequence numbers are
issued at insert, not commit, so a tail would skip a row that commits late.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import Connection

from shared.events.envelope import Event


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    event_id: str
    type: str
    subject: str
    body: bytes


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


_INSERT = "INSERT INTO outbox (event_id, type, subject, body) VALUES (%s, %s, %s, %s)"


def insert_events(conn: Connection, events: Sequence[Event]) -> None:
    rows = [(e.id, e.type, e.subject, e.to_json().decode()) for e in events]
    if len(rows) == 1:
        conn.execute(_INSERT, rows[0])  # the usual case: one round trip, no executemany setup
        return
    with conn.cursor() as cur:
        cur.executemany(_INSERT, rows)


def claim_unpublished(conn: Connection, limit: int) -> list[OutboxRow]:
    """The oldest unpublished rows, in write order (the caller holds the relay lock)."""
    rows = conn.execute(
        "SELECT seq, event_id::text, type, subject, body FROM outbox"
        " WHERE published_at IS NULL ORDER BY seq LIMIT %s",
        (limit,),
    ).fetchall()
    return [OutboxRow(*row[:4], row[4].encode()) for row in rows]


def mark_published(conn: Connection, seqs: Sequence[int]) -> None:
    conn.execute("UPDATE outbox SET published_at = now() WHERE seq = ANY(%s)", (list(seqs),))


def backlog(conn: Connection) -> tuple[int, float]:
    """(unpublished rows, age in seconds of the oldest one)."""
    count, age = conn.execute(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
        " FROM outbox WHERE published_at IS NULL"
    ).fetchone()
    return int(count), float(age)
