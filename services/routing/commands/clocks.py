"""SLA clocks: started, stopped, paused and restarted; each start announced as `sla.started`.

A case has a customer clock (policy: a consultation is answered within 1 working day, a
complaint handled within 2) and, once a department has it, a department clock (the
department's own, shorter target in working hours). A reopened case gets a new generation of
clocks; the old ones stay for reporting. The scheduler (services/routing/scheduler.py) turns
running clocks into warnings, breaches and escalations through the `*_due` commands below.

Each clock stores when it is warned (`warning_at`: the policy's share of its working time,
domain/deadlines.py) and, once breached, when it goes on to the supervision group
(`next_escalation_at`: CS_ESCALATION_AFTER_H working hours later), so the scheduler only
compares stored times with now. Whatever moves a deadline (a resume, a calendar change)
places the warning again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row

from services.routing import queries
from services.routing.commands import SOURCE
from services.routing.domain import clock as rules
from services.routing.domain.deadlines import share_used
from shared.db import Transaction
from shared.errors import NotFound, NotYet
from shared.events import new_event
from shared.logs import correlated


def announce(tx: Transaction, clock: dict[str, Any]) -> None:
    tx.emit(
        new_event(
            "sla.started",
            clock["case_id"],
            {
                "case_id": clock["case_id"],
                "clock": clock["clock"],
                "policy_version": clock["policy_version"],
                "due_at": clock["due_at"],
                "provisional": clock["provisional"],
                "started_at": clock["started_at"],
            },
            source=SOURCE,
        )
    )


def place_warning(tx: Transaction, clock: dict[str, Any], due_at: datetime) -> datetime:
    """Where the warning of `clock` falls with the deadline `due_at`: the policy's share of its
    working time, the time it stood paused not counted."""
    pauses = queries.pauses_of(tx, clock["id"]) if clock["paused_seconds"] else []
    return rules.warning_at(
        clock["started_at"],
        due_at,
        float(clock["warning_ratio"]),
        queries.business_hours(tx, clock["started_at"], due_at),
        pauses,
    )


# the clock columns, in `_INSERT_CLOCKS`' order
_CLOCK_COLUMNS = {
    "case_id": "text",
    "clock": "text",
    "generation": "int",
    "kind": "text",
    "priority": "text",
    "working_days": "int",
    "policy_version": "int",
    "received_at": "timestamptz",
    "started_at": "timestamptz",
    "due_at": "timestamptz",
    "provisional": "bool",
    "warning_ratio": "numeric",
    "warning_at": "timestamptz",
    "department": "text",
    "assignee_id": "text",
    "ola_hours": "numeric",
}
_INSERT_CLOCKS = f"""
INSERT INTO sla_clocks ({", ".join(_CLOCK_COLUMNS)}) SELECT * FROM {{rows}}
ON CONFLICT (case_id, clock, generation) DO NOTHING
RETURNING id, case_id, clock, generation, due_at, provisional, policy_version, started_at
"""


def _insert_clocks(tx: Transaction, clocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inserts clocks with one statement; those inserted (a generation that already has its
    clock is left as it is)."""
    return tx.with_rows(_INSERT_CLOCKS, _CLOCK_COLUMNS, clocks, dict_row)


def record_cases(tx: Transaction, facts: list[dict[str, Any]]) -> None:
    """Remembers what routing needs of new cases: their clocks and their routing depend on it."""
    columns = {
        "case_id": "text",
        "kind": "text",
        "priority": "text",
        "category": "text",
        "region": "text",
        "channel": "text",
        "opened_at": "timestamptz",
    }
    tx.with_rows(
        f"INSERT INTO case_facts ({', '.join(columns)}) SELECT * FROM {{rows}}"
        " ON CONFLICT (case_id) DO NOTHING",
        columns,
        facts,
    )


def record_case_end(tx: Transaction, *, case_id: str, at: datetime | None) -> None:
    """The case was resolved or closed (`at`), or reopened (None): linking takes open ones."""
    tx.execute("UPDATE case_facts SET ended_at = %s WHERE case_id = %s", (at, case_id))


