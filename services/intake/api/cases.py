"""`/cases`: consultations and complaints, their moves, timeline and acknowledgement."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint

from services.intake import queries
from services.intake.api.reveal import access_reason
from services.intake.api.schemas import (
    AcknowledgementOut,
    CaseIn,
    CaseListQuery,
    CaseOut,
    CasePageOut,
    CloseIn,
    EtaIn,
    InteractionIn,
    ReopenIn,
    ResolveIn,
    RevealQuery,
    TimelineOut,
    TransferIn,
    WrittenOut,
)
from services.intake.commands import cases as commands
from services.intake.commands import customers
from services.intake.domain.cases import receipt_problem
from services.intake.domain.masking import CASE_TEXT_FIELDS, case_as_shown, timeline_entry_as_shown
from shared import clock, idempotency, scoping
from shared.db import Transaction
from shared.errors import Forbidden, Invalid, NotFound
from shared.limits import eta_problem
from shared.scoping import Actor
from shared.web import caller, created, reported_step, requires, service_db

blp = Blueprint("cases", __name__, url_prefix="/cases", description="Consultations and complaints")

AGENTS = ("agent", "system", "supervisor")
READERS = ("agent", "system", "supervisor", "department_staff", "department_head")


_db = service_db


def _vault():  # type: ignore[no-untyped-def]
    return current_app.extensions["cs"]["vault"]


_CASE_OUT = CaseOut()


def _actor(tx: Transaction) -> Actor:
    """The caller, placed by the staff directory (object rules: docs/access.md)."""
    return queries.actor(tx, caller())


def _reader() -> Actor:
    with _db().transaction() as tx:
        return _actor(tx)


def _readable(case_id: uuid.UUID, department: str | None, case_no: str) -> None:
    """403 unless the caller may read this case: department staff and heads read only their
    department's cases."""
    scoping.require_reading(_reader(), department, f"case {case_no or case_id}")


@blp.after_request
def _no_store(response: Response) -> Response:
    """What customers wrote, even masked, must not linger in shared caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.post("")
@requires(*AGENTS)
@blp.arguments(CaseIn())  # an instance: not a new schema per request
@blp.response(201, _CASE_OUT)
@idempotency.keyed
def open_case(body: dict[str, Any]) -> Any:
    """Record a consultation or complaint; routing starts its clock. Safe to retry with an
    `Idempotency-Key`. The answer shows its text masked, as every answer does (see
    `GET /cases/{id}`)."""
    step = reported_step(body)
    if body.get("received_at") is not None:
        problem = receipt_problem(body["received_at"], clock.now())
        if problem:
            raise Invalid("received_at", problem)
    opened_at = None
    if step.reported:
        opened_at = step.not_before(body.get("received_at"), "the case's receipt").at
        body["received_at"] = body.get("received_at") or opened_at
    with _db().transaction() as tx:
        if (earlier := idempotency.replay(tx)) is not None:
            return earlier
        customer_id = body.get("customer_id")
        if customer_id is not None:
            if not queries.customer_exists(tx, customer_id):
                raise Invalid("customer_id", "no such customer")
            case = commands.open_case(
                tx, body, step.by, customer_id=customer_id, opened_at=opened_at
            )
        else:
            account_index = _vault().blind_index("account", body["customer_ref"])
            case = commands.open_case(
                tx, body, step.by, account_index=account_index, opened_at=opened_at
            )
        answer = created(case_as_shown(case), "cases.get_case", case_id=case["id"])
        return idempotency.remember(tx, answer, _CASE_OUT)


@blp.get("")
@requires(*READERS)
@blp.arguments(CaseListQuery, location="query")
@blp.response(200, CasePageOut)
def list_cases(query: dict[str, Any]) -> dict[str, Any]:
    """Cases with filters, newest first, a page at a time; their text masked. Department
    staff and heads see their department's cases only."""
    page, per_page = query.pop("page"), query.pop("per_page")
    confined = scoping.reading_confined_to(_reader())
    if confined is not None:
        if query.get("department") not in (None, confined):
            raise Forbidden(f"department {confined} reads only its own cases")
        query["department"] = confined
    found = queries.list_cases(_db(), query, page, per_page)
    found["items"] = [case_as_shown(case) for case in found["items"]]
    return found


