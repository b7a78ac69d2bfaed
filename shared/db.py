"""Database access: one connection pool per process, and the unit of work.

The pool opens lazily in the process that first uses it, so gunicorn workers (forked from the
master) each get their own. `Database.transaction()` is the one way to write: business rows and
outgoing events (`tx.emit`) commit together or not at all; rollback is the default on error.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from psycopg import Connection, Cursor
from psycopg.pq import ExecStatus
from psycopg.rows import RowFactory, dict_row, tuple_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from shared import clock
from shared.config import Settings
from shared.events.envelope import Event
from shared.outbox import insert_events


@functools.cache
def _rows_sql(sql: str, columns: tuple[tuple[str, str], ...], many: bool) -> str:
    if many:
        typed = ", ".join(f"{name} {t}" for name, t in columns)
        source = f"json_to_recordset(%s::json) AS r({typed})"
    else:
        values = ", ".join(f"%s::{t}" for _, t in columns)
        source = f"(VALUES ({values})) AS r({', '.join(name for name, _ in columns)})"
    return sql.replace("{rows}", source)


def _json_value(value: Any) -> Any:
    """What orjson cannot write itself, as PostgreSQL reads it from a JSON string or value."""
    if isinstance(value, bytes):
        return "\\x" + value.hex()  # bytea's hex input format
    if isinstance(value, Jsonb):
        return value.obj
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a row value")


class Transaction:
    """One database transaction; events emitted here leave only if it commits."""

    def __init__(self, conn: Connection, schema: str, settings: Settings) -> None:
        self.conn = conn
        self.schema = schema
        self.settings = settings
        # values a use case reads at most once per transaction (e.g. a version stamp)
        self.memo: dict[str, Any] = {}
        self._events: list[Event] = []
        self._now: datetime | None = None

    @property
    def now(self) -> datetime:
        """The instant this unit of work happens at (the one clock, read once): what stamps
        `updated_at` and any other fact the caller does not date itself."""
        if self._now is None:
            self._now = clock.now()
        return self._now

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Cursor:
        return self.conn.execute(sql, params)

    def with_rows(
        self,
        sql: str,
        columns: Mapping[str, str],
        rows: Sequence[Mapping[str, Any]],
        row_factory: RowFactory = tuple_row,
    ) -> list:
        """Runs `sql` over `rows` (a batch of cases, or one): where it says `{rows}` they come
        as a table `r` with `columns` (name -> PostgreSQL type), one row as VALUES and many as
        one JSON array (`json_to_recordset`). VALUES keep a single row as cheap as a plain
        statement (PostgreSQL plans a set-returning source anew on every execution, which
        doubled the CPU of a single row); one JSON text, written by orjson, keeps a batch's
        statement the same whatever its size and costs the client a fifth of psycopg dumping
        an array per column. Returns what it returns (rows made by `row_factory`), else an
        empty list."""
        names = tuple(columns)
        if len(rows) == 1:
            params = [rows[0][c] for c in names]
        else:
            batch = [{c: row[c] for c in names} for row in rows]
            params = [orjson.dumps(batch, default=_json_value).decode()]
        sql = _rows_sql(sql, tuple(columns.items()), len(rows) > 1)
        with self.conn.cursor(row_factory=row_factory) as cur:
            cur.execute(sql, params)
            returned = cur.pgresult is not None and cur.pgresult.status == ExecStatus.TUPLES_OK
            return cur.fetchall() if returned else []

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> dict | None:
        with self.conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[dict]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(sql, params).fetchall()

    def emit(self, event: Event) -> None:
        """Queues an event for the outbox; it is written just before commit."""
        self._events.append(event)

    def flush_events(self) -> None:
        if self._events:
            insert_events(self.conn, self._events)  # a trigger wakes the relay at commit
            self._events.clear()


class Database:
    """A service's view of PostgreSQL: its own role, its own schema."""

    def __init__(self, settings: Settings, service: str, *, max_size: int | None = None) -> None:
        self.service = service
        self.schema = service
        self.settings = settings
        self.url = settings.service_database_url(service)
        self.min_size = settings.db_pool_min
        self.max_size = max_size or settings.db_pool_max
        self._pool: ConnectionPool | None = None
        self._pid: int | None = None

    def connect_kwargs(self) -> dict[str, Any]:
        return {"options": f"-c search_path={self.schema}", "application_name": self.service}

    @property
    def pool(self) -> ConnectionPool:
        if self._pool is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self._pool = ConnectionPool(
                self.url,
                min_size=self.min_size,
                max_size=max(self.min_size, self.max_size),
                kwargs=self.connect_kwargs(),
                open=True,
                name=f"{self.service}-{self._pid}",
                timeout=self.settings.db_pool_timeout_s,
            )
        return self._pool

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        try:
            with self.pool.connection() as conn, conn.transaction():
                tx = Transaction(conn, self.schema, self.settings)
                yield tx
                tx.flush_events()
        except psycopg.OperationalError:
            # the server went away or cut us off: the pool's other idle connections are likely
            # dead too; drop them now so the next caller gets a fresh one (no check per request)
            self.discard_broken()
            raise

    def discard_broken(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.check()

    def connect(self, **kwargs: Any) -> Connection:
        """A connection outside the pool, for long-lived work (relay, LISTEN)."""
        return Connection.connect(self.url, **self.connect_kwargs(), **kwargs)

    def close(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None

    def ping(self) -> None:
        with self.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
