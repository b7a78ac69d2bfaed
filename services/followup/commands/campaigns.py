"""Satisfaction campaigns: created, drawn (a reproducible sample) and answered."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.followup import queries
from services.followup.commands import SOURCE
from services.followup.domain import (
    assignment,
    campaigns,
)
from services.followup.domain.sampling import draw
from shared.db import Transaction
from shared.errors import Conflict, Invalid, NotFound
from shared.events import new_event
from shared.periods import Period

# --- campaigns ---------------------------------------------------------------------------------


def create_campaign(tx: Transaction, body: dict[str, Any], by: str) -> uuid.UUID:
    problems = campaigns.question_problems(body["questions"])
    if problems:
        raise Invalid({"questions": problems})
    campaign_id = uuid.uuid4()
    target = dict(body["target"])
    target.setdefault("cases_period", body["period"])
    tx.execute(
        "INSERT INTO campaigns (id, name, period, questions, target, created_by, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            campaign_id,
            body["name"],
            body["period"],
            Jsonb(body["questions"]),
            Jsonb(target),
            by,
            tx.now,
        ),
    )
    return campaign_id


def _campaign(tx: Transaction, campaign_id: uuid.UUID) -> dict[str, Any]:
    campaign = tx.one("SELECT * FROM campaigns WHERE id = %s FOR UPDATE", (campaign_id,))
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def draw_campaign(
    tx: Transaction, campaign_id: uuid.UUID, seed: int, by: str, now: datetime
) -> None:
    """Draws the campaign's sample once: customers with cases in the target period (and region,
    category), never one on the do-not-call list; one call task each."""
    campaign = _campaign(tx, campaign_id)
    if campaign["drawn_at"] is not None:
        raise Conflict(f"campaign {campaign_id} was drawn already (seed {campaign['seed']})")
    target = campaign["target"]
    candidates = queries.campaign_candidates(
        tx,
        Period.parse(target["cases_period"], kinds=("quarter",)),
        region=target.get("region"),
        category=target.get("category"),
    )
    chosen = draw(candidates, target["size"], seed)
    agents = assignment.spread(queries.agent_loads(tx), len(chosen))
    for position, (customer_id, agent) in enumerate(zip(chosen, agents, strict=True), start=1):
        tx.execute(
            "INSERT INTO campaign_tasks (id, campaign_id, position, customer_id, agent_id, state,"
            " created_at) VALUES (%s, %s, %s, %s, %s, 'due', %s)",
            (uuid.uuid4(), campaign_id, position, customer_id, agent, now),
        )
    tx.execute(
        "UPDATE campaigns SET seed = %s, drawn_at = %s, drawn_by = %s WHERE id = %s",
        (seed, now, by, campaign_id),
    )


def record_response(
    tx: Transaction, campaign_id: uuid.UUID, body: dict[str, Any], by: str, now: datetime
) -> uuid.UUID:
    """A drawn customer's answers; tagged suggestions go to their departments as feedback."""
    campaign = _campaign(tx, campaign_id)
    task = tx.one(
        "SELECT * FROM campaign_tasks WHERE id = %s AND campaign_id = %s FOR UPDATE",
        (body["task_id"], campaign_id),
    )
    if task is None:
        raise Invalid({"task_id": ["not a call task of this campaign"]})
    if task["state"] != "due":
        raise Conflict(f"the call task is {task['state']}")
    problems = campaigns.answer_problems(campaign["questions"], body["answers"])
    if problems:
        raise Invalid({"answers": problems})
    answers = campaigns.as_kept(campaign["questions"], body["answers"])
    response_id = uuid.uuid4()
    tx.execute(
        "INSERT INTO campaign_responses (id, campaign_id, task_id, answers, recorded_by,"
        " recorded_at) VALUES (%s, %s, %s, %s, %s, %s)",
        (response_id, campaign_id, task["id"], Jsonb(answers), by, now),
    )
    tx.execute("UPDATE campaign_tasks SET state = 'responded' WHERE id = %s", (task["id"],))
    for s in campaigns.suggestions(answers):
        tx.execute(
            "INSERT INTO feedback (campaign_id, response_id, question, topic, department, text,"
            " received_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (campaign_id, response_id, s["question"], s["topic"], s["department"], s["value"], now),
        )
        tx.emit(
            new_event(
                "feedback.received",
                str(campaign_id),
                {
                    "campaign_id": str(campaign_id),
                    "topic": s["topic"],
                    "department": s["department"],
                    "received_at": now,
                },
                source=SOURCE,
            )
        )
    return response_id
