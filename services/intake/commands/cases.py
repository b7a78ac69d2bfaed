"""Intake's use cases; the HTTP views and event handlers write only through these.

Each takes the caller's transaction. Moves between states lock the case row first, so two
changes of one case never interleave and its events leave in the order they happened.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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
from shared.logs import correlated
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


# the columns of a new case's row in `_INSERT_CASES`, with their types
_COLUMNS = {
    "id": "uuid",
    "kind": "text",
    "channel": "text",
    "category": "text",
    "region": "text",
    "priority": "text",
    "customer_ref": "text",
    "customer_id": "uuid",
    "content": "text",
    "identity_verified": "bool",
    "identity_method": "text",
    "agent_id": "text",
    "received_at": "timestamptz",
    "opened_at": "timestamptz",
    "account_index": "bytea",
    "prefix": "text",
    "by": "text",
    "opened_detail": "jsonb",
}
# the one statement that opens cases (one POST, or a burst's batch): each row's case number,
# its customer (by id, or by the blind index of its account number), its open incident (linked
# at once) and its `opened` timeline entry
_INSERT_CASES = """
WITH r AS (
    SELECT * FROM {rows}
), c AS (
    INSERT INTO cases (id, case_no, kind, channel, category, region, priority, customer_ref,
                       customer_id, content, identity_verified, identity_method, agent_id,
                       received_at, opened_at, updated_at, incident_id)
    SELECT r.id,
           case_number(r.prefix, nextval('case_no_' || r.kind),
                       (r.opened_at AT TIME ZONE 'Asia/Shanghai')::date),
           r.kind, r.channel, r.category, r.region, r.priority, r.customer_ref,
           coalesce(r.customer_id,
                    (SELECT id FROM customers WHERE account_no_index = r.account_index)),
           r.content, r.identity_verified, r.identity_method, r.agent_id, r.received_at,
           r.opened_at, r.opened_at,
           (SELECT id FROM incidents
            WHERE state = 'open' AND folded(r.region) = ANY(regions)
              AND folded(r.category) = ANY(categories) AND started_at <= r.opened_at
            ORDER BY started_at, id LIMIT 1)
    FROM r
    RETURNING id, case_no, customer_id, incident_id
), t AS (
    INSERT INTO case_timeline (case_id, at, type, by, detail)
    SELECT r.id, r.opened_at, 'opened', r.by, r.opened_detail FROM c JOIN r USING (id)
)
SELECT c.id, c.case_no, c.customer_id, c.incident_id, i.eta, i.message
FROM c LEFT JOIN incidents i ON i.id = c.incident_id
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
    new = NewCase(request, agent_id, customer_id, account_index, opened_at)
    return open_cases(tx, [new])[0]


@dataclass(frozen=True)
class NewCase:
    """What `open_cases` opens a case from: the request's fields (kind, channel, category,
    region, content, identity_verified; optionally priority, customer_ref, identity_method,
    received_at), who opened it, and the correlation id its `case.opened` carries (default:
    the one of the work at hand)."""

    request: dict[str, Any]
    agent_id: str | None
    customer_id: uuid.UUID | None = None
    account_index: bytes | None = None
    opened_at: datetime | None = None
    correlation_id: str | None = None


def open_cases(tx: Transaction, new: list[NewCase]) -> list[dict[str, Any]]:
    """Opens many cases with one statement (`open_case` for each), in the order given."""
    cases = [_case_row(tx, n) for n in new]
    found = {row[0]: row[1:] for row in tx.with_rows(_INSERT_CASES, _COLUMNS, cases)}
    for n, case in zip(new, cases, strict=True):
        case_no, customer_id, incident_id, eta, message = found[case["id"]]
        case.update(
            case_no=case_no,
            customer_id=customer_id,
            state="open",
            incident_id=incident_id,
            incident=None
            if incident_id is None
            else {"id": incident_id, "eta": eta, "message": message},
        )
        for name in ("account_index", "prefix", "by", "opened_detail"):
            del case[name]
        with correlated(n.correlation_id):
            tx.emit(_opened(case))
    return cases


def _case_row(tx: Transaction, new: NewCase) -> dict[str, Any]:
    request, now = new.request, new.opened_at or tx.now
    kind = request["kind"]
    return {
        "id": uuid.uuid4(),
        "kind": kind,
        "channel": request["channel"],
        "category": request["category"],
        "region": request["region"],
        "priority": request.get("priority") or "normal",
        "customer_ref": request.get("customer_ref") or "",
        "customer_id": new.customer_id,
        "content": request["content"],
        "identity_verified": request["identity_verified"],
        "identity_method": request.get("identity_method"),
        "agent_id": new.agent_id,
        "received_at": request.get("received_at") or now,
        "opened_at": now,
        "account_index": new.account_index,
        "prefix": CASE_NO_PREFIX[kind],
        "by": new.agent_id or "system",
        # one entry says it all: what was opened, and how the caller's identity was checked
        "opened_detail": Jsonb(
            {
                "kind": kind,
                "channel": request["channel"],
                "identity_verified": request["identity_verified"],
                "identity_method": request.get("identity_method"),
            }
        ),
    }