@blp.get("/<uuid:case_id>")
@requires(*READERS)
@blp.arguments(RevealQuery, location="query")
@blp.response(200, CaseOut)
def get_case(query: dict[str, Any], case_id: uuid.UUID) -> dict[str, Any]:
    """One case as the agent sees it, with its deadline once routing has started the clock.

    Phone and ID numbers and e-mail addresses written in its content and resolution are masked
    (`masked` says whether there were any); `?reveal=true` shows them in clear to a caller with
    the `pii:read` permission who says why in `X-Access-Reason`, and the access log records it."""
    if not query["reveal"]:
        case = queries.get_case(_db(), case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        _readable(case_id, case["department"], case["case_no"])
        return case_as_shown(case)
    reason = access_reason()
    with _db().transaction() as tx:
        case = queries.get_case_in(tx, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        scoping.require_reading(_actor(tx), case["department"], f"case {case['case_no']}")
        customers.log_case_reveal(
            tx,
            case_id,
            case["customer_id"],
            by=caller().subject,
            reason=reason,
            fields=CASE_TEXT_FIELDS,
        )
    return case_as_shown(case, revealed=True)


def _change(change: Callable[[Transaction], Any]) -> None:
    """Runs a move in one transaction (an unknown case is a 404, an illegal move a 409:
    shared/errors.py)."""
    with _db().transaction() as tx:
        change(tx)


def _moved(case_id: uuid.UUID, change: Callable[[Transaction], Any]) -> Any:
    _change(change)
    return case_as_shown(queries.get_case(_db(), case_id) or {})


@blp.post("/<uuid:case_id>/transfer")
@requires(*AGENTS)
@blp.arguments(TransferIn)
@blp.response(200, CaseOut)
def transfer(body: dict[str, Any], case_id: uuid.UUID) -> Any:
    """The front line cannot solve it: routing finds the responsible department."""
    step = reported_step(body)
    return _moved(
        case_id,
        lambda tx: commands.transfer_case(
            tx, case_id, body["reason"], body["requested_department"], step
        ),
    )


@blp.post("/<uuid:case_id>/resolve")
@requires(*AGENTS, "department_staff", "department_head")
@blp.arguments(ResolveIn)
@blp.response(200, CaseOut)
def resolve(body: dict[str, Any], case_id: uuid.UUID) -> Any:
    """Resolved: at first contact by the front line, or by the department that has the case
    (docs/access.md)."""
    step = reported_step(body)
    return _moved(
        case_id,
        lambda tx: commands.resolve_case(
            tx, case_id, body["resolution"], body["first_contact"], step, actor=_actor(tx)
        ),
    )


@blp.post("/<uuid:case_id>/close")
@requires("supervisor")
@blp.arguments(CloseIn)
@blp.response(200, CaseOut)
def close(body: dict[str, Any], case_id: uuid.UUID) -> Any:
    """A resolved case closed by a supervisor without the customer's confirmation: withdrawn,
    a duplicate, or not followed up (the customer may not be called). Closed as confirmed only
    by its follow-up call (followup's `followup.completed`): that outcome is refused here."""
    return _moved(
        case_id,
        lambda tx: commands.close_case(
            tx, case_id, caller().subject, body["outcome"], actor=_actor(tx)
        ),
    )


@blp.post("/<uuid:case_id>/reopen")
@requires(*AGENTS)
@blp.arguments(ReopenIn)
@blp.response(200, CaseOut)
def reopen(body: dict[str, Any], case_id: uuid.UUID) -> Any:
    """Not solved after all: back to work, with a new clock."""
    return _moved(
        case_id, lambda tx: commands.reopen_case(tx, case_id, body["reason"], caller().subject)
    )


@blp.post("/<uuid:case_id>/eta")
@requires(*AGENTS, "department_staff", "department_head")
@blp.arguments(EtaIn)
@blp.response(200, CaseOut)
def eta(body: dict[str, Any], case_id: uuid.UUID) -> Any:
    """The estimated completion time told to the customer of a complex case, or its update:
    ahead of now, by at most ETA_HORIZON (180 days)."""
    problem = eta_problem(body["eta"], clock.now())
    if problem:
        raise Invalid("eta", problem)
    return _moved(
        case_id,
        lambda tx: commands.give_eta(
            tx, case_id, body["eta"], body["note"], caller().subject, _actor(tx)
        ),
    )


@blp.post("/<uuid:case_id>/interactions")
@requires(*AGENTS, "department_staff", "department_head")
@blp.arguments(InteractionIn)
@blp.response(201, WrittenOut)
def add_interaction(body: dict[str, Any], case_id: uuid.UUID) -> Any:
    """A call in or out, a reply to the customer, an internal note (`Location`: the case's
    timeline, where it now shows)."""
    step = reported_step(body)
    _change(
        lambda tx: commands.add_interaction(
            tx, case_id, body["type"], step, body["text"], actor=_actor(tx)
        )
    )
    return created({"case_id": case_id, "type": body["type"]}, "cases.timeline", case_id=case_id)


@blp.get("/<uuid:case_id>/timeline")
@requires(*READERS)
@blp.arguments(RevealQuery, location="query")
@blp.response(200, TimelineOut)
def timeline(query: dict[str, Any], case_id: uuid.UUID) -> dict[str, Any]:
    """Everything that happened to the case, in time order, with who and when.

    Its texts (notes, replies, e-mails, reasons) are masked like the case's; `?reveal=true`
    shows them as `GET /cases/{id}?reveal=true` does, and is logged the same way."""
    if not query["reveal"]:
        case = queries.get_case(_db(), case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        _readable(case_id, case["department"], case["case_no"])
        entries = queries.timeline(_db(), case_id) or []
        return {"case_id": case_id, "items": [timeline_entry_as_shown(e) for e in entries]}
    reason = access_reason()
    with _db().transaction() as tx:
        case = queries.get_case_in(tx, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        scoping.require_reading(_actor(tx), case["department"], f"case {case['case_no']}")
        entries = queries.timeline_in(tx, case_id)
        who = caller().subject
        customers.log_case_reveal(
            tx, case_id, case["customer_id"], by=who, reason=reason, fields=["timeline"]
        )
    return {
        "case_id": case_id,
        "items": [timeline_entry_as_shown(e, revealed=True) for e in entries],
    }


@blp.get("/<uuid:case_id>/acknowledgement")
@requires(*READERS)
@blp.response(200, AcknowledgementOut)
def acknowledgement(case_id: uuid.UUID) -> dict[str, Any]:
    """What the customer is told: case number, what happens next, the deadline."""
    case = queries.get_case(_db(), case_id)
    if case is not None:
        _readable(case_id, case["department"], case["case_no"])
    ack = queries.acknowledgement(_db(), case_id)
    if ack is None:
        raise NotFound(f"no acknowledgement for case {case_id} (yet: it follows the clock)")
    return ack
