"""Work items: a transferred case in a department's queue, who has it, and what they do with it.

A transferred case becomes one work item in the department the rules choose, assigned to the
least-loaded qualified member (domain/assignment.py), and the department clock starts. Every
change of who has an item takes the department row's lock first (`directory.lock_department`),
so two transfers at once never both go to one member while another is free: the second waits
for the first to commit and then sees its load. Lock order everywhere: department, item,
clocks.

Each change of assignee is announced as `case.routed` (intake shows who has the case now);
progress as `case.progressed`, and the end as `case.handled`. Notes are staff text: they stay
in `work_item_notes` and never go into events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.routing import queries
from services.routing.commands import SOURCE, clocks, directory
from services.routing.domain import work_item
from services.routing.domain.assignment import ASSIGNABLE_ROLES, Candidate, choose_assignee
from services.routing.domain.deadlines import SHANGHAI
from services.routing.domain.incidents import Incident
from services.routing.domain.rules import CaseAttributes
from services.routing.domain.work_item import OPEN
from shared import scoping
from shared.db import Transaction
from shared.errors import Conflict, Invalid, NotFound, NotYet
from shared.events import new_event
from shared.scoping import Actor
from shared.steps import Step


class CaseFactsMissing(NotYet):
    """case.transferred came before case.opened: the consumer holds it until that arrives."""


class NoDepartment(LookupError):
    """No rule matches and there is no default department: fix the rules, then replay."""


_ITEM = queries.ITEM_COLUMNS
_dated = queries.dated


# choosing and changing the assignee


def _candidates(tx: Transaction, department: str) -> list[Candidate]:
    rows = tx.all(
        "SELECT s.staff_id, s.role, s.active, s.skills, s.regions,"
        " (SELECT count(*) FROM work_items w WHERE w.assignee_id = s.staff_id"
        "  AND w.state IN ('assigned', 'accepted')) AS open_items,"
        " (SELECT max(a.at) FROM work_item_assignments a WHERE a.staff_id = s.staff_id)"
        "  AS last_assigned_at"
        " FROM staff s WHERE s.department = %s AND s.active",
        (department,),
    )
    return [
        Candidate(
            staff_id=r["staff_id"],
            role=r["role"],
            active=r["active"],
            skills=tuple(r["skills"]),
            regions=tuple(r["regions"]),
            open_items=r["open_items"],
            last_assigned_at=r["last_assigned_at"],
        )
        for r in rows
    ]


def _choose(
    tx: Transaction, department: str, case_id: str, exclude: tuple[str, ...] = ()
) -> str | None:
    """The least-loaded qualified member; call with the department locked."""
    facts = queries.case_facts(tx, case_id) or {}
    return choose_assignee(
        _candidates(tx, department),
        category=facts.get("category"),
        region=facts.get("region"),
        exclude=exclude,
    )


def _log_assignment(
    tx: Transaction, item: dict[str, Any], staff_id: str | None, why: str, by: str, at: datetime
) -> None:
    tx.execute(
        "INSERT INTO work_item_assignments (work_item_id, department, staff_id, why, by, at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (item["id"], item["department"], staff_id, why, by, at),
    )


def _announce_routed(tx: Transaction, item: dict[str, Any], at: datetime) -> None:
    if item["case_id"] is None:
        return  # an incident's item: its cases' timelines follow the incident
    tx.emit(
        new_event(
            "case.routed",
            item["case_id"],
            {
                "case_id": item["case_id"],
                "department": item["department"],
                "assignee_id": item["assignee_id"],
                "due_at": item["due_at"],
                "routed_at": at,
            },
            source=SOURCE,
        )
    )


def _set_assignee(
    tx: Transaction,
    item: dict[str, Any],
    staff_id: str | None,
    why: str,
    by: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Gives a locked item to `staff_id` (None: back to the queue), told to clock and intake,
    at `at` (default now)."""
    now = at or tx.now
    state = work_item.assignment_state(item["state"], staff_id)
    row = tx.one(
        f"UPDATE work_items SET assignee_id = %s, state = %s,"
        f" assigned_at = CASE WHEN %s::text IS NULL THEN NULL ELSE %s END, accepted_at = NULL"
        f" WHERE id = %s RETURNING {_ITEM}",
        (staff_id, state, staff_id, now, item["id"]),
    )
    assert row is not None
    _log_assignment(tx, row, staff_id, why, by, now)
    clocks.set_assignee(
        tx, case_id=row["case_id"], department=row["department"], assignee_id=staff_id
    )
    _announce_routed(tx, row, now)
    return _dated(tx, row)


