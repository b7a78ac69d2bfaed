"""Read-only SQL behind followup's GET endpoints, the samples and the quarterly report."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from services.followup.domain import dashboard
from services.followup.domain.report import (
    CaseCount,
    FeedbackCount,
    IncidentCaseCount,
    IncidentRow,
    InspectionCount,
    QuarterData,
    SatisfactionCount,
    SlaCount,
    TaskCount,
)
from shared import clock
from shared.auth import Caller
from shared.clock import SHANGHAI
from shared.db import Database, Transaction
from shared.paging import fetch_page
from shared.periods import Period
from shared.scoping import Actor

_TASK = """f.id, f.case_id, f.kind, f.category, f.department, f.resolved_by, f.resolved_at,
f.customer_id, f.agent_id, f.state, f.outcome, f.solved, f.satisfaction, f.due_at,
f.due_provisional, {overdue} AS overdue, f.attempts,
f.failed_attempts, f.created_at, f.ended_at, f.ended_by, f.end_reason"""


def _overdue() -> str:
    """Still to call after its due time, by the one clock (a literal we format ourselves)."""
    return f"(f.state = 'due' AND f.due_at < '{clock.now().isoformat()}'::timestamptz)"


def actor(db: Database, caller: Caller) -> Actor:
    """The caller with the department the staff projection gives an active member."""
    with db.transaction() as tx:
        row = tx.one(
            "SELECT department FROM staff WHERE staff_id = %s AND active", (caller.subject,)
        )
    return Actor.of(caller, row["department"] if row else None)


# --- follow-ups --------------------------------------------------------------------------------


def list_followups(db: Database, filters: dict[str, Any], page: int, per_page: int) -> dict:
    where, params = [], []
    for column in ("state", "case_id", "agent_id", "customer_id", "department"):
        if filters.get(column) is not None:
            where.append(f"f.{column} = %s")
            params.append(filters[column])
    if filters.get("unassigned"):
        where.append("f.agent_id IS NULL")
    if filters.get("overdue") is not None:
        where.append(_overdue() if filters["overdue"] else f"NOT {_overdue()}")
    with db.transaction() as tx:
        return fetch_page(
            tx,
            select=_TASK.format(overdue=_overdue()),
            table="followups f",
            where=where,
            params=params,
            order="f.due_at, f.created_at, f.id",
            page=page,
            per_page=per_page,
        )


def get_followup(db: Database, followup_id: uuid.UUID) -> dict[str, Any] | None:
    with db.transaction() as tx:
        task = tx.one(
            f"SELECT {_TASK.format(overdue=_overdue())} FROM followups f WHERE f.id = %s",
            (followup_id,),
        )
        if task is not None:
            task["attempt_log"] = tx.all(
                "SELECT result, at, agent_id, solved, satisfaction, comment, recorded_at"
                " FROM followup_attempts WHERE followup_id = %s ORDER BY id",
                (followup_id,),
            )
        return task


def on_do_not_call(db: Database, customer_id: str) -> dict[str, Any] | None:
    with db.transaction() as tx:
        return tx.one(
            "SELECT customer_id, since, added_by FROM do_not_call WHERE customer_id = %s",
            (customer_id,),
        )


# --- campaigns ---------------------------------------------------------------------------------


def campaign_candidates(
    tx: Transaction, cases_in: Period, region: str | None, category: str | None
) -> list[str]:
    """Customers with a case received in the quarter (and region, category), not listed as
    do-not-call."""
    where = ["c.customer_id IS NOT NULL", "c.received_at >= %s", "c.received_at < %s"]
    params: list[Any] = [cases_in.start, cases_in.end]
    if region:
        where.append("c.region = %s")
        params.append(region)
    if category:
        where.append("c.category = %s")
        params.append(category)
    where.append("NOT EXISTS (SELECT 1 FROM do_not_call d WHERE d.customer_id = c.customer_id)")
    rows = tx.execute(
        f"SELECT DISTINCT c.customer_id FROM cases c WHERE {' AND '.join(where)}", params
    ).fetchall()
    return [r[0] for r in rows]


_CAMPAIGN = """c.id, c.name, c.period, c.questions, c.target, c.created_by, c.created_at, c.seed,
c.drawn_at, c.drawn_by,
(SELECT count(*) FROM campaign_tasks t WHERE t.campaign_id = c.id) AS drawn,
(SELECT count(*) FROM campaign_responses r WHERE r.campaign_id = c.id) AS responses"""


def get_campaign(db: Database, campaign_id: uuid.UUID) -> dict[str, Any] | None:
    with db.transaction() as tx:
        return tx.one(f"SELECT {_CAMPAIGN} FROM campaigns c WHERE c.id = %s", (campaign_id,))


def list_campaigns(db: Database, period: str | None, page: int, per_page: int) -> dict[str, Any]:
    where, params = (["c.period = %s"], [period]) if period else ([], [])
    with db.transaction() as tx:
        return fetch_page(
            tx,
            select=_CAMPAIGN,
            table="campaigns c",
            where=where,
            params=params,
            order="c.created_at, c.id",
            page=page,
            per_page=per_page,
        )


def campaign_tasks(
    db: Database, campaign_id: uuid.UUID, filters: dict[str, Any], page: int, per_page: int
) -> dict[str, Any]:
    """A page of the campaign's call tasks in sample order, and how many match in all."""
    where, params = ["campaign_id = %s"], [campaign_id]
    for column in ("state", "agent_id"):
        if filters.get(column) is not None:
            where.append(f"{column} = %s")
            params.append(filters[column])
    with db.transaction() as tx:
        return fetch_page(
            tx,
            select="id, campaign_id, position, customer_id, agent_id, state, created_at",
            table="campaign_tasks",
            where=where,
            params=params,
            order="position",
            page=page,
            per_page=per_page,
        )


