"""Read-only SQL behind routing's GET endpoints (clocks, calendar, policies, compliance) and its
gauges on /metrics."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shared.db import Database, Transaction
from shared.events.catalogue import CLOCKS
from shared.metrics import Fact

# the states of an open clock on /metrics: `at_risk` is a running clock past its warning point
SLA_GAUGE_STATES = ("running", "at_risk", "paused", "breached")
NO_DEPARTMENT = "(none)"  # no department code can look like this

_CLOCK_COLUMNS = """c.case_id, c.clock, c.generation, c.kind, c.priority, c.working_days,
c.policy_version, c.received_at, c.started_at, c.due_at, c.warning_at, c.provisional, c.state,
c.stopped_at, c.department, c.assignee_id, c.breached_at, c.escalation_level,
c.next_escalation_at, c.paused_seconds"""


def case_clocks(db: Database, case_id: str) -> list[dict[str, Any]]:
    """Every clock of a case, the newest generation first, customer before department."""
    with db.transaction() as tx:
        return tx.all(
            f"SELECT {_CLOCK_COLUMNS} FROM sla_clocks c WHERE c.case_id = %s"
            " ORDER BY c.generation DESC, c.clock = 'customer' DESC",
            (case_id,),
        )


def clocks_at_risk(db: Database, department: str | None, now: datetime) -> list[dict[str, Any]]:
    """Running clocks past their warning point, soonest deadline first."""
    with db.transaction() as tx:
        return tx.all(
            f"SELECT {_CLOCK_COLUMNS} FROM sla_clocks c WHERE c.stopped_at IS NULL"
            " AND c.state = 'running' AND c.warning_at <= %s"
            " AND (%s::text IS NULL OR c.department = %s) ORDER BY c.due_at LIMIT 1000",
            (now, department, department),
        )


def clocks_breached(db: Database, department: str | None) -> list[dict[str, Any]]:
    """Breached clocks of cases still open, oldest breach first."""
    with db.transaction() as tx:
        return tx.all(
            f"SELECT {_CLOCK_COLUMNS} FROM sla_clocks c WHERE c.stopped_at IS NULL"
            " AND c.state = 'breached' AND (%s::text IS NULL OR c.department = %s)"
            " ORDER BY c.due_at LIMIT 1000",
            (department, department),
        )


def calendar_year(db: Database, year: int) -> dict[str, Any]:
    with db.transaction() as tx:
        days = tx.all(
            "SELECT day, working, reason, source FROM calendar_days"
            " WHERE day >= make_date(%s, 1, 1) AND day < make_date(%s + 1, 1, 1) ORDER BY day",
            (year, year),
        )
        loaded = tx.one("SELECT source, loaded_at FROM calendar_years WHERE year = %s", (year,))
    return {"year": year, "official": loaded is not None, "loaded": loaded, "exceptions": days}


def policies_at(db: Database, on: date) -> list[dict[str, Any]]:
    """The SLA policy version in effect on a date, per kind and priority."""
    with db.transaction() as tx:
        return tx.all(
            "SELECT DISTINCT ON (kind, priority) kind, priority, working_days, warning_ratio,"
            " version, effective_from, changed_by, reason, changed_at FROM sla_policies"
            " WHERE effective_from <= %s ORDER BY kind, priority, effective_from DESC,"
            " version DESC",
            (on,),
        )


def compliance(
    db: Database, start: date, end: date, by: str, department: str | None = None
) -> list[dict[str, Any]]:
    """Customer clocks started in [start, end), of one department when given: met, breached,
    open and the median time to stop, grouped by department or kind."""
    group = {"department": "coalesce(department, 'front_line')", "kind": "kind"}[by]
    with db.transaction() as tx:
        return tx.all(
            f"SELECT {group} AS key, count(*) FILTER (WHERE state = 'met') AS met,"
            " count(*) FILTER (WHERE breached_at IS NOT NULL) AS breached,"
            " count(*) FILTER (WHERE stopped_at IS NULL) AS open,"
            " count(*) AS total,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM"
            "   stopped_at - started_at) / 3600.0) FILTER (WHERE stopped_at IS NOT NULL)"
            "   AS median_hours"
            " FROM sla_clocks WHERE clock = 'customer'"
            " AND started_at >= (%s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'"
            " AND started_at < (%s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'"
            " AND (%s::text IS NULL OR department = %s)"
            f" GROUP BY {group} ORDER BY 1",
            (start, end, department, department),
        )


def sla_clock_gauges(tx: Transaction) -> list[Fact]:
    """Open clocks by department, clock and state (`cs_sla_clocks`), zeros included for every
    active department, so a count that falls to nothing reads 0 rather than vanishing."""
    rows = tx.execute(
        "SELECT coalesce(department, %s), clock,"
        " CASE WHEN state = 'running' AND warning_at <= %s THEN 'at_risk' ELSE state END,"
        " count(*) FROM sla_clocks WHERE stopped_at IS NULL GROUP BY 1, 2, 3",
        (NO_DEPARTMENT, tx.now),
    ).fetchall()
    departments = {r[0] for r in tx.execute("SELECT code FROM departments WHERE active")}
    departments |= {NO_DEPARTMENT} | {r[0] for r in rows}
    gauge = Fact(
        "cs_sla_clocks",
        "Open SLA clocks: running, at_risk (past the warning point), paused, breached",
        ("department", "clock", "state"),
        {(d, c, s): 0.0 for d in departments for c in CLOCKS for s in SLA_GAUGE_STATES},
    )
    for department, clock, state, n in rows:
        gauge.values[(department, clock, state)] = float(n)
    return [gauge]
