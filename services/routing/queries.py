"""Reads: the SQL behind routing's GET endpoints, the loads its commands decide on, and its
gauges on /metrics. Nothing here writes (the reference cache below lives in the process).

The calendar and the time-limit policies are read for every clock but change a few times a
year, so each process caches them, keyed by the stamp that any change to them writes
(`reference_version`, migration 0006). The stamp is read once per transaction: a consumer's
batch of events costs one small query instead of three per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.routing.domain.deadlines import SHANGHAI, BusinessHours, Interval
from services.routing.domain.incident_detection import BurstEvidence
from services.routing.domain.incidents import Incident, IncidentState, deadline_before_eta
from services.routing.domain.rules import (
    CONDITIONS,
    CaseAttributes,
    Decision,
    DepartmentState,
    Rule,
    choose_department,
)
from services.routing.domain.work_item import OPEN, WAITING, is_overdue
from shared import clock, scoping
from shared.auth import Caller
from shared.db import Database, Transaction
from shared.errors import NotFound
from shared.events.catalogue import CLOCKS
from shared.metrics import Fact
from shared.paging import fetch_page
from shared.scoping import Actor, Holder
from shared.workdays import WorkingCalendar

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


def clocks_at_risk(
    db: Database, department: str | None, now: datetime, page: int, per_page: int
) -> dict[str, Any]:
    """Running clocks past their warning point, soonest deadline first: a page, and the total."""
    with db.transaction() as tx:
        return fetch_page(
            tx,
            select=_CLOCK_COLUMNS,
            table="sla_clocks c",
            where=[
                "c.stopped_at IS NULL",
                "c.state = 'running'",
                "c.warning_at <= %s",
                "(%s::text IS NULL OR c.department = %s)",
            ],
            params=[now, department, department],
            order="c.due_at, c.id",
            page=page,
            per_page=per_page,
        )


def clocks_breached(
    db: Database, department: str | None, page: int, per_page: int
) -> dict[str, Any]:
    """Breached clocks of cases still open, oldest breach first: a page, and the total."""
    with db.transaction() as tx:
        return fetch_page(
            tx,
            select=_CLOCK_COLUMNS,
            table="sla_clocks c",
            where=[
                "c.stopped_at IS NULL",
                "c.state = 'breached'",
                "(%s::text IS NULL OR c.department = %s)",
            ],
            params=[department, department],
            order="c.due_at, c.id",
            page=page,
            per_page=per_page,
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


def policies_at(db: Database, on: date, page: int, per_page: int) -> dict[str, Any]:
    """The SLA policy version in effect on a date, per kind and priority: a page, the total."""
    with db.transaction() as tx:
        return fetch_page(
            tx,
            select="*",
            table="(SELECT DISTINCT ON (kind, priority) kind, priority, working_days,"
            " warning_ratio, version, effective_from, changed_by, reason, changed_at"
            " FROM sla_policies WHERE effective_from <= %s ORDER BY kind, priority,"
            " effective_from DESC, version DESC) p",
            where=[],
            params=[on],
            order="kind, priority",
            page=page,
            per_page=per_page,
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
    for department, kind, state, n in rows:
        gauge.values[(department, kind, state)] = float(n)
    return [gauge]


# reference data: the calendar and the policies, cached per process

# far enough ahead for any time limit, even across a Spring Festival
_CALENDAR_WINDOW = timedelta(days=120)
# distinct start dates and policy keys stay few; the bound only guards against a pathological run
_MAX_ENTRIES = 2048


@dataclass
class _Reference:
    version: int
    calendars: dict[tuple[date, int], WorkingCalendar] = field(default_factory=dict)
    policies: dict[tuple[str, str, date], dict | None] = field(default_factory=dict)


_reference = _Reference(version=-1)


def _cached(tx: Transaction) -> _Reference:
    """This process's reference data for the stamp this transaction sees (a new one if changed)."""
    global _reference
    version = tx.memo.get("routing.reference_version")
    if version is None:
        version = tx.execute("SELECT version FROM reference_version").fetchone()[0]
        tx.memo["routing.reference_version"] = version
    current = _reference
    if current.version != version or (
        len(current.calendars) + len(current.policies) > _MAX_ENTRIES
    ):
        current = _reference = _Reference(version)
    return current


def reference_changed(tx: Transaction) -> None:
    """Called by whoever writes the calendar or the policies, so the rest of the transaction
    reads the new stamp (and so the data it just wrote)."""
    tx.memo.pop("routing.reference_version", None)


