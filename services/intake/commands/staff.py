"""Intake's copy of the staff directory, from `staff.upserted`: the department of each active
member, which the object rules need (shared/scoping.py). The token says who a caller is and
their roles; only the directory says where they work (queries.actor)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared import staff_projection
from shared.db import Transaction


def record(tx: Transaction, data: dict[str, Any], as_of: datetime) -> None:
    """The latest word on a member of staff wins; an older event arriving late is ignored."""
    staff_projection.apply(tx, data, as_of)
