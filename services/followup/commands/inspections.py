"""Quality inspections: drawn from the quarter's cases and scored on the checklist."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.followup import queries
from services.followup.domain import (
    inspections,
)
from services.followup.domain.sampling import draw
from shared.db import Transaction
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.periods import Period

# --- quality inspections -----------------------------------------------------------------------


def draw_inspections(tx: Transaction, body: dict[str, Any], by: str, now: datetime) -> uuid.UUID:
    """A reproducible sample of resolved or closed cases of the period not inspected before."""
    quarter = Period.parse(body["period"], kinds=("quarter",))
    candidates = queries.inspection_candidates(tx, quarter, body["rule"])
    chosen = draw(candidates, body["size"], body["seed"])
    draw_id = uuid.uuid4()
    tx.execute(
        "INSERT INTO inspection_draws (id, rule, size, seed, period, drawn_by, drawn_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (draw_id, body["rule"], body["size"], body["seed"], str(quarter), by, now),
    )
    for case_id in chosen:
        # the agent who took the case at the front line, else who resolved it
        tx.execute(
            "INSERT INTO inspections (id, draw_id, case_id, agent_id, department, kind, category,"
            " state, created_at) SELECT %s, %s, case_id, coalesce(opened_by, resolved_by),"
            " department, kind, category, 'drawn', %s FROM cases WHERE case_id = %s",
            (uuid.uuid4(), draw_id, now, case_id),
        )
    return draw_id


def score_inspection(
    tx: Transaction, inspection_id: uuid.UUID, body: dict[str, Any], by: str, now: datetime
) -> None:
    """Scores a drawn case; never by the agent it inspects or whoever resolved the case."""
    row = tx.one(
        "SELECT i.state, i.agent_id, i.case_id, c.resolved_by FROM inspections i"
        " LEFT JOIN cases c ON c.case_id = i.case_id WHERE i.id = %s FOR UPDATE OF i",
        (inspection_id,),
    )
    if row is None:
        raise NotFound(f"no inspection {inspection_id}")
    if by in (row["agent_id"], row["resolved_by"]):
        raise Forbidden(
            f"{by} handled case {row['case_id']}: its inspection is scored by someone else"
        )
    if row["state"] != "drawn":
        raise Conflict("the inspection is scored already")
    problems = inspections.checklist_problems(body["checklist"])
    if problems:
        raise Invalid({"checklist": [f"{k}: {', '.join(v)}" for k, v in problems.items()]})
    tx.execute(
        "UPDATE inspections SET state = 'scored', checklist = %s, score = %s, findings = %s,"
        " scored_by = %s, scored_at = %s WHERE id = %s",
        (
            Jsonb(body["checklist"]),
            inspections.score(body["checklist"]),
            body.get("findings"),
            by,
            now,
            inspection_id,
        ),
    )
