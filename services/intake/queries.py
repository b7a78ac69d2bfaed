"""Read-only SQL behind intake's GET endpoints."""

from __future__ import annotations

import uuid
from typing import Any

from shared.db import Database

_CASE_COLUMNS = """id, case_no, kind, channel, category, region, priority, customer_ref, content,
identity_verified, state, agent_id, received_at, opened_at, updated_at"""


def get_case(db: Database, case_id: uuid.UUID) -> dict[str, Any] | None:
    with db.transaction() as tx:
        return tx.one(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = %s", (case_id,))
