"""`/cases`: consultations and complaints."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_smorest import Blueprint, abort

from services.intake import commands, queries
from services.intake.api.schemas import CaseIn, CaseOut
from services.intake.domain.cases import receipt_problem
from shared.web import caller, requires

blp = Blueprint("cases", __name__, url_prefix="/cases", description="Consultations and complaints")


def _db():  # type: ignore[no-untyped-def]
    return current_app.extensions["cs"]["db"]


@blp.post("")
@requires("agent", "system", "supervisor")
@blp.arguments(CaseIn)
@blp.response(201, CaseOut)
def open_case(body: dict[str, Any]) -> dict[str, Any]:
    """Record a consultation or complaint; routing starts its clock."""
    if body.get("received_at") is not None:
        problem = receipt_problem(body["received_at"], datetime.now(UTC))
        if problem:
            abort(422, errors={"json": {"received_at": [problem]}})
    with _db().transaction() as tx:
        return commands.open_case(tx, body, agent_id=caller().subject)


@blp.get("/<uuid:case_id>")
@requires("agent", "system", "supervisor", "department_staff", "department_head")
@blp.response(200, CaseOut)
def get_case(case_id: uuid.UUID) -> dict[str, Any]:
    """One case as the agent sees it."""
    case = queries.get_case(_db(), case_id)
    if case is None:
        abort(404, message=f"no case {case_id}")
    return case