def get_response(db: Database, response_id: uuid.UUID) -> dict[str, Any] | None:
    with db.transaction() as tx:
        return tx.one(
            "SELECT id, campaign_id, task_id, answers, recorded_by, recorded_at"
            " FROM campaign_responses WHERE id = %s",
            (response_id,),
        )


# --- inspections -------------------------------------------------------------------------------


def inspection_candidates(tx: Transaction, quarter: Period, rule: str) -> list[str]:
    """Cases resolved in the quarter (resolved or closed now) that were never inspected."""
    where = [
        "c.state IN ('resolved', 'closed')",
        "c.resolved_at >= %s",
        "c.resolved_at < %s",
        "NOT EXISTS (SELECT 1 FROM inspections i WHERE i.case_id = c.case_id)",
    ]
    if rule == "complaints":
        where.append("c.kind = 'complaint'")
    elif rule == "breached":
        where.append("c.breached")
    rows = tx.execute(
        f"SELECT c.case_id FROM cases c WHERE {' AND '.join(where)}", (quarter.start, quarter.end)
    ).fetchall()
    return [r[0] for r in rows]


_INSPECTION = """i.id, i.draw_id, d.rule, d.period, i.case_id, c.case_no, i.agent_id,
i.department, i.kind, i.category, i.state, i.checklist, i.score::float AS score, i.findings,
i.scored_by, i.scored_at, i.created_at,
c.identity_verified AS case_identity_verified, c.breached AS case_breached,
EXISTS (SELECT 1 FROM followups f WHERE f.case_id = i.case_id
        AND f.state IN ('completed', 'unreachable')) AS case_followup_done,
EXISTS (SELECT 1 FROM followups_not_sampled n WHERE n.case_id = i.case_id)
    AS case_followup_not_sampled"""
_INSPECTION_FROM = (
    "inspections i JOIN inspection_draws d ON d.id = i.draw_id"
    " LEFT JOIN cases c ON c.case_id = i.case_id"
)