@dataclass(frozen=True)
class CustomerClock:
    """A customer clock to start: the case's, from its receipt (or reopening), generation
    1 for a new case; its `sla.started` carries `correlation_id` (default: the work's)."""

    case_id: str
    kind: str
    priority: str
    received_at: datetime
    generation: int = 1
    correlation_id: str | None = None


def start_customer_clocks(tx: Transaction, starts: list[CustomerClock]) -> list[dict | None]:
    """Starts each case's customer clock from the policy for its kind and priority, all with
    one statement, and announces each (`sla.started`).

    Returns the clocks in the order given, None where the generation already had one (the
    event came twice)."""
    rows = []
    for start in starts:
        policy = queries.sla_policy(tx, start.kind, start.priority, start.received_at)
        if policy is None:
            raise LookupError(f"no SLA policy for kind {start.kind!r}")
        hours = queries.business_hours(tx, start.received_at)
        deadline = rules.customer_deadline(start.received_at, policy["working_days"], hours)
        ratio = float(policy["warning_ratio"])
        rows.append(
            {
                "case_id": start.case_id,
                "clock": "customer",
                "generation": start.generation,
                "kind": start.kind,
                "priority": start.priority,
                "working_days": policy["working_days"],
                "policy_version": policy["version"],
                "received_at": start.received_at,
                "started_at": start.received_at,
                "due_at": deadline.due_at,
                "provisional": deadline.provisional,
                "warning_ratio": ratio,
                "warning_at": rules.warning_at(start.received_at, deadline.due_at, ratio, hours),
                "department": None,
                "assignee_id": None,
                "ola_hours": None,
            }
        )
    started = {(c["case_id"], c["generation"]): c for c in _insert_clocks(tx, rows)}
    clocks = [started.get((start.case_id, start.generation)) for start in starts]
    for start, clock in zip(starts, clocks, strict=True):
        if clock is not None:
            with correlated(start.correlation_id):
                announce(tx, clock)
    return clocks


def department_deadline(
    tx: Transaction,
    *,
    customer: dict[str, Any] | None,
    ola_hours: float | None,
    routed_at: datetime,
) -> tuple[datetime, bool]:
    """The department clock's due time and whether it is provisional (domain/clock.py)."""
    return rules.department_deadline(
        customer_due=customer["due_at"] if customer else None,
        customer_provisional=bool(customer and customer["provisional"]),
        ola_hours=ola_hours,
        routed_at=routed_at,
        hours=queries.business_hours(tx, routed_at),
    )


def start_department_clock(
    tx: Transaction,
    *,
    case_id: str,
    department: str,
    assignee_id: str | None,
    ola_hours: float | None,
    routed_at: datetime,
) -> datetime:
    """Starts the department's clock; returns its due time (the work item's due_at)."""
    customer = queries.current_clock(tx, case_id, "customer")
    terms = rules.department_terms(customer)
    due, provisional = department_deadline(
        tx, customer=customer, ola_hours=ola_hours, routed_at=routed_at
    )
    ratio = float(terms["warning_ratio"])
    warning_at = rules.warning_at(routed_at, due, ratio, queries.business_hours(tx, routed_at, due))
    # a case routed again (another department) starts the department clock anew
    existing = queries.current_clock(tx, case_id, "department")
    if existing is not None and existing["generation"] == terms["generation"]:
        tx.execute(
            "UPDATE sla_clocks SET department = %s, assignee_id = %s, started_at = %s,"
            " due_at = %s, warning_at = %s, provisional = %s, ola_hours = %s, state = 'running',"
            " warned_at = NULL, breached_at = NULL, escalation_level = 0,"
            " next_escalation_at = NULL, stopped_at = NULL WHERE id = %s",
            (
                department,
                assignee_id,
                routed_at,
                due,
                warning_at,
                provisional,
                ola_hours,
                existing["id"],
            ),
        )
        clock = dict(existing, due_at=due, provisional=provisional, started_at=routed_at)
    else:
        [clock] = _insert_clocks(
            tx,
            [
                {
                    "case_id": case_id,
                    "clock": "department",
                    "generation": terms["generation"],
                    "kind": terms["kind"],
                    "priority": terms["priority"],
                    "working_days": terms["working_days"],
                    "policy_version": terms["policy_version"],
                    "received_at": routed_at,
                    "started_at": routed_at,
                    "due_at": due,
                    "provisional": provisional,
                    "warning_ratio": ratio,
                    "warning_at": warning_at,
                    "department": department,
                    "assignee_id": assignee_id,
                    "ola_hours": ola_hours,
                }
            ],
        )
    if customer is not None and customer["stopped_at"] is None:
        tx.execute(
            "UPDATE sla_clocks SET department = %s, assignee_id = %s WHERE id = %s",
            (department, assignee_id, customer["id"]),
        )
    announce(tx, clock)
    return due