# the case arrives, and leaves


def route_case(
    tx: Transaction,
    *,
    case_id: str,
    requested_department: str | None,
    at: datetime | None = None,
    by: str = "routing",
) -> dict[str, Any] | None:
    """A transferred case: department by the rules, member by load, clock started, all at the
    time of the transfer (`at`, default now): routing follows the transfer at once. A case
    linked to a network incident gets no item of its own: the incident's item, or None.

    Raises CaseFactsMissing when `case.opened` has not arrived yet (the consumer waits) and
    NoDepartment when the rules give no department.
    """
    facts = queries.case_facts(tx, case_id)
    if facts is None:
        raise CaseFactsMissing(f"case.opened of {case_id}")
    now = at or tx.now
    incident_id = queries.linked_incident(tx, case_id)
    if incident_id is not None:
        # a linked case has no item of its own: the incident's (if the rules gave it one)
        return _incident_item(tx, incident_id)
    decision = queries.decide(
        tx,
        CaseAttributes(
            **{k: facts[k] for k in ("kind", "category", "region", "channel", "priority")}
        ),
        requested_department,
        now.astimezone(SHANGHAI).date(),
    )
    if decision.department is None:
        raise NoDepartment(f"case {case_id}: {decision.reason}")
    department = directory.lock_department(tx, decision.department)
    # transferred again while an earlier item is open: the new routing replaces it
    tx.execute(
        "UPDATE work_items SET state = 'closed', closed_at = %s"
        " WHERE case_id = %s AND state = ANY(%s)",
        (now, case_id, list(OPEN)),
    )
    assignee = _choose(tx, department["code"], case_id)
    ola = department["ola_hours"]
    due_at = clocks.start_department_clock(
        tx,
        case_id=case_id,
        department=department["code"],
        assignee_id=assignee,
        ola_hours=float(ola) if ola is not None else None,
        routed_at=now,
    )
    item = tx.one(
        f"INSERT INTO work_items (case_id, department, assignee_id, state, rule_id,"
        f" routing_reason, due_at, created_at, assigned_at)"
        f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_ITEM}",
        (
            case_id,
            department["code"],
            assignee,
            work_item.routed_state(assignee),
            decision.rule_id,
            decision.reason,
            due_at,
            now,
            now if assignee else None,
        ),
    )
    assert item is not None
    _log_assignment(tx, item, assignee, "routed", by, now)
    _announce_routed(tx, item, now)
    return _dated(tx, item)


def close_case_items(tx: Transaction, *, case_id: str, at: datetime) -> int:
    """The case was resolved (possibly by the agent): its open items close, silently."""
    return tx.execute(
        "UPDATE work_items SET state = 'closed', closed_at = %s"
        " WHERE case_id = %s AND state = ANY(%s)",
        (at, case_id, list(OPEN)),
    ).rowcount


# an incident: its department's single work item


def _incident_item(tx: Transaction, incident_id: str) -> dict[str, Any] | None:
    item = tx.one(f"SELECT {_ITEM} FROM work_items WHERE incident_id = %s", (incident_id,))
    return _dated(tx, item) if item else None


def open_incident_item(tx: Transaction, incident: Incident) -> dict[str, Any] | None:
    """The incident's one work item, in the department the rules give its (first) region and
    category, to the least-loaded qualified member; kept if it exists. None when the rules
    give no department (the cases then wait unassigned, linked to the incident)."""
    existing = _incident_item(tx, incident.id)
    if existing is not None:
        return existing
    region, category = min(incident.regions), min(incident.categories)
    decision = queries.decide(
        tx,
        CaseAttributes(kind="complaint", category=category, region=region),
        None,
        tx.now.astimezone(SHANGHAI).date(),
    )
    if decision.department is None:
        return None
    department = directory.lock_department(tx, decision.department)
    assignee = choose_assignee(
        _candidates(tx, department["code"]), category=category, region=region
    )
    item = tx.one(
        f"INSERT INTO work_items (incident_id, department, assignee_id, state, rule_id,"
        f" routing_reason, due_at, created_at, assigned_at)"
        f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_ITEM}",
        (
            incident.id,
            department["code"],
            assignee,
            work_item.routed_state(assignee),
            decision.rule_id,
            f"network incident: {decision.reason}",
            incident.eta,
            tx.now,
            tx.now if assignee else None,
        ),
    )
    assert item is not None
    _log_assignment(tx, item, assignee, "routed", "routing", tx.now)
    return _dated(tx, item)


