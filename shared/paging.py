"""Pages of a list endpoint: the `page` / `per_page` query fields, the page envelope, the SQL.

Every list endpoint answers `{"items", "page", "per_page", "total"}`, newest or most urgent
first, with `total` counting every match so a client knows when to stop.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from shared.db import Transaction

# bounded: (page - 1) * per_page is an OFFSET, a bigint in PostgreSQL
MAX_PAGE = 1_000_000


def page_field() -> fields.Int:
    return fields.Int(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


def per_page_field() -> fields.Int:
    return fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


def page_of(item: type[Schema]) -> type[Schema]:
    """The page envelope around `item` (`CaseOut` gives `CasePageOut`)."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "page": fields.Int(),
            "per_page": fields.Int(),
            "total": fields.Int(),
        },
        name=f"{item.__name__.removesuffix('Out')}PageOut",
    )


def fetch_page(
    tx: Transaction,
    *,
    select: str,
    table: str,
    where: list[str],
    params: list[Any],
    order: str,
    page: int,
    per_page: int,
) -> dict[str, Any]:
    """One page of `SELECT select FROM table WHERE where... ORDER BY order`, and the total."""
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    total = tx.execute(f"SELECT count(*) FROM {table} {clause}", params).fetchone()[0]
    items = tx.all(
        f"SELECT {select} FROM {table} {clause} ORDER BY {order} LIMIT %s OFFSET %s",
        [*params, per_page, (page - 1) * per_page],
    )
    return {"items": items, "page": page, "per_page": per_page, "total": total}