def set_assignee(
    tx: Transaction, *, case_id: str, department: str, assignee_id: str | None
) -> None:
    """Who a breach would be charged to: the open clocks of the case follow the work item."""
    tx.execute(
        "UPDATE sla_clocks SET department = %s, assignee_id = %s"
        " WHERE case_id = %s AND stopped_at IS NULL",
        (department, assignee_id, case_id),
    )


def _stop(tx: Transaction, clock: dict[str, Any], at: datetime) -> None:
    """Stops one clock at `at`, the time of the step that stopped it: `sla.met` when that was
    in time, else a breach (announced now if the scheduler has not announced it yet).

    A step another system reports later with its own time (shared/steps.py) may stop a clock
    in time after the scheduler, which could not know, announced its breach: the clock is met
    after all (not breached, not escalated), and its `sla.met` (same case, clock and due_at) is
    the last word on it for every consumer. The escalation that went out stays on record in
    `sla_escalations`.
    """
    if clock["state"] == "paused":
        _close_pause(tx, clock, at, "routing")
    stopped = rules.stop(due_at=clock["due_at"], breached_at=clock["breached_at"], at=at)
    tx.execute(
        "UPDATE sla_clocks SET stopped_at = %(at)s, state = %(state)s,"
        " breached_at = CASE WHEN %(met)s THEN NULL ELSE breached_at END,"
        " escalation_level = CASE WHEN %(met)s THEN 0 ELSE escalation_level END WHERE id = %(id)s",
        {"at": at, "state": stopped.state, "met": stopped.met, "id": clock["id"]},
    )
    if stopped.met:
        tx.emit(
            new_event(
                "sla.met",
                clock["case_id"],
                {
                    "case_id": clock["case_id"],
                    "clock": clock["clock"],
                    "department": clock["department"],
                    "assignee_id": clock["assignee_id"],
                    "due_at": clock["due_at"],
                    "completed_at": at,
                },
                source=SOURCE,
            )
        )
    elif stopped.breach_to_announce:
        # finished after the deadline before the scheduler saw it: the breach is still a breach
        breach(tx, clock, at)


def stop_department_clock(tx: Transaction, *, case_id: str, at: datetime) -> None:
    clock = queries.current_clock(tx, case_id, "department")
    if clock is not None and clock["stopped_at"] is None:
        _stop(tx, clock, at)


def stop_case_clocks(tx: Transaction, *, case_id: str, at: datetime) -> int:
    """The case is resolved: every open clock of it stops. Returns how many stopped."""
    open_clocks = tx.all(
        "SELECT * FROM sla_clocks WHERE case_id = %s AND stopped_at IS NULL ORDER BY id FOR UPDATE",
        (case_id,),
    )
    for clock in open_clocks:
        _stop(tx, clock, at)
    return len(open_clocks)


def restart_customer_clock(tx: Transaction, *, case_id: str, at: datetime) -> dict | None:
    """A reopened case: a new customer clock from the reopening, the old one kept."""
    stop_case_clocks(tx, case_id=case_id, at=at)
    previous = queries.current_clock(tx, case_id, "customer")
    facts = queries.case_facts(tx, case_id)
    if previous is None or facts is None:
        raise NotYet(f"case.opened of {case_id}")
    [clock] = start_customer_clocks(
        tx,
        [
            CustomerClock(
                case_id,
                facts["kind"],
                facts["priority"],
                received_at=at,
                generation=previous["generation"] + 1,
            )
        ],
    )
    return clock


