"""The intake floor: bare Flask + psycopg_pool, one case row and one outbox row per request.

Run by gunicorn with the same settings as `cs serve` (gthread, 2 workers, 4 threads):
    FLOOR_DATABASE_URL=... gunicorn -k gthread -w 2 --threads 4 --chdir bench floor_app:app
"""

from __future__ import annotations

import json
import os
import uuid

from flask import Flask, jsonify, request
from psycopg_pool import ConnectionPool

SCHEMA = "bench_floor"
DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.cases (
    id uuid PRIMARY KEY, kind text NOT NULL, channel text NOT NULL, category text NOT NULL,
    region text NOT NULL, customer_ref text NOT NULL, content text NOT NULL,
    opened_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS {SCHEMA}.outbox (
    seq bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, type text NOT NULL,
    subject text NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz);
"""
FIELDS = ("kind", "channel", "category", "region", "customer_ref", "content")

app = Flask(__name__)
_pool: ConnectionPool | None = None


def pool() -> ConnectionPool:
    global _pool
    if _pool is None:  # opened lazily in each worker, after the fork
        _pool = ConnectionPool(
            os.environ.get("FLOOR_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/cs_bench"),
            min_size=1,
            max_size=8,
            kwargs={"options": f"-c search_path={SCHEMA}"},
        )
    return _pool


@app.post("/cases")
def open_case():  # type: ignore[no-untyped-def]
    body = request.get_json()
    case_id, event_id = uuid.uuid4(), uuid.uuid4()
    with pool().connection() as conn, conn.transaction():
        conn.execute(
            "INSERT INTO cases (id, kind, channel, category, region, customer_ref, content)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (case_id, *(body[f] for f in FIELDS)),
        )
        event = {"id": str(event_id), "type": "case.opened", "data": {"case_id": str(case_id)}}
        conn.execute(
            "INSERT INTO outbox (event_id, type, subject, body) VALUES (%s, %s, %s, %s)",
            (event_id, "case.opened", str(case_id), json.dumps(event)),
        )
    return jsonify(id=str(case_id), **{f: body[f] for f in FIELDS}), 201