def calendar_from(tx: Transaction, start: date, until: date | None = None) -> WorkingCalendar:
    """The calendar from `start` (included) onwards, as far as a time limit can reach past
    `until` (a clock's due date, when a long pause moved it far from its start)."""
    reference = _cached(tx)
    windows = 1 + max(0, ((until or start) - start).days) // _CALENDAR_WINDOW.days
    calendar = reference.calendars.get((start, windows))
    if calendar is None:
        calendar = _load_calendar(tx, start, start + windows * _CALENDAR_WINDOW)
        reference.calendars[(start, windows)] = calendar
    return calendar


def _load_calendar(tx: Transaction, start: date, end: date) -> WorkingCalendar:
    rows = tx.execute(
        "SELECT day, working, reason FROM calendar_days WHERE day >= %s AND day <= %s",
        (start, end),
    ).fetchall()
    years = [r[0] for r in tx.execute("SELECT year FROM calendar_years").fetchall()]
    return WorkingCalendar({day: (working, reason) for day, working, reason in rows}, years)


def sla_policy(tx: Transaction, kind: str, priority: str, at: datetime) -> dict | None:
    """The policy in effect on the (Shanghai) date of `at` for kind and priority, else the
    kind's normal one."""
    reference = _cached(tx)
    key = (kind, priority, at.astimezone(SHANGHAI).date())
    if key not in reference.policies:
        reference.policies[key] = tx.one(
            "SELECT kind, priority, working_days, warning_ratio, version FROM sla_policies"
            " WHERE kind = %s AND priority IN (%s, 'normal') AND effective_from <= %s"
            " ORDER BY priority = %s DESC, effective_from DESC, version DESC LIMIT 1",
            (kind, priority, key[2], priority),
        )
    policy = reference.policies[key]
    return None if policy is None else dict(policy)


def business_hours(
    tx: Transaction, start: datetime, until: datetime | None = None
) -> BusinessHours:
    """Working time from `start`'s date on (as far as `until`): the calendar and the opening
    and close of business of the settings."""
    calendar = calendar_from(
        tx, start.astimezone(SHANGHAI).date(), until and until.astimezone(SHANGHAI).date()
    )
    return BusinessHours(calendar, tx.settings.opening_time, tx.settings.close_of_business)


_DAY_LOCK = 0x63616C64  # "cald": with the day's ordinal, one advisory lock per date


def calendar_day(tx: Transaction, day: date, *, lock: bool = False) -> dict[str, Any]:
    """One date as the calendar has it: a listed day (official or company), else Monday to
    Friday (`source` "weekdays"; `official` false when its year's schedule is not loaded).
    `lock` holds the date until commit, listed or not (before a change to it)."""
    if lock:
        tx.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_DAY_LOCK, day.toordinal()))
    listed = tx.one("SELECT day, working, reason, source FROM calendar_days WHERE day = %s", (day,))
    official = tx.one("SELECT 1 AS x FROM calendar_years WHERE year = %s", (day.year,))
    if listed is None:
        working = day.weekday() < 5
        listed = {
            "day": day,
            "working": working,
            "reason": "weekday" if working else "weekend",
            "source": "weekdays",
        }
    return dict(listed, official=official is not None)


# cases and clocks, as commands load them


def case_known(tx: Transaction, case_id: str) -> bool:
    """Whether routing has seen the case's `case.opened`."""
    return (
        tx.execute("SELECT 1 FROM case_facts WHERE case_id = %s", (case_id,)).fetchone() is not None
    )


def case_facts(tx: Transaction, case_id: str) -> dict[str, Any] | None:
    return tx.one(
        "SELECT kind, priority, category, region, channel FROM case_facts WHERE case_id = %s",
        (case_id,),
    )


def current_clock(tx: Transaction, case_id: str, clock: str, lock: bool = True) -> dict | None:
    """The newest generation's clock of this kind for the case, running or not."""
    return tx.one(
        "SELECT * FROM sla_clocks WHERE case_id = %s AND clock = %s"
        " ORDER BY generation DESC LIMIT 1" + (" FOR UPDATE" if lock else ""),
        (case_id, clock),
    )


def customer_clock(tx: Transaction, case_id: str) -> dict[str, Any]:
    """The case's newest customer clock (not locked); NotFound when it has none."""
    found = current_clock(tx, case_id, "customer", lock=False)
    if found is None:
        raise NotFound(f"no clock for case {case_id}")
    return found