def _customer_clock(tx: Transaction, case_id: str) -> dict[str, Any]:
    clock = queries.current_clock(tx, case_id, "customer")
    if clock is None:
        raise NotFound(f"no clock for case {case_id}")
    return clock


def pause(tx: Transaction, *, case_id: str, reason: str, by: str, at: datetime) -> dict:
    """Waiting for the customer: the customer clock stands still until resumed, at most
    CS_SLA_PAUSE_MAX_H hours (then it runs again by itself: `end_pauses_due`).
    NotFound without a clock, IllegalTransition (409) unless it is running."""
    clock = _customer_clock(tx, case_id)
    ends_at = rules.pause_ends_at(clock["state"], at, tx.settings.sla_pause_max_h)
    tx.execute(
        "UPDATE sla_clocks SET state = 'paused', paused_at = %s, pause_ends_at = %s WHERE id = %s",
        (at, ends_at, clock["id"]),
    )
    tx.execute(
        "INSERT INTO sla_pauses (clock_id, reason, paused_by, paused_at) VALUES (%s, %s, %s, %s)",
        (clock["id"], reason, by, at),
    )
    return clock


def _close_pause(tx: Transaction, clock: dict[str, Any], at: datetime, by: str) -> float:
    """Ends the clock's pause at `at`, or where its bound ended it if that came first; the
    deadline moves by the time it stood still, and the warning is placed again in working
    time (unless it has been given already)."""
    resumed = rules.resume(
        paused_at=clock["paused_at"],
        pause_ends_at=clock["pause_ends_at"],
        paused_seconds=clock["paused_seconds"],
        due_at=clock["due_at"],
        at=at,
    )
    tx.execute(
        "UPDATE sla_pauses SET resumed_at = %s, resumed_by = %s"
        " WHERE clock_id = %s AND resumed_at IS NULL",
        (resumed.at, by, clock["id"]),
    )
    paused = resumed.paused_seconds - clock["paused_seconds"]
    clock.update(
        state="running",
        paused_at=None,
        pause_ends_at=None,
        paused_seconds=resumed.paused_seconds,
        due_at=resumed.due_at,
    )
    if clock["warned_at"] is None:
        clock["warning_at"] = place_warning(tx, clock, clock["due_at"])
    tx.execute(
        "UPDATE sla_clocks SET state = 'running', paused_at = NULL, pause_ends_at = NULL,"
        " paused_seconds = %s, due_at = %s, warning_at = %s WHERE id = %s",
        (clock["paused_seconds"], clock["due_at"], clock["warning_at"], clock["id"]),
    )
    return paused


def resume(tx: Transaction, *, case_id: str, at: datetime, by: str) -> dict:
    """NotFound without a clock, IllegalTransition (409) unless it is paused."""
    clock = _customer_clock(tx, case_id)
    rules.check_resume(clock["state"])
    _close_pause(tx, clock, at, by)
    return clock


# what the scheduler finds due (scheduler.py)


