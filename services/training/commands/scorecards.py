"""Scorecard facts (one per consumed event) and the case → resolver projection; the figures
are computed from the facts in `queries.py`.

Facts are written by the event handlers and by assessments (certificates); figures are only
ever computed from facts, with the arithmetic in `domain/scorecard.py`. Who resolved a case
comes from `case_resolutions` (training's case → resolver projection from `case.resolved`):
satisfaction and reopenings count for the resolver of the case at that time.

Satisfaction counts only from an independent follow-up call (policy: 回访 is the customer's
confirmation): a satisfaction fact keeps who made the call (`recorded_by`), is not attributed
to a resolver who made it themselves, and is left out of the figures of anyone who made it.
Followup refuses such a call in the first place; this is the second lock on the same door.
"""

from __future__ import annotations

from datetime import datetime

from services.training.domain import scorecard
from shared.db import Transaction


def record_fact(
    tx: Transaction,
    *,
    event_id: str,
    event_type: str,
    fact: str,
    staff_id: str | None,
    value: float,
    occurred_at: datetime,
    subject: str,
    valid_until: datetime | None = None,
    recorded_by: str | None = None,
) -> None:
    """Once per event id: a second delivery of the same event adds nothing. `recorded_by`: who
    made the follow-up call behind a satisfaction fact."""
    tx.execute(
        "INSERT INTO scorecard_facts (event_id, event_type, figure, staff_id, value, occurred_at,"
        " subject, valid_until, recorded_by, recorded_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
        (
            event_id,
            event_type,
            fact,
            staff_id,
            value,
            occurred_at,
            subject,
            valid_until,
            recorded_by,
            tx.now,
        ),
    )


def record_time_limit(
    tx: Transaction,
    *,
    event_id: str,
    event_type: str,
    staff_id: str | None,
    met: bool,
    occurred_at: datetime,
    case_id: str,
    clock: str,
    due_at: datetime,
) -> None:
    """One clock kept (1) or breached (0) for its assignee. A clock (case, clock, due_at) that
    was met has no breach: routing announces a met after a breach only when a step reported
    late stopped it in time, so the met replaces the breach, whichever arrives first. A clock
    nobody was assigned adds nothing to a scorecard."""
    same_clock = "figure = %s AND subject = %s AND clock = %s AND due_at = %s"
    key = (scorecard.TIME_LIMIT, case_id, clock, due_at)
    if met:
        tx.execute(f"DELETE FROM scorecard_facts WHERE {same_clock} AND value = 0", key)
    elif tx.one(f"SELECT 1 AS met FROM scorecard_facts WHERE {same_clock} AND value = 1", key):
        return
    if not staff_id:
        return
    tx.execute(
        "INSERT INTO scorecard_facts (event_id, event_type, figure, staff_id, value, occurred_at,"
        " subject, clock, due_at, recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (event_id) DO NOTHING",
        (
            event_id,
            event_type,
            scorecard.TIME_LIMIT,
            staff_id,
            1 if met else 0,
            occurred_at,
            case_id,
            clock,
            due_at,
            tx.now,
        ),
    )


def record_resolution(
    tx: Transaction, event_id: str, case_id: str, resolved_by: str, resolved_at: datetime
) -> None:
    """The case → resolver projection; facts of this case waiting for their resolver get it."""
    tx.execute(
        "INSERT INTO case_resolutions (event_id, case_id, resolved_by, resolved_at)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
        (event_id, case_id, resolved_by, resolved_at),
    )
    tx.execute(
        "UPDATE scorecard_facts SET staff_id = %s WHERE subject = %s AND staff_id IS NULL"
        " AND figure IN (%s, %s) AND occurred_at >= %s AND recorded_by IS DISTINCT FROM %s",
        (
            resolved_by,
            case_id,
            scorecard.SATISFACTION,
            scorecard.REOPENED,
            resolved_at,
            resolved_by,
        ),
    )
