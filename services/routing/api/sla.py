"""`/cases/{id}/sla`: a case's time-limit clocks."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from services.routing import queries
from services.routing.domain.deadlines import SHANGHAI
from shared.web import requires

blp = Blueprint("sla", __name__, url_prefix="/cases", description="Time-limit clocks of cases")


class PolicyOut(Schema):
    kind = fields.Str()
    priority = fields.Str()
    working_days = fields.Int()
    version = fields.Int()


class ClockOut(Schema):
    clock = fields.Str()
    generation = fields.Int()
    policy = fields.Nested(PolicyOut)
    received_at = fields.DateTime()
    started_at = fields.DateTime()
    due_at = fields.DateTime()
    provisional = fields.Bool()
    state = fields.Str()
    stopped_at = fields.DateTime(allow_none=True)


class CaseSlaOut(ClockOut):
    case_id = fields.Str()
    clocks = fields.List(fields.Nested(ClockOut))


def _clock(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "clock": row["clock"],
        "generation": row["generation"],
        "policy": {
            "kind": row["kind"],
            "priority": row["priority"],
            "working_days": row["working_days"],
            "version": row["policy_version"],
        },
        "received_at": row["received_at"].astimezone(SHANGHAI),
        "started_at": row["started_at"].astimezone(SHANGHAI),
        "due_at": row["due_at"].astimezone(SHANGHAI),
        "provisional": row["provisional"],
        "state": row["state"],
        "stopped_at": row["stopped_at"] and row["stopped_at"].astimezone(SHANGHAI),
    }


@blp.get("/<case_id>/sla")
@requires("agent", "system", "supervisor", "department_staff", "department_head")
@blp.response(200, CaseSlaOut)
def case_sla(case_id: str) -> dict[str, Any]:
    """The case's current customer clock at the top level, and all its clocks."""
    rows = queries.case_clocks(current_app.extensions["cs"]["db"], case_id)
    if not rows:
        abort(404, message=f"no clock for case {case_id} (not opened, or not yet seen by routing)")
    clocks = [_clock(r) for r in rows]
    return {"case_id": case_id, **clocks[0], "clocks": clocks}
