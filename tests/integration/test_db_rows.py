"""`Transaction.with_rows`: one row and a batch reach PostgreSQL with the same values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

COLUMNS = {
    "id": "uuid",
    "name": "text",
    "n": "int",
    "flag": "bool",
    "at": "timestamptz",
    "ratio": "numeric",
    "secret": "bytea",
    "detail": "jsonb",
}
TABLE = "CREATE TEMP TABLE rows_seen ({}) ON COMMIT DROP".format(
    ", ".join(f"{name} {t}" for name, t in COLUMNS.items())
)
INSERT = "INSERT INTO rows_seen SELECT * FROM {rows} RETURNING id, n"


def _row(i: int) -> dict:
    return {
        "id": uuid.uuid4(),
        "name": f'quote " backslash \\ 工单 {i}',
        "n": i,
        "flag": i % 2 == 0,
        "at": datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC) + timedelta(days=i),
        "ratio": Decimal("0.75") + i,
        "secret": bytes([0, 255, i]),
        "detail": Jsonb({"i": i, "nested": [None, True, "x"]}),
    }


def _seen(tx) -> list[dict]:  # type: ignore[no-untyped-def]
    with tx.conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM rows_seen ORDER BY n").fetchall()


def _expected(rows: list[dict]) -> list[dict]:
    return [dict(r, detail=r["detail"].obj) for r in rows]


def test_a_batch_arrives_as_given_and_returns_what_the_statement_returns(service_db):
    rows = [_row(i) for i in range(5)]
    rows[3] |= {"name": None, "flag": None, "at": None, "ratio": None, "secret": None}
    with service_db("intake").transaction() as tx:
        tx.execute(TABLE)
        returned = tx.with_rows(INSERT, COLUMNS, rows)
        assert sorted(returned, key=lambda r: r[1]) == [(r["id"], r["n"]) for r in rows]
        assert _seen(tx) == _expected(rows)


def test_one_row_arrives_as_a_batch_would(service_db):
    row = _row(7)
    with service_db("intake").transaction() as tx:
        tx.execute(TABLE)
        assert tx.with_rows(INSERT, COLUMNS, [row]) == [(row["id"], 7)]
        assert _seen(tx) == _expected([row])


def test_a_statement_that_returns_nothing_gives_an_empty_list(service_db):
    with service_db("intake").transaction() as tx:
        tx.execute(TABLE)
        sql = "INSERT INTO rows_seen SELECT * FROM {rows}"
        assert tx.with_rows(sql, COLUMNS, [_row(1), _row(2)]) == []
        assert [r["n"] for r in _seen(tx)] == [1, 2]
