"""Intake's use cases; the HTTP views and event handlers write only through these.

Each takes the caller's transaction. Moves between states lock the case row first, so two
changes of one case never interleave and its events leave in the order they happened.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.intake.commands import SOURCE
from services.intake.domain import acknowledgements
from services.intake.domain.cases import CASE_NO_PREFIX
from services.intake.domain.incidents import Notice
from services.intake.domain.lifecycle import (
    HAND_CLOSE_OUTCOMES,
    holder,
    is_active,
    next_state,
    refuse,
)
from shared import scoping
from shared.db import Transaction
from shared.errors import Forbidden, NotFound
from shared.events import Event, new_event
from shared.events.catalogue import FREE_TEXT_LIMIT
from shared.personal_data import mask_text
from shared.scoping import Actor
from shared.steps import Step


class CaseNotFound(NotFound):
    """404: no such case."""


def _event(type_: str, case_id: uuid.UUID | str, data: dict[str, Any]) -> Event:
    return new_event(type_, str(case_id), data, source=SOURCE)


def _note(text: str | None, limit: int = FREE_TEXT_LIMIT) -> str:
    """Staff-written text that travels in an event: cut, its personal data masked, cut again
    (a mask can be longer than an e-mail address it hides)."""
    return mask_text((text or "")[:limit])[:limit]


_INSERT_CASE = """
WITH i AS (
    SELECT id, eta, message FROM incidents
    WHERE state = 'open' AND folded(%(region)s) = ANY(regions)
      AND folded(%(category)s) = ANY(categories) AND started_at <= %(opened_at)s
    ORDER BY started_at, id LIMIT 1
), c AS (
    INSERT INTO cases (id, case_no, kind, channel, category, region, priority, customer_ref,
                       customer_id, content, identity_verified, identity_method, agent_id,
                       received_at, opened_at, updated_at, incident_id)
    VALUES (%(id)s,
            case_number(%(prefix)s, nextval(%(sequence)s),
                        (%(opened_at)s AT TIME ZONE 'Asia/Shanghai')::date),
            %(kind)s, %(channel)s, %(category)s, %(region)s, %(priority)s, %(customer_ref)s,
            coalesce(%(customer_id)s,
                     (SELECT id FROM customers WHERE account_no_index = %(account_index)s)),
            %(content)s, %(identity_verified)s, %(identity_method)s,
            %(agent_id)s, %(received_at)s, %(opened_at)s, %(opened_at)s, (SELECT id FROM i))
    RETURNING id, case_no, opened_at, customer_id
), t AS (
    INSERT INTO case_timeline (case_id, at, type, by, detail)
    SELECT id, opened_at, 'opened', %(by)s, %(opened_detail)s FROM c
)
SELECT c.case_no, c.customer_id, i.id, i.eta, i.message FROM c LEFT JOIN i ON true
"""


def open_case(
    tx: Transaction,
    request: dict[str, Any],
    agent_id: str | None,
    customer_id: uuid.UUID | None = None,
    account_index: bytes | None = None,
    opened_at: datetime | None = None,
) -> dict[str, Any]:
    """Records a consultation or complaint and announces it (`case.opened`).

    The customer is `customer_id`, or else the one whose account number has the blind index
    `account_index` (looked up in the same statement as the insert: no round trip of its own).
    `opened_at` is when it was recorded, when a reporting system says so (default: now).
    A case of an open network incident's region and category is linked to it at once (in the
    same statement); `case["incident"]` is then its id, ETA and message, for the caller.
    """
    now = opened_at or tx.now
    by = agent_id or "system"
    case = {
        "id": uuid.uuid4(),
        "kind": request["kind"],
        "channel": request["channel"],
        "category": request["category"],
        "region": request["region"],
        "priority": request.get("priority") or "normal",
        "customer_ref": request.get("customer_ref") or "",
        "customer_id": customer_id,
        "content": request["content"],
        "identity_verified": request["identity_verified"],
        "identity_method": request.get("identity_method"),
        "agent_id": agent_id,
        "received_at": request.get("received_at") or now,
        "opened_at": now,
    }
    params = dict(
        case,
        by=by,
        prefix=CASE_NO_PREFIX[case["kind"]],
        sequence=f"case_no_{case['kind']}",
        account_index=account_index,
        # one entry says it all: what was opened, and how the caller's identity was checked
        opened_detail=Jsonb(
            {
                "kind": case["kind"],
                "channel": case["channel"],
                "identity_verified": case["identity_verified"],
                "identity_method": case["identity_method"],
            }
        ),
    )
    case["case_no"], customer_id, incident_id, eta, message = tx.execute(
        _INSERT_CASE, params
    ).fetchone()
    case["customer_id"] = customer_id
    case["state"] = "open"
    case["incident_id"] = incident_id
    case["incident"] = (
        None if incident_id is None else {"id": incident_id, "eta": eta, "message": message}
    )
    tx.emit(
        _event(
            "case.opened",
            case["id"],
            {
                "case_id": str(case["id"]),
                "case_no": case["case_no"],
                "kind": case["kind"],
                "channel": case["channel"],
                "category": case["category"],
                "region": case["region"],
                "priority": case["priority"],
                "customer_id": str(customer_id) if customer_id else None,
                "identity_verified": case["identity_verified"],
                "agent_id": agent_id,
                "opened_at": now,
                # clocks count from receipt, which may precede recording
                "received_at": case["received_at"],
                "incident_id": incident_id,
            },
        )
    )
    return case


def _lock(tx: Transaction, case_id: uuid.UUID | str) -> dict[str, Any]:
    case = tx.one(
        "SELECT id, case_no, kind, channel, category, state, department, transferred, eta,"
        " opened_at, received_at, incident_id FROM cases WHERE id = %s FOR UPDATE",
        (case_id,),
    )
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


def _may(case: dict[str, Any], actor: Actor | None, action: str) -> None:
    """Forbidden (403) unless `actor` may `action` the locked case where it is now: the front
    line's, a department's, or on its way (shared/scoping.py). No actor: another service
    told intake, which is no one's request."""
    if actor is not None:
        scoping.require(actor, holder(case["state"], case["department"]), action, _what(case))


