"""Read-only SQL behind intake's GET endpoints."""

from __future__ import annotations

import uuid
from typing import Any

from shared import clock
from shared.db import Database, Transaction
from shared.paging import fetch_page

_CASE_COLUMNS = """id, case_no, kind, channel, category, region, priority, customer_ref,
customer_id, content, identity_verified, identity_method, state, agent_id, received_at,
opened_at, updated_at, due_at, due_provisional, department, assignee_id, eta, first_contact,
resolution, resolved_by, resolved_at, closed_at, reopen_count"""
_OPEN_STATES = ("open", "reopened", "transferred", "in_department")


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
        params += [clock.now(), list(_OPEN_STATES)]
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