def pauses_of(tx: Transaction, clock_id: int) -> list[Interval]:
    """The clock's pauses that have ended, in order."""
    rows = tx.execute(
        "SELECT paused_at, resumed_at FROM sla_pauses WHERE clock_id = %s"
        " AND resumed_at IS NOT NULL ORDER BY paused_at",
        (clock_id,),
    ).fetchall()
    return [(paused_at, resumed_at) for paused_at, resumed_at in rows]


# departments and staff

DEPARTMENT_COLUMNS = "code, name, head_id, ola_hours, is_default, active, created_at, updated_at"
STAFF_COLUMNS = (
    "staff_id, display_name, role, department, active, skills, regions, updated_by,"
    " created_at, updated_at"
)


def list_departments(tx: Transaction, active: bool | None = None) -> list[dict[str, Any]]:
    return tx.all(
        f"SELECT {DEPARTMENT_COLUMNS} FROM departments"
        " WHERE %(active)s::boolean IS NULL OR active = %(active)s ORDER BY code",
        {"active": active},
    )


def departments_page(
    tx: Transaction, active: bool | None, page: int, per_page: int
) -> dict[str, Any]:
    return fetch_page(
        tx,
        select=DEPARTMENT_COLUMNS,
        table="departments",
        where=["(%s::boolean IS NULL OR active = %s)"],
        params=[active, active],
        order="code",
        page=page,
        per_page=per_page,
    )


def get_department(tx: Transaction, code: str) -> dict[str, Any]:
    row = tx.one(f"SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE code = %s", (code,))
    if row is None:
        raise NotFound(f"no department {code}")
    return row