def _what(case: dict[str, Any]) -> str:
    return f"case {case['case_no']}"


# the timeline entries that are steps of the case's handling: a step reported later with its
# own time may not come before them
STEP_TYPES = ("transferred", "routed", "progressed", "resolved", "reopened", "closed")


def _checked(tx: Transaction, case: dict[str, Any], step: Step) -> Step:
    """A reported step no earlier than the case's receipt and its previous step."""
    if not step.reported:
        return step
    step.not_before(case["received_at"], "the case's receipt")
    previous = tx.execute(
        "SELECT max(at) FROM case_timeline WHERE case_id = %s AND type = ANY(%s)",
        (case["id"], list(STEP_TYPES)),
    ).fetchone()[0]
    return step.not_before(previous, "the case's previous step")


def _timeline(
    tx: Transaction,
    case_id: uuid.UUID | str,
    type_: str,
    by: str,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    tx.execute(
        "INSERT INTO case_timeline (case_id, at, type, by, detail) VALUES (%s, %s, %s, %s, %s)",
        (case_id, at or tx.now, type_, by, Jsonb(detail or {})),
    )


def _move(tx: Transaction, case: dict[str, Any], action: str, **columns: Any) -> dict:
    """Checks the move of a locked case, saves the new state and columns; returns the case."""
    state = next_state(case["state"], action)
    assignments = ", ".join(f"{name} = %({name})s" for name in columns)
    tx.execute(
        f"UPDATE cases SET state = %(state)s, updated_at = %(updated_at)s"
        f"{', ' + assignments if assignments else ''} WHERE id = %(id)s",
        dict(columns, state=state, id=case["id"], updated_at=tx.now),
    )
    case["previous_state"], case["state"] = case["state"], state
    return case


def transfer_case(
    tx: Transaction,
    case_id: uuid.UUID,
    reason: str,
    requested_department: str | None,
    step: Step,
) -> dict[str, Any]:
    """The front line cannot solve it: routing is asked to find the responsible department.
    Only a front-line case (open, reopened) can be transferred: the state is the rule."""
    current = _lock(tx, case_id)
    now, by = _checked(tx, current, step).at, step.by
    case = _move(tx, current, "transfer", transferred=True)
    _timeline(
        tx,
        case_id,
        "transferred",
        by,
        {"reason": reason, "requested_department": requested_department},
        now,
    )
    tx.emit(
        _event(
            "case.transferred",
            case_id,
            {
                "case_id": str(case_id),
                "reason": _note(reason),
                "requested_department": requested_department,
                "agent_id": by,
                "transferred_at": now,
            },
        )
    )
    return case


def resolve_case(
    tx: Transaction,
    case_id: uuid.UUID | str,
    resolution: str,
    first_contact: bool,
    step: Step,
    department: str | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Resolved by the agent at once, or by the department (`case.handled`)."""
    current = _lock(tx, case_id)
    _may(current, actor, "resolve")
    at, by = _checked(tx, current, step).at, step.by
    # first-contact resolution: solved by the front line without a transfer
    first_contact = bool(first_contact) and not current["transferred"]
    department = department or current["department"]
    case = _move(
        tx,
        current,
        "resolve",
        resolution=resolution,
        first_contact=first_contact,
        resolved_by=by,
        resolved_at=at,
        department=department,
    )
    _timeline(
        tx,
        case_id,
        "resolved",
        by,
        {"resolution": resolution, "first_contact": first_contact, "department": department},
        at,
    )
    tx.emit(
        _event(
            "case.resolved",
            case_id,
            {
                "case_id": str(case_id),
                "kind": case["kind"],
                "category": case["category"],
                "department": department,
                "resolved_by": by,
                "first_contact": first_contact,
                "opened_at": case["received_at"],
                "resolved_at": at,
            },
        )
    )
    return case


def close_case(
    tx: Transaction,
    case_id: uuid.UUID | str,
    by: str,
    outcome: str,
    at: datetime | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Closed: by the follow-up's outcome (no actor), or by a supervisor's hand with one of
    HAND_CLOSE_OUTCOMES, never as confirmed."""
    if actor is not None and outcome not in HAND_CLOSE_OUTCOMES:
        raise Forbidden(
            f"a case is closed as {outcome} only by its follow-up call (followup.completed);"
            f" by hand a supervisor closes it as {', '.join(HAND_CLOSE_OUTCOMES)}"
        )
    at = at or tx.now
    current = _lock(tx, case_id)
    _may(current, actor, "close")
    case = _move(tx, current, "close", closed_at=at)
    _timeline(tx, case_id, "closed", by, {"outcome": outcome}, at)
    tx.emit(
        _event(
            "case.closed", case_id, {"case_id": str(case_id), "closed_at": at, "outcome": outcome}
        )
    )
    return case


def reopen_case(
    tx: Transaction, case_id: uuid.UUID | str, reason: str, by: str, at: datetime | None = None
) -> dict[str, Any]:
    """Not solved after all: back to work, with a new clock (routing starts it). Only a
    resolved or closed case, the front line's again, can be reopened: the state is the rule."""
    at = at or tx.now
    case = _move(tx, _lock(tx, case_id), "reopen", closed_at=None, resolved_at=None)
    tx.execute("UPDATE cases SET reopen_count = reopen_count + 1 WHERE id = %s", (case_id,))
    _timeline(tx, case_id, "reopened", by, {"reason": reason}, at)
    tx.emit(
        _event(
            "case.reopened",
            case_id,
            {"case_id": str(case_id), "reason": _note(reason), "reopened_at": at},
        )
    )
    return case


def give_eta(
    tx: Transaction,
    case_id: uuid.UUID | str,
    eta: datetime,
    note: str | None,
    by: str,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """A complex case: the customer is told when it should be done, and every later update."""
    case = _lock(tx, case_id)
    _may(case, actor, "give an ETA for")
    if not is_active(case["state"]):
        raise refuse("give an ETA for", case["state"])
    tx.execute("UPDATE cases SET eta = %s, updated_at = %s WHERE id = %s", (eta, tx.now, case_id))
    _timeline(
        tx,
        case_id,
        "eta_updated" if case["eta"] else "eta_given",
        by,
        {"eta": eta.isoformat(), "note": note},
    )
    return case


def add_interaction(
    tx: Transaction,
    case_id: uuid.UUID | str,
    type_: str,
    step: Step,
    text: str | None = None,
    detail: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> None:
    """A call in or out, a reply to the customer, an internal note, an email."""
    case = _lock(tx, case_id)
    _may(case, actor, "add to")
    if step.reported:
        step.not_before(case["received_at"], "the case's receipt")
    _timeline(tx, case_id, type_, step.by, dict(detail or {}, text=text), step.at)
    tx.execute("UPDATE cases SET updated_at = %s WHERE id = %s", (tx.now, case_id))


# --- what other services tell intake -------------------------------------------------------


def record_routed(
    tx: Transaction, case_id: str, department: str, assignee_id: str | None, at: datetime
) -> None:
    _move(tx, _lock(tx, case_id), "route", department=department, assignee_id=assignee_id)
    _timeline(
        tx, case_id, "routed", "routing", {"department": department, "assignee_id": assignee_id}, at
    )


def record_progress(
    tx: Transaction, case_id: str, eta: datetime | None, by: str, at: datetime
) -> None:
    _lock(tx, case_id)
    if eta is not None:
        tx.execute(
            "UPDATE cases SET eta = %s, updated_at = %s WHERE id = %s", (eta, tx.now, case_id)
        )
    _timeline(tx, case_id, "progressed", by, {"eta": eta.isoformat() if eta else None}, at)


def open_notice(tx: Transaction, incident_id: str) -> Notice | None:
    """What the customers of an open incident are told; None once it is resolved (or before
    intake has heard of it)."""
    row = tx.one(
        "SELECT eta, message FROM incidents WHERE id = %s AND state = 'open'", (incident_id,)
    )
    return None if row is None else Notice(incident_id, row["message"], row["eta"])


def start_deadline(
    tx: Transaction,
    case_id: str,
    due_at: datetime,
    provisional: bool,
    started_at: datetime | None = None,
) -> dict[str, Any] | None:
    """Routing started the customer clock: show the deadline and acknowledge the case.

    The deadline is known from the time the clock started (`started_at`: the receipt, or the
    reopening), but never before the case was recorded nor after now: a case reported late
    keeps its place in time on the timeline.
    """
    case = _lock(tx, case_id)
    at = tx.now if started_at is None else min(max(started_at, case["opened_at"]), tx.now)
    tx.execute(
        "UPDATE cases SET due_at = %s, due_provisional = %s, updated_at = %s WHERE id = %s",
        (due_at, provisional, tx.now, case_id),
    )
    _timeline(
        tx,
        case_id,
        "deadline_set",
        "routing",
        {"due_at": due_at.isoformat(), "provisional": provisional},
        at,
    )
    if not acknowledgements.needs_acknowledgement(case["kind"], case["state"], due_at, tx.now):
        return None
    # a case of an open incident: the customer hears the incident's message and ETA
    notice = None if case["incident_id"] is None else open_notice(tx, case["incident_id"])
    template = acknowledgements.template_code(case["kind"], case["channel"], notice is not None)
    text = acknowledgements.render(case["kind"], case["channel"], case["case_no"], due_at, notice)
    tx.execute(
        "INSERT INTO case_acknowledgements (case_id, template, text, due_at, at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (case_id, template, text, due_at, tx.now),
    )
    _timeline(tx, case_id, "acknowledged", "system", {"template": template})
    tx.emit(
        _event(
            "case.acknowledged",
            case_id,
            {
                "case_id": case_id,
                "case_no": case["case_no"],
                "kind": case["kind"],
                "template": template,
                "due_at": due_at,
            },
        )
    )
    return {"template": template, "text": text}