def _due(tx: Transaction, condition: str, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Open clocks matching `condition` (through the partial indexes), locked, skipping those
    another scheduler holds."""
    return tx.all(
        f"SELECT * FROM sla_clocks WHERE {condition} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        (now, limit),
    )


def end_pauses_due(tx: Transaction, now: datetime, limit: int) -> int:
    """Pauses that reached their bound run again, as of the bound: a clock never stands still
    for longer than CS_SLA_PAUSE_MAX_H, however late the scheduler comes."""
    due = _due(tx, "state = 'paused' AND pause_ends_at <= %s", now, limit)
    due = [c for c in due if rules.pause_over(c, now)]
    for clock in due:
        _close_pause(tx, clock, clock["pause_ends_at"], "scheduler")
    return len(due)


def elapsed_ratio(tx: Transaction, clock: dict[str, Any], now: datetime) -> float:
    """Share of the clock's working time used at `now`, paused time not counted."""
    pauses = queries.pauses_of(tx, clock["id"]) if clock["paused_seconds"] else []
    hours = queries.business_hours(tx, clock["started_at"], clock["due_at"])
    return round(share_used(clock["started_at"], clock["due_at"], now, hours, pauses), 3)


def _warn(tx: Transaction, clock: dict[str, Any], now: datetime) -> None:
    tx.execute("UPDATE sla_clocks SET warned_at = %s WHERE id = %s", (now, clock["id"]))
    clock["warned_at"] = now
    tx.emit(
        new_event(
            "sla.warning",
            clock["case_id"],
            {
                "case_id": clock["case_id"],
                "clock": clock["clock"],
                "due_at": clock["due_at"],
                "elapsed_ratio": elapsed_ratio(tx, clock, now),
            },
            source=SOURCE,
        )
    )


def warn_due(tx: Transaction, now: datetime, limit: int) -> int:
    """Running clocks past their warning point: `sla.warning`, once."""
    due = _due(
        tx,
        "stopped_at IS NULL AND state = 'running' AND warned_at IS NULL AND warning_at <= %s",
        now,
        limit,
    )
    due = [c for c in due if rules.warning_due(c, now)]
    for clock in due:
        _warn(tx, clock, now)
    return len(due)


def breach_due(tx: Transaction, now: datetime, limit: int) -> int:
    """Running clocks past their deadline: `sla.breached` (after their warning, if it has not
    gone out) and the department head told."""
    due = _due(
        tx,
        "stopped_at IS NULL AND state = 'running' AND breached_at IS NULL AND due_at <= %s",
        now,
        limit,
    )
    due = [c for c in due if rules.breach_due(c, now)]
    for clock in due:
        if clock["warned_at"] is None:
            _warn(tx, clock, now)  # a warning always comes before its breach
        breach(tx, clock, now)
    return len(due)


def escalate_due(tx: Transaction, now: datetime, limit: int) -> int:
    """Breaches the department head was told of long enough ago: the supervision group."""
    due = _due(
        tx,
        "stopped_at IS NULL AND state = 'breached' AND escalation_level = 2"
        " AND next_escalation_at <= %s",
        now,
        limit,
    )
    due = [c for c in due if rules.escalation_due(c, now)]
    for clock in due:
        escalate(tx, clock, 3, now)
    return len(due)


def breach(tx: Transaction, clock: dict[str, Any], now: datetime) -> None:
    """The deadline passed: `sla.breached`, escalated at once to the department head."""
    tx.execute(
        "UPDATE sla_clocks SET breached_at = due_at,"
        " state = CASE WHEN stopped_at IS NULL THEN 'breached' ELSE state END WHERE id = %s",
        (clock["id"],),
    )
    tx.emit(
        new_event(
            "sla.breached",
            clock["case_id"],
            {
                "case_id": clock["case_id"],
                "clock": clock["clock"],
                "department": clock["department"],
                "assignee_id": clock["assignee_id"],
                "due_at": clock["due_at"],
                "breached_at": clock["due_at"],
            },
            source=SOURCE,
        )
    )
    escalate(tx, clock, 2, now)


def escalate(tx: Transaction, clock: dict[str, Any], level: int, now: datetime) -> None:
    """Level 2: the department head; level 3, CS_ESCALATION_AFTER_H working hours after the
    head was told: the supervision group."""
    next_at = rules.next_escalation_at(
        level, now, tx.settings.escalation_after_h, queries.business_hours(tx, now)
    )
    tx.execute(
        "UPDATE sla_clocks SET escalation_level = %s, escalated_at = %s, next_escalation_at = %s"
        " WHERE id = %s",
        (level, now, next_at, clock["id"]),
    )
    tx.execute(
        "INSERT INTO sla_escalations (clock_id, level, notify, at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (clock["id"], level, rules.ESCALATION[level], now),
    )