def list_inspections(db: Database, filters: dict[str, Any], page: int, per_page: int) -> dict:
    where, params = [], []
    for column in ("agent_id", "department", "state", "draw_id", "case_id"):
        if filters.get(column) is not None:
            where.append(f"i.{column} = %s")
            params.append(filters[column])
    if filters.get("period"):
        where.append("d.period = %s")
        params.append(filters["period"])
    with db.transaction() as tx:
        return fetch_page(
            tx,
            select=_INSPECTION,
            table=_INSPECTION_FROM,
            where=where,
            params=params,
            order="i.created_at, i.id",
            page=page,
            per_page=per_page,
        )


def get_inspection(db: Database, inspection_id: uuid.UUID) -> dict[str, Any] | None:
    with db.transaction() as tx:
        return tx.one(
            f"SELECT {_INSPECTION} FROM {_INSPECTION_FROM} WHERE i.id = %s", (inspection_id,)
        )


def inspection_draw(db: Database, draw_id: uuid.UUID) -> dict[str, Any] | None:
    with db.transaction() as tx:
        draw = tx.one(
            "SELECT id, rule, size, seed, period, drawn_by, drawn_at FROM inspection_draws"
            " WHERE id = %s",
            (draw_id,),
        )
        if draw is None:
            return None
        draw["items"] = tx.all(
            f"SELECT {_INSPECTION} FROM {_INSPECTION_FROM} WHERE i.draw_id = %s"
            " ORDER BY i.created_at, i.id",
            (draw_id,),
        )
    return draw


