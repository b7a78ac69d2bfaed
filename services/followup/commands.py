"""Followup's use cases; the HTTP views and event handlers write only through these.

Each takes the caller's transaction. A task's row is locked before it changes, so two attempts
on one task never interleave, and the events they emit leave in the order they happened.
Comments and suggestions are what staff and customers said: they are stored, never put in an
event or a log line.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from services.followup import queries
from services.followup.domain import (
    assignment,
    attempts,
    campaigns,
    dashboard,
    improvements,
    inspections,
)
from services.followup.domain.due import followup_due, package_calendar
from services.followup.domain.periods import Quarter
from services.followup.domain.sampling import draw
from shared.db import Transaction
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import new_event
from shared.steps import Step

SOURCE = "/followup"
FUTURE_SLACK = timedelta(minutes=5)


# --- projections of other services' events ---------------------------------------------------


def record_case_opened(tx: Transaction, d: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO cases (case_id, case_no, kind, channel, category, region, priority,"
        " customer_id, identity_verified, opened_by, received_at, opened_at, state)"
        " VALUES (%(case_id)s, %(case_no)s, %(kind)s, %(channel)s, %(category)s, %(region)s,"
        " %(priority)s, %(customer_id)s, %(identity_verified)s, %(agent_id)s, %(received_at)s,"
        " %(opened_at)s, 'open')"
        " ON CONFLICT (case_id) DO UPDATE SET case_no = excluded.case_no, kind = excluded.kind,"
        " channel = excluded.channel, category = excluded.category, region = excluded.region,"
        " priority = excluded.priority, customer_id = excluded.customer_id,"
        " identity_verified = excluded.identity_verified, opened_by = excluded.opened_by,"
        " received_at = excluded.received_at, opened_at = excluded.opened_at",
        dict(d, received_at=d.get("received_at") or d["opened_at"]),
    )


def record_case_resolved(tx: Transaction, d: dict[str, Any]) -> None:
    """The latest resolution of a case; an older one delivered late changes nothing."""
    tx.execute(
        "INSERT INTO cases (case_id, kind, category, department, resolved_by, first_contact,"
        " resolved_at, state) VALUES (%(case_id)s, %(kind)s, %(category)s, %(department)s,"
        " %(resolved_by)s, %(first_contact)s, %(resolved_at)s, 'resolved')"
        " ON CONFLICT (case_id) DO UPDATE SET kind = excluded.kind,"
        " category = excluded.category, department = excluded.department,"
        " resolved_by = excluded.resolved_by, first_contact = excluded.first_contact,"
        " resolved_at = excluded.resolved_at,"
        " state = CASE WHEN cases.closed_at > excluded.resolved_at"
        "   OR cases.reopened_at > excluded.resolved_at THEN cases.state ELSE 'resolved' END"
        " WHERE cases.resolved_at IS NULL OR cases.resolved_at <= excluded.resolved_at",
        d,
    )


def _end_open_tasks(tx: Transaction, case_id: str, before: datetime, reason: str) -> None:
    tx.execute(
        "UPDATE followups SET state = 'cancelled', ended_at = %s, ended_by = 'system',"
        " end_reason = %s WHERE case_id = %s AND state = 'due' AND resolved_at <= %s",
        (before, reason, case_id, before),
    )


def record_case_reopened(tx: Transaction, d: dict[str, Any]) -> None:
    """Back to work: a call to confirm the old resolution has no purpose any more."""
    tx.execute(
        "INSERT INTO cases (case_id, state, reopened_at) VALUES (%(case_id)s, 'reopened',"
        " %(reopened_at)s) ON CONFLICT (case_id) DO UPDATE SET reopened_at = excluded.reopened_at,"
        " state = CASE WHEN cases.resolved_at > excluded.reopened_at THEN cases.state"
        "   ELSE 'reopened' END",
        d,
    )
    _end_open_tasks(tx, d["case_id"], d["reopened_at"], "case reopened")


def record_case_closed(tx: Transaction, d: dict[str, Any]) -> None:
    """Closed without our call (or after it): nothing left to confirm."""
    tx.execute(
        "INSERT INTO cases (case_id, state, closed_at) VALUES (%(case_id)s, 'closed',"
        " %(closed_at)s) ON CONFLICT (case_id) DO UPDATE SET closed_at = excluded.closed_at,"
        " state = CASE WHEN cases.reopened_at > excluded.closed_at"
        "   OR cases.resolved_at > excluded.closed_at THEN cases.state ELSE 'closed' END",
        d,
    )
    _end_open_tasks(tx, d["case_id"], d["closed_at"], "case closed")


def record_sla_result(tx: Transaction, d: dict[str, Any], met: bool) -> None:
    """One clock's result (a clock is one case, clock and due_at). A met is the last word:
    routing announces `sla.met` after `sla.breached` only when a step reported late stopped
    the clock in time (routing/clocks.py), so a met replaces a breach, never the reverse."""
    at = d["completed_at"] if met else d["breached_at"]
    replaced = tx.execute(
        "INSERT INTO sla_results (case_id, clock, due_at, met, department, assignee_id, at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (case_id, clock, due_at) DO UPDATE"
        " SET met = true, at = excluded.at, department = excluded.department,"
        " assignee_id = excluded.assignee_id WHERE excluded.met AND NOT sla_results.met",
        (d["case_id"], d["clock"], d["due_at"], met, d["department"], d["assignee_id"], at),
    ).rowcount
    if not met and replaced:
        tx.execute(
            "INSERT INTO cases (case_id, state, breached) VALUES (%s, 'open', true)"
            " ON CONFLICT (case_id) DO UPDATE SET breached = true",
            (d["case_id"],),
        )
    elif met and replaced:
        tx.execute(
            "UPDATE cases SET breached = EXISTS (SELECT 1 FROM sla_results r"
            " WHERE r.case_id = cases.case_id AND NOT r.met) WHERE case_id = %s AND breached",
            (d["case_id"],),
        )


def record_staff(tx: Transaction, d: dict[str, Any], as_of: datetime) -> None:
    """The latest word on a member of staff wins; an older event arriving late is ignored."""
    tx.execute(
        "INSERT INTO staff (staff_id, display_name, role, department, active, as_of)"
        " VALUES (%(staff_id)s, %(display_name)s, %(role)s, %(department)s, %(active)s,"
        " %(as_of)s) ON CONFLICT (staff_id) DO UPDATE SET display_name = excluded.display_name,"
        " role = excluded.role, department = excluded.department, active = excluded.active,"
        " as_of = excluded.as_of WHERE staff.as_of <= excluded.as_of",
        dict(d, as_of=as_of),
    )


# --- the dashboard's projection: case_status and case_clocks -----------------------------------
# Each function takes the event's envelope time (`at`); a value changes only for a later event,
# so replays and events that arrive out of order leave the same rows (migration 0003).


def _status_row(tx: Transaction, case_id: str) -> None:
    """Creates the case's row if needed and locks it: one case's events apply one at a time."""
    tx.execute("INSERT INTO case_status (case_id) VALUES (%s) ON CONFLICT DO NOTHING", (case_id,))
    tx.execute("SELECT 1 FROM case_status WHERE case_id = %s FOR UPDATE", (case_id,))


def _refresh_flags(tx: Transaction, case_id: str) -> None:
    row = tx.one("SELECT state, reopened_at FROM case_status WHERE case_id = %s", (case_id,))
    assert row is not None
    rows = tx.all(
        "SELECT clock, started_at, warned_at, breached_at, stopped_at, due_at FROM case_clocks"
        " WHERE case_id = %s",
        (case_id,),
    )
    clocks = {r.pop("clock"): dashboard.Clock(**r) for r in rows}
    flags = dashboard.clock_flags(row["state"], row["reopened_at"], clocks.values())
    customer = clocks.get("customer")
    tx.execute(
        "UPDATE case_status SET at_risk = %s, breached = %s, breached_since = %s, due_at = %s"
        " WHERE case_id = %s",
        (
            flags.at_risk,
            flags.breached,
            flags.breached_since,
            customer.due_at if customer else None,
            case_id,
        ),
    )


def project_case(
    tx: Transaction,
    case_id: str,
    at: datetime,
    *,
    state: str | None = None,
    department: str | None = None,
    facts: dict[str, Any] | None = None,
) -> None:
    """A lifecycle event: the case's state and department as of `at`, and its facts (kind,
    channel, received_at) from case.opened or case.resolved."""
    _status_row(tx, case_id)
    if state is not None:
        tx.execute(
            "UPDATE case_status SET state = %(state)s, state_at = %(at)s, state_rank = %(rank)s"
            " WHERE case_id = %(case_id)s AND (state_at IS NULL"
            "   OR (state_at, state_rank) < (%(at)s, %(rank)s))",
            {"case_id": case_id, "state": state, "at": at, "rank": dashboard.STATE_RANK[state]},
        )
    if state == "reopened":
        tx.execute(
            "UPDATE case_status SET reopened_at = greatest(reopened_at, %s) WHERE case_id = %s",
            (at, case_id),
        )
    if department is not None:
        tx.execute(
            "UPDATE case_status SET department = %s, department_at = %s"
            " WHERE case_id = %s AND (department_at IS NULL OR department_at < %s)",
            (department, at, case_id, at),
        )
    if facts:
        tx.execute(
            "UPDATE case_status SET kind = coalesce(%(kind)s, kind),"
            " channel = coalesce(%(channel)s, channel),"
            " received_at = coalesce(%(received_at)s, received_at) WHERE case_id = %(case_id)s",
            {
                "case_id": case_id,
                "kind": facts.get("kind"),
                "channel": facts.get("channel"),
                "received_at": facts.get("received_at"),
            },
        )
    _refresh_flags(tx, case_id)


_CLOCK_MOMENTS = ("started_at", "warned_at", "breached_at", "stopped_at")


def project_clock(
    tx: Transaction,
    case_id: str,
    clock: str,
    moment: str,
    at: datetime,
    due_at: datetime | None = None,
) -> None:
    """A clock event: started, warned, breached or stopped at `at`; its deadline if it names one."""
    if moment not in _CLOCK_MOMENTS:
        raise ValueError(f"moment must be one of {_CLOCK_MOMENTS}")
    _status_row(tx, case_id)
    tx.execute(
        f"INSERT INTO case_clocks (case_id, clock, {moment}, due_at, due_as_of)"
        " VALUES (%(case_id)s, %(clock)s, %(at)s, %(due_at)s, %(due_as_of)s)"
        f" ON CONFLICT (case_id, clock) DO UPDATE SET"
        f" {moment} = greatest(case_clocks.{moment}, excluded.{moment}),"
        " due_at = CASE WHEN excluded.due_as_of IS NOT NULL AND (case_clocks.due_as_of IS NULL"
        "   OR case_clocks.due_as_of < excluded.due_as_of) THEN excluded.due_at"
        "   ELSE case_clocks.due_at END,"
        " due_as_of = greatest(case_clocks.due_as_of, excluded.due_as_of)",
        {
            "case_id": case_id,
            "clock": clock,
            "at": at,
            "due_at": due_at,
            "due_as_of": at if due_at is not None else None,
        },
    )
    _refresh_flags(tx, case_id)


# --- follow-up calls ---------------------------------------------------------------------------


def _agent_loads(tx: Transaction) -> dict[str, int]:
    """Active agents and how many follow-up and campaign calls each has open."""
    rows = tx.execute(
        "SELECT s.staff_id,"
        " (SELECT count(*) FROM followups f WHERE f.agent_id = s.staff_id AND f.state = 'due')"
        " + (SELECT count(*) FROM campaign_tasks t WHERE t.agent_id = s.staff_id"
        "    AND t.state = 'due')"
        " FROM staff s WHERE s.role = 'agent' AND s.active"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _listed(tx: Transaction, customer_id: str | None) -> bool:
    if not customer_id:
        return False
    found = tx.execute("SELECT 1 FROM do_not_call WHERE customer_id = %s", (customer_id,))
    return found.fetchone() is not None


def schedule_followup(tx: Transaction, d: dict[str, Any], now: datetime) -> uuid.UUID | None:
    """The follow-up call of one resolution; None when that resolution already has its task."""
    record_case_resolved(tx, d)
    case = tx.one("SELECT customer_id FROM cases WHERE case_id = %s", (d["case_id"],))
    customer_id = case["customer_id"] if case else None
    due = followup_due(
        d["resolved_at"],
        tx.settings.followup_due_working_days,
        package_calendar(),
        tx.settings.close_of_business,
    )
    skipped = _listed(tx, customer_id)
    agent = None if skipped else assignment.pick_agent(_agent_loads(tx), exclude=d["resolved_by"])
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
        Quarter.parse(target["cases_period"]),
        region=target.get("region"),
        category=target.get("category"),
    )
    chosen = draw(candidates, target["size"], seed)
    agents = assignment.spread(_agent_loads(tx), len(chosen))
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


# --- quality inspections -----------------------------------------------------------------------


def draw_inspections(tx: Transaction, body: dict[str, Any], by: str, now: datetime) -> uuid.UUID:
    """A reproducible sample of resolved or closed cases of the period not inspected before."""
    quarter = Quarter.parse(body["period"])
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


# --- improvement measures ----------------------------------------------------------------------


def create_improvement(tx: Transaction, body: dict[str, Any], by: str, now: datetime) -> uuid.UUID:
    improvement_id = uuid.uuid4()
    tx.execute(
        "INSERT INTO improvements (id, problem, department, measure, due_on, source, source_ref,"
        " created_by, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            improvement_id,
            body["problem"],
            body["department"],
            body["measure"],
            body.get("due_on"),
            body["source"],
            body.get("source_ref"),
            by,
            now,
        ),
    )
    tx.execute(
        "INSERT INTO improvement_history (improvement_id, status, note, by, at)"
        " VALUES (%s, 'open', %s, %s, %s)",
        (improvement_id, body.get("note"), by, now),
    )
    _announce(tx, "improvement.created", improvement_id, body)
    return improvement_id


def _announce(
    tx: Transaction, type_: str, improvement_id: uuid.UUID, measure: dict[str, Any]
) -> None:
    tx.emit(
        new_event(
            type_,
            str(improvement_id),
            {
                "improvement_id": str(improvement_id),
                "department": measure["department"],
                "source": measure["source"],
                "due_on": measure.get("due_on"),
            },
            source=SOURCE,
        )
    )


def change_improvement_status(
    tx: Transaction, improvement_id: uuid.UUID, body: dict[str, Any], by: str, now: datetime
) -> None:
    """A new entry in the measure's history; closing it announces `improvement.closed`."""
    measure = tx.one("SELECT * FROM improvements WHERE id = %s FOR UPDATE", (improvement_id,))
    if measure is None:
        raise NotFound(f"no improvement measure {improvement_id}")
    current = tx.one(
        "SELECT status FROM improvement_history WHERE improvement_id = %s ORDER BY id DESC LIMIT 1",
        (improvement_id,),
    )
    try:
        improvements.check_move(current["status"] if current else "open", body["status"])
    except improvements.IllegalStatus as e:
        raise Conflict(str(e)) from None
    tx.execute(
        "INSERT INTO improvement_history (improvement_id, status, note, evidence, by, at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (improvement_id, body["status"], body.get("note"), body.get("evidence"), by, now),
    )
    if body["status"] == improvements.FINAL:
        _announce(tx, "improvement.closed", improvement_id, measure)