def close_incident_item(tx: Transaction, incident_id: str, *, at: datetime) -> int:
    return tx.execute(
        "UPDATE work_items SET state = 'closed', closed_at = %s"
        " WHERE incident_id = %s AND state = ANY(%s)",
        (at, incident_id, list(OPEN)),
    ).rowcount


def close_linked_items(tx: Transaction, case_ids: list[str], *, at: datetime) -> int:
    """Cases just linked to an incident: their own open items close (the incident's is theirs),
    and their department clocks stop with them."""
    closed = tx.execute(
        "UPDATE work_items SET state = 'closed', closed_at = %s"
        " WHERE case_id = ANY(%s) AND state = ANY(%s) RETURNING case_id",
        (at, case_ids, list(OPEN)),
    ).fetchall()
    for (case_id,) in closed:
        clocks.stop_department_clock(tx, case_id=case_id, at=at)
    return len(closed)


# what the department does


def _load(
    tx: Transaction, item_id: int, action: str, actor: Actor, *, lock_department: bool
) -> dict[str, Any]:
    """The item, locked, after checking it exists (404), the actor (403) and the state (409:
    IllegalTransition, domain/work_item.py)."""
    found = tx.one("SELECT department FROM work_items WHERE id = %s", (item_id,))
    if found is None:
        raise NotFound(f"no work item {item_id}")
    if lock_department:
        directory.lock_department(tx, found["department"])
    item = tx.one(f"SELECT {_ITEM} FROM work_items WHERE id = %s FOR UPDATE", (item_id,))
    assert item is not None
    if item["incident_id"] is not None and action in ("progress", "handle"):
        raise Conflict(
            f"work item {item_id} is incident {item['incident_id']}'s: post its updates and"
            " its resolution on /incidents"
        )
    scoping.require(actor, item["department"], action, f"work item {item_id}")
    work_item.check(action, item["state"])
    return item


def _assignable_member(tx: Transaction, staff_id: str, department: str) -> bool:
    member = queries.find_staff(tx, staff_id)
    return bool(
        member
        and member["active"]
        and member["department"] == department
        and member["role"] in ASSIGNABLE_ROLES
    )


def accept(tx: Transaction, item_id: int, actor: Actor, step: Step | None = None) -> dict[str, Any]:
    """The assignee takes the item on; an unassigned one is taken by the member accepting it
    (for a reporting system: the person it names)."""
    item = _load(tx, item_id, "accept", actor, lock_department=True)
    step = _checked(tx, item, step or Step(tx.now, actor.subject))
    if item["assignee_id"] is None:
        if not _assignable_member(tx, step.by, item["department"]):
            raise Conflict(
                f"work item {item_id} has no assignee: reassign it, or let a member of"
                f" {item['department']} accept it"
            )
        item = _set_assignee(tx, item, step.by, "taken from the queue", step.by, step.at)
    accepted = tx.one(
        f"UPDATE work_items SET state = 'accepted', accepted_at = %s WHERE id = %s"
        f" RETURNING {_ITEM}",
        (step.at, item_id),
    )
    assert accepted is not None
    return _dated(tx, accepted)


def _checked(tx: Transaction, item: dict[str, Any], step: Step) -> Step:
    """A reported step no earlier than the item's routing and its last note."""
    if not step.reported:
        return step
    step.not_before(item["created_at"], "the case's routing to the department")
    last = tx.execute(
        "SELECT max(at) FROM work_item_notes WHERE work_item_id = %s", (item["id"],)
    ).fetchone()[0]
    return step.not_before(last, "the item's last note")