def _opened(case: dict[str, Any]) -> Event:
    customer_id = case["customer_id"]
    return _event(
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
            "agent_id": case["agent_id"],
            "opened_at": case["opened_at"],
            # clocks count from receipt, which may precede recording
            "received_at": case["received_at"],
            "incident_id": case["incident_id"],
        },
    )


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


_TIMELINE_COLUMNS = {
    "case_id": "uuid",
    "at": "timestamptz",
    "type": "text",
    "by": "text",
    "detail": "jsonb",
}


def _entry(
    case_id: str, at: datetime, type_: str, by: str, detail: dict[str, Any]
) -> dict[str, Any]:
    return {"case_id": case_id, "at": at, "type": type_, "by": by, "detail": detail}


def _timelines(tx: Transaction, entries: list[dict[str, Any]]) -> None:
    """Timeline entries of many cases (`_TIMELINE_COLUMNS`), with one statement."""
    tx.with_rows(
        "INSERT INTO case_timeline (case_id, at, type, by, detail) SELECT * FROM {rows}",
        _TIMELINE_COLUMNS,
        [dict(e, detail=Jsonb(e["detail"])) for e in entries],
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


@dataclass(frozen=True)
class Deadline:
    """Routing started a case's customer clock: its deadline, whether provisional, when the
    clock started (the receipt or the reopening), and the correlation id of that news."""

    case_id: str
    due_at: datetime
    provisional: bool
    started_at: datetime | None = None
    correlation_id: str | None = None


def start_deadlines(tx: Transaction, deadlines: list[Deadline]) -> None:
    """Shows each case's deadline and acknowledges the case (`case.acknowledged`), with one
    statement per table for any number of cases (an outage's burst).

    A deadline is known from the time its clock started, but never before the case was
    recorded nor after now: a case reported late keeps its place in time on the timeline.
    """
    ids = [d.case_id for d in deadlines]
    found = {
        str(c["id"]): c
        for c in tx.all(
            "SELECT id, case_no, kind, channel, state, opened_at, incident_id FROM cases"
            " WHERE id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE",
            (ids,),
        )
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise CaseNotFound(f"no case {missing[0]}")
    tx.with_rows(
        "UPDATE cases c SET due_at = r.due_at, due_provisional = r.provisional,"
        " updated_at = r.at FROM {rows} WHERE c.id = r.id",
        {"id": "uuid", "due_at": "timestamptz", "provisional": "bool", "at": "timestamptz"},
        [
            {"id": d.case_id, "due_at": d.due_at, "provisional": d.provisional, "at": tx.now}
            for d in deadlines
        ],
    )
    timeline: list[dict[str, Any]] = []
    acknowledged: list[dict[str, Any]] = []
    notices: dict[str, Notice | None] = {}
    for d in deadlines:
        case = found[d.case_id]
        at = tx.now if d.started_at is None else min(max(d.started_at, case["opened_at"]), tx.now)
        detail = {"due_at": d.due_at.isoformat(), "provisional": d.provisional}
        timeline.append(_entry(d.case_id, at, "deadline_set", "routing", detail))
        if not acknowledgements.needs_acknowledgement(
            case["kind"], case["state"], d.due_at, tx.now
        ):
            continue
        # a case of an open incident: the customer hears the incident's message and ETA
        incident_id = case["incident_id"]
        if incident_id is not None and incident_id not in notices:
            notices[incident_id] = open_notice(tx, incident_id)
        notice = None if incident_id is None else notices[incident_id]
        template = acknowledgements.template_code(case["kind"], case["channel"], notice is not None)
        text = acknowledgements.render(
            case["kind"], case["channel"], case["case_no"], d.due_at, notice
        )
        acknowledged.append(
            {
                "case_id": d.case_id,
                "template": template,
                "text": text,
                "due_at": d.due_at,
                "at": tx.now,
            }
        )
        timeline.append(_entry(d.case_id, tx.now, "acknowledged", "system", {"template": template}))
        with correlated(d.correlation_id):
            tx.emit(
                _event(
                    "case.acknowledged",
                    d.case_id,
                    {
                        "case_id": d.case_id,
                        "case_no": case["case_no"],
                        "kind": case["kind"],
                        "template": template,
                        "due_at": d.due_at,
                    },
                )
            )
    if acknowledged:
        tx.with_rows(
            "INSERT INTO case_acknowledgements (case_id, template, text, due_at, at)"
            " SELECT * FROM {rows}",
            {
                "case_id": "uuid",
                "template": "text",
                "text": "text",
                "due_at": "timestamptz",
                "at": "timestamptz",
            },
            acknowledged,
        )
    _timelines(tx, timeline)