def list_staff(
    tx: Transaction,
    page: int,
    per_page: int,
    department: str | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> dict[str, Any]:
    return fetch_page(
        tx,
        select=STAFF_COLUMNS,
        table="staff",
        where=[
            "(%s::text IS NULL OR department = %s)",
            "(%s::text IS NULL OR role = %s)",
            "(%s::boolean IS NULL OR active = %s)",
        ],
        params=[department, department, role, role, active, active],
        order="staff_id",
        page=page,
        per_page=per_page,
    )


def find_staff(tx: Transaction, staff_id: str) -> dict[str, Any] | None:
    return tx.one(f"SELECT {STAFF_COLUMNS} FROM staff WHERE staff_id = %s", (staff_id,))


def actor(tx: Transaction, caller: Caller) -> Actor:
    """The caller as the object rules see them: their department if they are an active member
    (shared/scoping.py); the token's roles, never the directory's, say what they may do."""
    member = find_staff(tx, caller.subject)
    return Actor.of(caller, member["department"] if member and member["active"] else None)


def get_staff(tx: Transaction, staff_id: str) -> dict[str, Any]:
    row = find_staff(tx, staff_id)
    if row is None:
        raise NotFound(f"no staff member {staff_id}")
    return row


# routing rules

RULE_LISTS = tuple(plural for _, plural in CONDITIONS)
RULE_VERSION_COLUMNS = (
    "rule_id AS id, version, action, position, department, kinds, categories, regions,"
    " channels, priorities, effective_from, changed_by, changed_at, reason"
)


def rules_at(tx: Transaction, on: date) -> list[dict[str, Any]]:
    """The rules that apply on `on`, by position."""
    return tx.all(
        f"SELECT * FROM (SELECT DISTINCT ON (rule_id) {RULE_VERSION_COLUMNS}"
        " FROM routing_rule_versions"
        " WHERE effective_from <= %s ORDER BY rule_id, version DESC) v"
        " WHERE action <> 'deleted' ORDER BY position, id",
        (on,),
    )


def rules_page(tx: Transaction, on: date, page: int, per_page: int) -> dict[str, Any]:
    """The rules that apply on `on`, by position: a page, and the total."""
    return fetch_page(
        tx,
        select="*",
        table=f"(SELECT DISTINCT ON (rule_id) {RULE_VERSION_COLUMNS} FROM routing_rule_versions"
        " WHERE effective_from <= %s ORDER BY rule_id, version DESC) v",
        where=["action <> 'deleted'"],
        params=[on],
        order="position, id",
        page=page,
        per_page=per_page,
    )


def get_rule(tx: Transaction, rule_id: int) -> dict[str, Any]:
    """The rule's newest version (which may not apply yet: see its effective_from)."""
    row = tx.one(
        f"SELECT {RULE_VERSION_COLUMNS} FROM routing_rule_versions WHERE rule_id = %s"
        " ORDER BY version DESC LIMIT 1",
        (rule_id,),
    )
    if row is None or row["action"] == "deleted":
        raise NotFound(f"no routing rule {rule_id}")
    return row


def rule_versions(tx: Transaction, rule_id: int, page: int, per_page: int) -> dict[str, Any]:
    """The rule's versions, oldest first: a page, and the total; NotFound for no such rule."""
    found = fetch_page(
        tx,
        select=RULE_VERSION_COLUMNS,
        table="routing_rule_versions",
        where=["rule_id = %s"],
        params=[rule_id],
        order="version",
        page=page,
        per_page=per_page,
    )
    if not found["total"]:
        raise NotFound(f"no routing rule {rule_id}")
    return found


def _rule(row: dict[str, Any]) -> Rule:
    return Rule(
        id=row["id"],
        position=row["position"],
        department=row["department"],
        **{k: tuple(row[k]) for k in RULE_LISTS},
    )


def decide(
    tx: Transaction, case: CaseAttributes, requested: str | None = None, on: date | None = None
) -> Decision:
    """Where the case goes by the rules of `on` (default today), and why. Writes nothing."""
    rules = [_rule(r) for r in rules_at(tx, on or clock.today())]
    departments = {
        d["code"]: DepartmentState(d["code"], d["active"], d["is_default"])
        for d in list_departments(tx)
    }
    return choose_department(case, rules, departments, requested)


# work items

ITEM_COLUMNS = (
    "id, case_id, incident_id, department, assignee_id, state, rule_id, routing_reason,"
    " due_at, created_at, assigned_at, accepted_at, handled_at, handled_by, resolution_code,"
    " closed_at"
)


def dated(tx: Transaction, item: dict[str, Any]) -> dict[str, Any]:
    """The item with `overdue`: still waiting for the department at the transaction's time."""
    item["overdue"] = is_overdue(item["state"], item["due_at"], tx.now)
    return item


def case_holder(tx: Transaction, case_id: str) -> Holder:
    """Who has the case (shared/scoping.py): the department of its open work item, else the
    front line. The item stays share-locked until commit: a change of clock made on this
    answer cannot interleave with the case's rerouting."""
    item = tx.one(
        "SELECT department FROM work_items WHERE case_id = %s AND state = ANY(%s) FOR SHARE",
        (case_id, list(OPEN)),
    )
    return item["department"] if item else None


def list_items(
    tx: Transaction,
    *,
    page: int,
    per_page: int,
    department: str | None = None,
    assignee: str | None = None,
    states: tuple[str, ...] = OPEN,
    overdue: bool | None = None,
    case_id: str | None = None,
) -> dict[str, Any]:
    """Overdue first, then by due time: a page, and the total."""
    return fetch_page(
        tx,
        select="*",
        table=f"(SELECT {ITEM_COLUMNS}, coalesce(state = ANY(%s) AND due_at < %s, false)"
        " AS overdue FROM work_items) w",
        where=[
            "state = ANY(%s)",
            "(%s::text IS NULL OR department = %s)",
            "(%s::text IS NULL OR assignee_id = %s)",
            "(%s::text IS NULL OR case_id = %s)",
            "(%s::boolean IS NULL OR overdue = %s)",
        ],
        params=[
            list(WAITING),
            tx.now,
            list(states),
            department,
            department,
            assignee,
            assignee,
            case_id,
            case_id,
            overdue,
            overdue,
        ],
        order="overdue DESC, due_at NULLS LAST, id",
        page=page,
        per_page=per_page,
    )


def get_item(tx: Transaction, item_id: int, reader: Actor | None = None) -> dict[str, Any]:
    """One item with its notes; Forbidden for a reader confined to another department."""
    item = tx.one(f"SELECT {ITEM_COLUMNS} FROM work_items WHERE id = %s", (item_id,))
    if item is None:
        raise NotFound(f"no work item {item_id}")
    if reader is not None:
        scoping.require_reading(reader, item["department"], f"work item {item_id}")
    item["notes"] = tx.all(
        "SELECT kind, note, eta, by, at FROM work_item_notes WHERE work_item_id = %s"
        " ORDER BY at, id",
        (item_id,),
    )
    return dated(tx, item)


# network incidents

INCIDENT_COLUMNS = (
    "id, state, regions, categories, started_at, eta, message, cause, resolution, declared_by,"
    " declared_at, ended_at, evidence, created_at, updated_at"
)


def incident_row(tx: Transaction, incident_id: str, *, lock: bool = False) -> dict | None:
    return tx.one(
        f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = %s{' FOR UPDATE' if lock else ''}",
        (incident_id,),
    )


def _evidence(data: dict[str, Any] | None) -> BurstEvidence | None:
    if not data:
        return None
    return BurstEvidence(
        region=data["region"],
        category=data["category"],
        window_start=datetime.fromisoformat(data["window_start"]),
        window_end=datetime.fromisoformat(data["window_end"]),
        count=data["count"],
        baseline_median=data["baseline_median"],
        threshold=data["threshold"],
        case_ids=tuple(data["case_ids"]),
    )


def incident_of(row: dict[str, Any]) -> Incident:
    return Incident(
        id=row["id"],
        regions=frozenset(row["regions"]),
        categories=frozenset(row["categories"]),
        started_at=row["started_at"],
        state=IncidentState(row["state"]),
        eta=row["eta"],
        message=row["message"],
        cause=row["cause"],
        resolution=row["resolution"],
        declared_by=row["declared_by"],
        declared_at=row["declared_at"],
        ended_at=row["ended_at"],
        evidence=_evidence(row["evidence"]),
    )


def open_incidents(tx: Transaction) -> list[dict[str, Any]]:
    return tx.all(f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE state = 'open'")


def incidents_concerning(tx: Transaction, region: str, category: str) -> list[dict[str, Any]]:
    """The incidents of this region and category (folded), suspected, open, or recently ended."""
    return tx.all(
        f"SELECT {INCIDENT_COLUMNS} FROM incidents i"
        " WHERE EXISTS (SELECT 1 FROM unnest(i.regions) r WHERE lower(r) = lower(%s))"
        " AND EXISTS (SELECT 1 FROM unnest(i.categories) c WHERE lower(c) = lower(%s))"
        " AND (i.ended_at IS NULL OR i.ended_at > %s)",
        (region, category, tx.now - timedelta(days=1)),
    )


def cases_opened_between(
    tx: Transaction, region: str, category: str, start: datetime, end: datetime
) -> list[str]:
    rows = tx.execute(
        "SELECT case_id FROM case_facts WHERE lower(region) = lower(%s)"
        " AND lower(category) = lower(%s) AND opened_at BETWEEN %s AND %s"
        " ORDER BY opened_at, case_id",
        (region, category, start, end),
    ).fetchall()
    return [r[0] for r in rows]


def count_opened_between(
    tx: Transaction, region: str, category: str, start: datetime, end: datetime
) -> int:
    return tx.execute(
        "SELECT count(*) FROM case_facts WHERE lower(region) = lower(%s)"
        " AND lower(category) = lower(%s) AND opened_at BETWEEN %s AND %s",
        (region, category, start, end),
    ).fetchone()[0]


def linked_incident(tx: Transaction, case_id: str) -> str | None:
    row = tx.one("SELECT incident_id FROM incident_cases WHERE case_id = %s", (case_id,))
    return row["incident_id"] if row else None


def _incident_out(tx: Transaction, row: dict[str, Any]) -> dict[str, Any]:
    """An incident as the API shows it: with its linked cases' count and the ETA flag."""
    row["linked_cases"] = tx.execute(
        "SELECT count(*) FROM incident_cases WHERE incident_id = %s", (row["id"],)
    ).fetchone()[0]
    first_due = None
    if row["state"] == IncidentState.OPEN and row["eta"] is not None:
        first_due = tx.execute(
            "SELECT min(c.due_at) FROM sla_clocks c JOIN incident_cases l ON l.case_id = c.case_id"
            " WHERE l.incident_id = %s AND c.clock = 'customer' AND c.stopped_at IS NULL"
            " AND c.due_at > %s",
            (row["id"], tx.now),
        ).fetchone()[0]
    flagged = deadline_before_eta(row["eta"], [first_due] if first_due else [], now=tx.now)
    row["eta_past_deadline"] = flagged is not None
    row["first_deadline_before_eta"] = flagged
    return row


def get_incident(tx: Transaction, incident_id: str) -> dict[str, Any]:
    """One incident with its linked cases' count and its history, oldest change first."""
    row = incident_row(tx, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    row = _incident_out(tx, row)
    row["history"] = tx.all(
        "SELECT kind, at, by, fields FROM incident_changes WHERE incident_id = %s ORDER BY id",
        (incident_id,),
    )
    return row


def incidents_page(tx: Transaction, state: str | None, page: int, per_page: int) -> dict[str, Any]:
    """Newest first; `state` one of the incident states, or all."""
    result = fetch_page(
        tx,
        select=INCIDENT_COLUMNS,
        table="incidents",
        where=["(%s::text IS NULL OR state = %s)"],
        params=[state, state],
        order="started_at DESC, id",
        page=page,
        per_page=per_page,
    )
    result["items"] = [_incident_out(tx, r) for r in result["items"]]
    return result