def progress(
    tx: Transaction, item_id: int, note: str, eta: datetime | None, actor: Actor, step: Step
) -> dict[str, Any]:
    """A progress note (kept here) and, for the case timeline, `case.progressed` with the ETA."""
    item = _load(tx, item_id, "progress", actor, lock_department=False)
    now, by = _checked(tx, item, step).at, step.by
    tx.execute(
        "INSERT INTO work_item_notes (work_item_id, kind, note, eta, by, at)"
        " VALUES (%s, 'progress', %s, %s, %s, %s)",
        (item_id, note, eta, by, now),
    )
    tx.emit(
        new_event(
            "case.progressed",
            item["case_id"],
            {"case_id": item["case_id"], "eta": eta, "by": by, "at": now},
            source=SOURCE,
        )
    )
    return _dated(tx, item)


def hand_back(tx: Transaction, item_id: int, reason: str, actor: Actor) -> dict[str, Any]:
    """Back to the department's queue, then to the least-loaded other member, if there is one."""
    item = _load(tx, item_id, "hand back", actor, lock_department=True)
    previous = item["assignee_id"]
    tx.execute(
        "INSERT INTO work_item_notes (work_item_id, kind, note, by, at)"
        " VALUES (%s, 'hand_back', %s, %s, %s)",
        (item_id, reason, actor.subject, tx.now),
    )
    item = dict(item, state="handed_back")
    successor = _choose(tx, item["department"], item["case_id"], exclude=(previous,))
    why = f"handed back by {previous}"
    return _set_assignee(tx, item, successor, why, actor.subject)


def handle(
    tx: Transaction, item_id: int, resolution_code: str, actor: Actor, step: Step
) -> dict[str, Any]:
    """Done: the department clock stops and `case.handled` tells intake."""
    loaded = _load(tx, item_id, "handle", actor, lock_department=False)
    now, by = _checked(tx, loaded, step).at, step.by
    item = tx.one(
        f"UPDATE work_items SET state = 'handled', handled_at = %s, handled_by = %s,"
        f" resolution_code = %s WHERE id = %s RETURNING {_ITEM}",
        (now, by, resolution_code, item_id),
    )
    assert item is not None
    clocks.stop_department_clock(tx, case_id=item["case_id"], at=now)
    tx.emit(
        new_event(
            "case.handled",
            item["case_id"],
            {
                "case_id": item["case_id"],
                "department": item["department"],
                "handled_by": by,
                "resolution_code": resolution_code,
                "handled_at": now,
            },
            source=SOURCE,
        )
    )
    return _dated(tx, item)


def reassign(tx: Transaction, item_id: int, assignee_id: str, actor: Actor) -> dict[str, Any]:
    """By hand, to an active member of the item's department (skills and regions not asked)."""
    item = _load(tx, item_id, "reassign", actor, lock_department=True)
    if not _assignable_member(tx, assignee_id, item["department"]):
        raise Invalid(
            "assignee_id",
            f"{assignee_id} is not an active department_staff or department_head"
            f" of {item['department']}",
        )
    if item["assignee_id"] == assignee_id:
        return item
    return _set_assignee(tx, item, assignee_id, "reassigned", actor.subject)


def release_items_of(tx: Transaction, staff_id: str, by: str) -> list[dict[str, Any]]:
    """Moves the open items of someone who may no longer have them (inactive, another
    department or role) to the least-loaded qualified member, or back to the queue.

    Returns the items moved, with their new assignee.
    """
    staff = queries.find_staff(tx, staff_id)
    held = tx.all(
        "SELECT id, department FROM work_items WHERE assignee_id = %s"
        " AND state IN ('assigned', 'accepted') ORDER BY department, id",
        (staff_id,),
    )
    moved: list[dict[str, Any]] = []
    for department in sorted({h["department"] for h in held}):
        if staff is not None and _assignable_member(tx, staff_id, department):
            continue
        directory.lock_department(tx, department)
        for h in (h for h in held if h["department"] == department):
            item = tx.one(f"SELECT {_ITEM} FROM work_items WHERE id = %s FOR UPDATE", (h["id"],))
            if item is None or not work_item.still_held_by(
                item["state"], item["assignee_id"], staff_id
            ):
                continue
            successor = _choose(tx, department, item["case_id"], exclude=(staff_id,))
            moved.append(_set_assignee(tx, item, successor, f"{staff_id} left", by))
    return moved
