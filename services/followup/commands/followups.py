"""Follow-up calls (回访) after a resolution, their attempts, and the do-not-call list.

A task's row is locked before it changes, so two attempts on one task never interleave, and the
events they emit leave in the order they happened. Comments are what customers said: they are
stored, never put in an event or a log line."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.followup import queries
from services.followup.commands import SOURCE, cases, incidents
from services.followup.domain import (
    assignment,
    attempts,
)
from services.followup.domain.due import followup_due, package_calendar
from shared.db import Transaction
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import new_event
from shared.steps import Step

# --- follow-up calls ---------------------------------------------------------------------------


def _listed(tx: Transaction, customer_id: str | None) -> bool:
    if not customer_id:
        return False
    found = tx.execute("SELECT 1 FROM do_not_call WHERE customer_id = %s", (customer_id,))
    return found.fetchone() is not None


def schedule_followup(tx: Transaction, d: dict[str, Any], now: datetime) -> uuid.UUID | None:
    """The follow-up call of one resolution; None when that resolution already has its task,
    or is a network incident's case left out of the incident's sample (`followups_not_sampled`
    records it: commands/incidents.py, domain/incident_sample.py)."""
    cases.record_case_resolved(tx, d)
    case = tx.one("SELECT customer_id FROM cases WHERE case_id = %s", (d["case_id"],))
    customer_id = case["customer_id"] if case else None
    skipped = _listed(tx, customer_id)
    incident_id = d.get("incident_id")
    if incident_id:
        called_so_far = incidents.lock(tx, incident_id)
        if incidents.decided(tx, d["case_id"], d["resolved_at"]):
            return None
        # a customer who asked not to be called keeps that task, and takes no place in the sample
        if not skipped and not incidents.in_sample(tx, incident_id, d["case_id"], called_so_far):
            incidents.not_sampled(tx, incident_id, d["case_id"], d["resolved_at"])
            return None
    due = followup_due(
        d["resolved_at"],
        tx.settings.followup_due_working_days,
        package_calendar(),
        tx.settings.close_of_business,
    )
    agent = (
        None
        if skipped
        else assignment.pick_agent(queries.agent_loads(tx), exclude=d["resolved_by"])
    )
    task_id = uuid.uuid4()
    row = tx.execute(
        "INSERT INTO followups (id, case_id, resolved_at, kind, category, department,"
        " resolved_by, customer_id, agent_id, state, due_at, due_provisional, ended_at,"
        " ended_by, end_reason, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " %s, %s, %s, %s, %s) ON CONFLICT (case_id, resolved_at) DO NOTHING RETURNING id",
        (
            task_id,
            d["case_id"],
            d["resolved_at"],
            d["kind"],
            d["category"],
            d["department"],
            d["resolved_by"],
            customer_id,
            agent,
            "skipped_do_not_call" if skipped else "due",
            due.due_at,
            due.provisional,
            now if skipped else None,
            "system" if skipped else None,
            "the customer asked not to be called" if skipped else None,
            tx.now,
        ),
    ).fetchone()
    if row is None:
        return None
    if incident_id and not skipped:
        incidents.count_call(tx, incident_id)
    # an earlier resolution still waiting for its call is superseded by this one
    tx.execute(
        "UPDATE followups SET state = 'cancelled', ended_at = %s, ended_by = 'system',"
        " end_reason = 'superseded by a later resolution'"
        " WHERE case_id = %s AND state = 'due' AND resolved_at < %s",
        (now, d["case_id"], d["resolved_at"]),
    )
    # this resolution arrived late: the case was resolved again, reopened or closed since
    tx.execute(
        "UPDATE followups f SET state = 'cancelled', ended_at = %s, ended_by = 'system',"
        " end_reason = 'the case moved on before this resolution arrived'"
        " WHERE f.id = %s AND f.state = 'due' AND (EXISTS (SELECT 1 FROM followups g"
        "   WHERE g.case_id = f.case_id AND g.resolved_at > f.resolved_at)"
        " OR EXISTS (SELECT 1 FROM cases c WHERE c.case_id = f.case_id"
        "   AND (c.reopened_at > f.resolved_at OR c.closed_at > f.resolved_at)))",
        (now, task_id),
    )
    return task_id


def record_attempt(
    tx: Transaction,
    followup_id: uuid.UUID,
    body: dict[str, Any],
    step: Step,
) -> None:
    """One call attempt; the task ends when the customer is reached or too many calls failed.

    The call is independent of the work it checks (policy: 回访 is the customer's confirmation):
    whoever resolved the case may not record its follow-up, not even through a reporting
    system that names them (`step.by`)."""
    task = tx.one("SELECT * FROM followups WHERE id = %s FOR UPDATE", (followup_id,))
    if task is None:
        raise NotFound(f"no follow-up {followup_id}")
    if step.by == task["resolved_by"]:
        raise Forbidden(
            f"{step.by} resolved case {task['case_id']}: its follow-up call is recorded by"
            " someone else"
        )
    if task["state"] not in attempts.OPEN_STATES:
        raise Conflict(f"the follow-up is {task['state']}: no more attempts")
    problems = attempts.attempt_problems(body["result"], body)
    if problems:
        raise Invalid(problems)
    step.not_before(task["resolved_at"], "the case's resolution")
    last = tx.execute(
        "SELECT max(at) FROM followup_attempts WHERE followup_id = %s", (followup_id,)
    ).fetchone()[0]
    at, by = step.not_before(last, "the previous attempt").at, step.by
    reached = body["result"] == "reached"
    tx.execute(
        "INSERT INTO followup_attempts (followup_id, result, at, agent_id, solved, satisfaction,"
        " comment, recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            followup_id,
            body["result"],
            at,
            by,
            body.get("solved"),
            body.get("satisfaction"),
            body.get("comment"),
            tx.now,
        ),
    )
    ending = attempts.after_attempt(
        body["result"],
        body.get("solved"),
        task["failed_attempts"],
        tx.settings.followup_max_attempts,
    )
    tx.execute(
        "UPDATE followups SET attempts = attempts + 1,"
        " failed_attempts = failed_attempts + %s, agent_id = coalesce(agent_id, %s),"
        " state = %s, outcome = %s, solved = %s, satisfaction = %s, ended_at = %s,"
        " ended_by = %s WHERE id = %s",
        (
            0 if reached else 1,
            by,
            ending.state if ending else task["state"],
            ending.outcome if ending else None,
            body.get("solved") if reached else None,
            body.get("satisfaction") if reached else None,
            at if ending else None,
            by if ending else None,
            followup_id,
        ),
    )
    if ending is None:
        return
    tx.emit(
        new_event(
            "followup.completed",
            task["case_id"],
            {
                "followup_id": str(followup_id),
                "case_id": task["case_id"],
                "outcome": ending.outcome,
                "satisfaction": body.get("satisfaction") if reached else None,
                "agent_id": by,
                "department": task["department"],
                "completed_at": at,
            },
            source=SOURCE,
        )
    )


# --- do not call -------------------------------------------------------------------------------


def add_do_not_call(tx: Transaction, customer_id: str, by: str, now: datetime) -> bool:
    """Lists the customer (False if already listed); calls waiting for them are skipped."""
    added = tx.execute(
        "INSERT INTO do_not_call (customer_id, since, added_by) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING customer_id",
        (customer_id, now, by),
    ).fetchone()
    if added is None:
        return False
    tx.execute(
        "INSERT INTO do_not_call_history (customer_id, listed, by, at) VALUES (%s, true, %s, %s)",
        (customer_id, by, now),
    )
    tx.execute(
        "UPDATE followups SET state = 'skipped_do_not_call', ended_at = %s, ended_by = %s,"
        " end_reason = 'the customer asked not to be called'"
        " WHERE customer_id = %s AND state = 'due'",
        (now, by, customer_id),
    )
    tx.execute(
        "UPDATE campaign_tasks SET state = 'skipped_do_not_call'"
        " WHERE customer_id = %s AND state = 'due'",
        (customer_id,),
    )
    return True


def lock_do_not_call(tx: Transaction, customer_id: str) -> dict[str, Any]:
    """The customer's do-not-call entry (as its GET shows it), locked until commit."""
    listed = tx.one(
        "SELECT customer_id, since, added_by FROM do_not_call WHERE customer_id = %s FOR UPDATE",
        (customer_id,),
    )
    if listed is None:
        raise NotFound(f"customer {customer_id} is not on the do-not-call list")
    return listed


def remove_do_not_call(tx: Transaction, customer_id: str, by: str, now: datetime) -> None:
    removed = tx.execute(
        "DELETE FROM do_not_call WHERE customer_id = %s RETURNING customer_id", (customer_id,)
    ).fetchone()
    if removed is None:
        raise NotFound(f"customer {customer_id} is not on the do-not-call list")
    tx.execute(
        "INSERT INTO do_not_call_history (customer_id, listed, by, at) VALUES (%s, false, %s, %s)",
        (customer_id, by, now),
    )
