"""The transactional outbox: events are rows written in the business transaction.

Each service schema has an `outbox` table (shared migration 0001). Rows are claimed by the relay
in `seq` order while unpublished, never by tailing `seq > last_seen`: sequence numbers are
issued at insert, not commit, so a tail would skip a row that commits late.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from orjson import Fragment
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
# many events in one statement: one JSON array, each body in it as written (`json` keeps the
# text as it came, so `body::text` is the event's own JSON, byte for byte), `seq` in its order
_INSERT_MANY = (
    "INSERT INTO outbox (event_id, type, subject, body)"
    " SELECT event_id, type, subject, body::text"
    " FROM ROWS FROM (json_to_recordset(%s::json)"
    " AS (event_id uuid, type text, subject text, body json)) WITH ORDINALITY AS r"
    " ORDER BY r.ordinality"
)


def insert_events(conn: Connection, events: Sequence[Event]) -> None:
    if len(events) == 1:
        e = events[0]  # the usual case (one request): a plain statement, prepared once
        conn.execute(_INSERT, (e.id, e.type, e.subject, e.to_json().decode()))
        return
    rows = [
        {"event_id": e.id, "type": e.type, "subject": e.subject, "body": Fragment(e.to_json())}
        for e in events
    ]
    conn.execute(_INSERT_MANY, (orjson.dumps(rows).decode(),))


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
