"""What followup knows of cases and their time limits: projections of other services' events
(cases, SLA results), and the dashboard's projection (case_status, case_clocks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.followup.domain import (
    dashboard,
)
from shared.db import Transaction

# --- projections of other services' events ---------------------------------------------------


def record_case_opened(tx: Transaction, d: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO cases (case_id, case_no, kind, channel, category, region, priority,"
        " customer_id, identity_verified, opened_by, received_at, opened_at, state, incident_id)"
        " VALUES (%(case_id)s, %(case_no)s, %(kind)s, %(channel)s, %(category)s, %(region)s,"
        " %(priority)s, %(customer_id)s, %(identity_verified)s, %(agent_id)s, %(received_at)s,"
        " %(opened_at)s, 'open', %(incident_id)s)"
        " ON CONFLICT (case_id) DO UPDATE SET case_no = excluded.case_no, kind = excluded.kind,"
        " channel = excluded.channel, category = excluded.category, region = excluded.region,"
        " priority = excluded.priority, customer_id = excluded.customer_id,"
        " identity_verified = excluded.identity_verified, opened_by = excluded.opened_by,"
        " received_at = excluded.received_at, opened_at = excluded.opened_at,"
        " incident_id = coalesce(cases.incident_id, excluded.incident_id)",
        dict(
            d,
            received_at=d.get("received_at") or d["opened_at"],
            incident_id=d.get("incident_id"),
        ),
    )
    if d.get("incident_id"):
        link_case(tx, d["case_id"], d["incident_id"])


def record_case_resolved(tx: Transaction, d: dict[str, Any]) -> None:
    """The latest resolution of a case; an older one delivered late changes nothing. The
    incident that resolved it, if any, makes it an incident case (whichever resolution said so)."""
    d = dict(d, incident_id=d.get("incident_id"))
    tx.execute(
        "INSERT INTO cases (case_id, kind, category, department, resolved_by, first_contact,"
        " resolved_at, state, incident_id) VALUES (%(case_id)s, %(kind)s, %(category)s,"
        " %(department)s, %(resolved_by)s, %(first_contact)s, %(resolved_at)s, 'resolved',"
        " %(incident_id)s)"
        " ON CONFLICT (case_id) DO UPDATE SET kind = excluded.kind,"
        " category = excluded.category, department = excluded.department,"
        " resolved_by = excluded.resolved_by, first_contact = excluded.first_contact,"
        " resolved_at = excluded.resolved_at,"
        " state = CASE WHEN cases.closed_at > excluded.resolved_at"
        "   OR cases.reopened_at > excluded.resolved_at THEN cases.state ELSE 'resolved' END"
        " WHERE cases.resolved_at IS NULL OR cases.resolved_at <= excluded.resolved_at",
        d,
    )
    if d["incident_id"]:
        link_case(tx, d["case_id"], d["incident_id"])


def link_case(tx: Transaction, case_id: str, incident_id: str) -> None:
    """The case belongs to a network incident (case.linked, or the incident id on case.opened
    or case.resolved); its other facts may come later. A case is linked to one incident: the
    first one named stays."""
    tx.execute(
        "INSERT INTO cases (case_id, state, incident_id) VALUES (%s, 'open', %s)"
        " ON CONFLICT (case_id) DO UPDATE SET incident_id = coalesce(cases.incident_id,"
        " excluded.incident_id)",
        (case_id, incident_id),
    )
    _status_row(tx, case_id)
    tx.execute(
        "UPDATE case_status SET incident_id = coalesce(incident_id, %s) WHERE case_id = %s",
        (incident_id, case_id),
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