def inspection_results(
    db: Database, period: str | None, department: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Scored inspections per agent and per department (all periods, or one; all departments,
    or one)."""
    clause, params = ("AND d.period = %s", [period]) if period else ("", [])
    if department is not None:
        clause, params = f"{clause} AND i.department = %s", [*params, department]
    out: dict[str, list[dict[str, Any]]] = {}
    with db.transaction() as tx:
        for key in ("agent_id", "department"):
            out[f"by_{'agent' if key == 'agent_id' else 'department'}"] = tx.all(
                f"SELECT coalesce(i.{key}, 'unknown') AS {key}, count(*) AS scored,"
                f" round(avg(i.score), 1)::float AS mean_score,"
                f" min(i.score)::float AS lowest, max(i.score)::float AS highest"
                f" FROM inspections i JOIN inspection_draws d ON d.id = i.draw_id"
                f" WHERE i.state = 'scored' {clause} GROUP BY 1 ORDER BY 1",
                params,
            )
    return out


# --- improvement measures ----------------------------------------------------------------------

_IMPROVEMENT = """m.id, m.problem, m.department, m.measure, m.due_on, m.source, m.source_ref,
m.created_by, m.created_at, h.status, h.at AS status_at"""
_IMPROVEMENT_FROM = """improvements m CROSS JOIN LATERAL (
    SELECT status, at FROM improvement_history WHERE improvement_id = m.id
    ORDER BY id DESC LIMIT 1) h"""


def get_improvement(db: Database, improvement_id: uuid.UUID) -> dict[str, Any] | None:
    with db.transaction() as tx:
        measure = tx.one(
            f"SELECT {_IMPROVEMENT} FROM {_IMPROVEMENT_FROM} WHERE m.id = %s", (improvement_id,)
        )
        if measure is not None:
            measure["history"] = tx.all(
                "SELECT status, note, evidence, by, at FROM improvement_history"
                " WHERE improvement_id = %s ORDER BY id",
                (improvement_id,),
            )
        return measure


def list_improvements(db: Database, filters: dict[str, Any], page: int, per_page: int) -> dict:
    where, params = [], []
    for column in ("department", "source"):
        if filters.get(column) is not None:
            where.append(f"m.{column} = %s")
            params.append(filters[column])
    if filters.get("status") is not None:
        where.append("h.status = %s")
        params.append(filters["status"])
    with db.transaction() as tx:
        return fetch_page(
            tx,
            select=_IMPROVEMENT,
            table=_IMPROVEMENT_FROM,
            where=where,
            params=params,
            order="m.created_at, m.id",
            page=page,
            per_page=per_page,
        )


# --- the quarterly report ----------------------------------------------------------------------


def quarter_data(db: Database, quarter: Period) -> QuarterData:
    """The quarter's figures, grouped in SQL; the arithmetic is domain.report's."""
    span = (quarter.start, quarter.end)
    before = quarter.previous()
    with db.transaction() as tx:
        satisfaction = [
            SatisfactionCount(*r)
            for r in tx.execute(
                "SELECT f.department, f.category, c.channel, f.satisfaction, count(*)"
                " FROM followups f LEFT JOIN cases c ON c.case_id = f.case_id"
                " WHERE f.state = 'completed' AND f.satisfaction IS NOT NULL"
                " AND f.ended_at >= %s AND f.ended_at < %s GROUP BY 1, 2, 3, 4",
                span,
            ).fetchall()
        ]
        cases = [
            CaseCount(*r)
            for r in tx.execute(
                "SELECT to_char(received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), kind,"
                " category, channel, count(*) FROM cases"
                " WHERE received_at >= %s AND received_at < %s AND kind IS NOT NULL"
                " AND incident_id IS NULL GROUP BY 1, 2, 3, 4",
                (before.start, quarter.end),
            ).fetchall()
        ]
        sla = [
            SlaCount(*r)
            for r in tx.execute(
                "SELECT clock, department, met, count(*) FROM sla_results"
                " WHERE at >= %s AND at < %s GROUP BY 1, 2, 3",
                span,
            ).fetchall()
        ]
        tasks = [
            TaskCount(*r)
            for r in tx.execute(
                "SELECT state, outcome, count(*) FROM followups"
                " WHERE ended_at >= %s AND ended_at < %s GROUP BY 1, 2",
                span,
            ).fetchall()
        ]
        inspections = [
            InspectionCount(r[0], r[1], r[2], float(r[3]))
            for r in tx.execute(
                "SELECT i.agent_id, i.department, count(*), sum(i.score) FROM inspections i"
                " JOIN inspection_draws d ON d.id = i.draw_id"
                " WHERE i.state = 'scored' AND d.period = %s GROUP BY 1, 2",
                (str(quarter),),
            ).fetchall()
        ]
        feedback = [
            FeedbackCount(*r)
            for r in tx.execute(
                "SELECT department, topic, count(*) FROM feedback"
                " WHERE received_at >= %s AND received_at < %s GROUP BY 1, 2",
                span,
            ).fetchall()
        ]
        improvements = tx.all(
            f"SELECT m.id, m.problem, m.department, m.measure, m.due_on, m.source,"
            f" m.source_ref, h.status FROM {_IMPROVEMENT_FROM}"
            f" WHERE h.status <> 'closed' AND m.created_at < %s",
            (quarter.end,),
        )
        incident_cases = [
            IncidentCaseCount(*r)
            for r in tx.execute(
                "SELECT kind, count(*) FROM cases WHERE received_at >= %s AND received_at < %s"
                " AND incident_id IS NOT NULL GROUP BY 1",
                span,
            ).fetchall()
        ]
        incidents = _incidents(tx, quarter)
    return QuarterData(
        quarter,
        satisfaction,
        cases,
        sla,
        tasks,
        inspections,
        feedback,
        improvements,
        incident_cases,
        incidents,
    )


def _incidents(tx: Transaction, quarter: Period) -> list[IncidentRow]:
    """The incidents open at some time in the quarter (known from incident.declared), with
    their linked cases and the follow-up calls of their sample."""
    return [
        IncidentRow(*r)
        for r in tx.execute(
            "SELECT i.incident_id, coalesce(i.regions, '{}'), coalesce(i.categories, '{}'),"
            " i.started_at, i.resolved_at, i.cause,"
            " (SELECT count(*) FROM cases c WHERE c.incident_id = i.incident_id),"
            " i.followups_sampled, i.followups_not_sampled FROM incidents i"
            " WHERE i.started_at < %s AND (i.resolved_at IS NULL OR i.resolved_at >= %s)"
            " ORDER BY i.started_at, i.incident_id",
            (quarter.end, quarter.start),
        ).fetchall()
    ]


def today(now: datetime) -> date:
    """The date in Shanghai: what `overdue` compares due dates with."""
    return now.astimezone(SHANGHAI).date()


# --- the dashboard -----------------------------------------------------------------------------


def dashboard_data(db: Database, now: datetime) -> dashboard.DashboardData:
    """Now's figures, grouped in SQL; the arithmetic is domain.dashboard's."""
    data = dashboard.DashboardData(now)
    quarter = data.quarter
    day_start = datetime.combine(data.today, time(0), tzinfo=SHANGHAI)
    span = (quarter.start, quarter.end)
    with db.transaction() as tx:
        data.open_cases = [
            dashboard.StateCount(*r)
            for r in tx.execute(
                "SELECT state, department, count(*) FROM case_status WHERE state = ANY(%s)"
                " AND incident_id IS NULL GROUP BY 1, 2",
                (list(dashboard.OPEN_STATES),),
            ).fetchall()
        ]
        data.at_risk, data.breached = tx.execute(
            "SELECT count(*) FILTER (WHERE at_risk), count(*) FILTER (WHERE breached)"
            " FROM case_status"
        ).fetchone()
        data.oldest_breached = [
            dashboard.Breached(*r)
            for r in tx.execute(
                "SELECT case_id, department, kind, breached_since FROM case_status"
                " WHERE breached ORDER BY breached_since NULLS LAST, case_id LIMIT %s",
                (dashboard.OLDEST_BREACHED,),
            ).fetchall()
        ]
        data.intake = [
            dashboard.IntakeCount(*r)
            for r in tx.execute(
                "SELECT channel, kind, count(*) FROM case_status"
                " WHERE received_at >= %s AND received_at < %s AND incident_id IS NULL"
                " GROUP BY 1, 2",
                (day_start, day_start + timedelta(days=1)),
            ).fetchall()
        ]
        data.incident_open_cases, data.incident_received_today = tx.execute(
            "SELECT count(*) FILTER (WHERE state = ANY(%s)),"
            " count(*) FILTER (WHERE received_at >= %s AND received_at < %s)"
            " FROM case_status WHERE incident_id IS NOT NULL",
            (list(dashboard.OPEN_STATES), day_start, day_start + timedelta(days=1)),
        ).fetchone()
        data.incidents = _incidents(tx, quarter)
        data.satisfaction = [
            dashboard.DayScore(*r)
            for r in tx.execute(
                "SELECT (ended_at AT TIME ZONE 'Asia/Shanghai')::date, satisfaction, count(*)"
                " FROM followups WHERE state = 'completed' AND satisfaction IS NOT NULL"
                " AND ended_at >= %s AND ended_at < %s GROUP BY 1, 2",
                span,
            ).fetchall()
        ]
        data.sla = [
            dashboard.DaySla(*r)
            for r in tx.execute(
                "SELECT (at AT TIME ZONE 'Asia/Shanghai')::date, met, count(*) FROM sla_results"
                " WHERE clock = 'customer' AND at >= %s AND at < %s GROUP BY 1, 2",
                span,
            ).fetchall()
        ]
    return data


def agent_loads(tx: Transaction) -> dict[str, int]:
    """Active agents and how many follow-up and campaign calls each has open."""
    rows = tx.execute(
        "SELECT s.staff_id,"
        " (SELECT count(*) FROM followups f WHERE f.agent_id = s.staff_id AND f.state = 'due')"
        " + (SELECT count(*) FROM campaign_tasks t WHERE t.agent_id = s.staff_id"
        "    AND t.state = 'due')"
        " FROM staff s WHERE s.role = 'agent' AND s.active"
    ).fetchall()
    return {r[0]: r[1] for r in rows}
