"""`/cases/{id}/sla` and `/sla/...`: time-limit clocks, pauses, risk lists and compliance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.routing import queries
from services.routing.commands import clocks
from services.routing.domain.deadlines import SHANGHAI
from shared import clock, scoping
from shared.db import Transaction
from shared.errors import Forbidden, NotFound
from shared.paging import page_field, page_of, per_page_field
from shared.periods import Period
from shared.web import MaskedText, StrictSchema, caller, period_validator, requires, service_db

blp = Blueprint("sla", __name__, description="Time-limit clocks of cases")

READERS = ("agent", "system", "supervisor", "department_staff", "department_head")


_db = service_db


class PolicyOut(Schema):
    kind = fields.Str()
    priority = fields.Str()
    working_days = fields.Int()
    version = fields.Int()


class ClockOut(Schema):
    case_id = fields.Str()
    clock = fields.Str(metadata={"description": "customer or department"})
    generation = fields.Int(metadata={"description": "1, then 2 after a reopening, ..."})
    policy = fields.Nested(PolicyOut)
    department = fields.Str(allow_none=True)
    assignee_id = fields.Str(allow_none=True)
    received_at = fields.DateTime()
    started_at = fields.DateTime()
    due_at = fields.DateTime()
    warning_at = fields.DateTime(
        allow_none=True,
        metadata={
            "description": "when the clock is warned: the policy's share (warning ratio) of its"
            " working time, business hours of working days only, paused time not counted"
        },
    )
    provisional = fields.Bool()
    state = fields.Str(metadata={"description": "running, paused, met or breached"})
    stopped_at = fields.DateTime(allow_none=True)
    breached_at = fields.DateTime(allow_none=True)
    escalation_level = fields.Int(
        metadata={"description": "0; 2 once breached (department head); 3 (supervision group)"}
    )
    next_escalation_at = fields.DateTime(
        allow_none=True,
        metadata={
            "description": "when a breach goes on to the supervision group:"
            " CS_ESCALATION_AFTER_H working hours after the department head was told"
        },
    )
    paused_seconds = fields.Float()


class CaseSlaOut(ClockOut):
    clocks = fields.List(fields.Nested(ClockOut))


ClockPageOut = page_of(ClockOut)


class PauseIn(StrictSchema):
    reason = MaskedText(
        required=True,
        validate=[
            validate.Length(min=1, max=500),
            validate.Regexp(r"\S", error="say why the clock stands still"),
        ],
        metadata={"description": "why the clock stands still (waiting for the customer ...)"},
    )


class DepartmentQuery(StrictSchema):
    department = fields.Str(
        validate=validate.Length(min=1, max=32),
        metadata={"description": "department staff and heads: their own (the default)"},
    )
    page = page_field()
    per_page = per_page_field()


class ComplianceQuery(StrictSchema):
    period = fields.Str(required=True, validate=period_validator())
    by = fields.Str(load_default="department", validate=validate.OneOf(("department", "kind")))


class ComplianceRowOut(Schema):
    key = fields.Str()
    met = fields.Int()
    breached = fields.Int()
    open = fields.Int()
    total = fields.Int()
    compliance = fields.Float(allow_none=True, metadata={"description": "met / (met + breached)"})
    median_hours = fields.Float(allow_none=True)


class ComplianceOut(Schema):
    period = fields.Str()
    by = fields.Str()
    items = fields.List(fields.Nested(ComplianceRowOut))


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(SHANGHAI) if value is not None else None


def _clock(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["policy"] = {
        "kind": row["kind"],
        "priority": row["priority"],
        "working_days": row["working_days"],
        "version": row["policy_version"],
    }
    for key in (
        "received_at",
        "started_at",
        "due_at",
        "warning_at",
        "stopped_at",
        "breached_at",
        "next_escalation_at",
    ):
        out[key] = _local(row[key])
    return out


@blp.get("/cases/<case_id>/sla")
@requires(*READERS)
@blp.response(200, CaseSlaOut)
def case_sla(case_id: str) -> dict[str, Any]:
    """The newest customer clock at the top level, and every clock of the case."""
    return _case_sla(case_id)


def _case_sla(case_id: str) -> dict[str, Any]:
    rows = queries.case_clocks(_db(), case_id)
    if not rows:
        raise NotFound(f"no clock for case {case_id} (not opened, or not yet seen by routing)")
    all_clocks = [_clock(r) for r in rows]
    return {**all_clocks[0], "clocks": all_clocks}


def _pause_or_resume(case_id: str, action: str, change) -> Any:  # type: ignore[no-untyped-def]
    """A change of the case's customer clock by the caller: 404 without a clock, 403 unless
    they may act on the case where it is (its department's staff and head while a department
    has it, agents while the front line has it, supervisors always), 409 in the wrong state."""
    with _db().transaction() as tx:
        queries.customer_clock(tx, case_id)
        scoping.require(
            queries.actor(tx, caller()),
            queries.case_holder(tx, case_id),
            action,
            f"the clock of case {case_id}",
        )
        change(tx)
    return _case_sla(case_id)


@blp.post("/cases/<case_id>/sla/pause")
@requires("agent", "supervisor", "department_staff", "department_head")
@blp.arguments(PauseIn)
@blp.response(200, CaseSlaOut)
def pause(body: dict[str, Any], case_id: str) -> Any:
    """Waiting for the customer: the time until resumed is not counted. The pause ends by
    itself after CS_SLA_PAUSE_MAX_H hours (72 by default)."""
    return _pause_or_resume(
        case_id,
        "pause",
        lambda tx: clocks.pause(
            tx, case_id=case_id, reason=body["reason"].strip(), by=caller().subject, at=clock.now()
        ),
    )


@blp.post("/cases/<case_id>/sla/resume")
@requires("agent", "supervisor", "department_staff", "department_head")
@blp.response(200, CaseSlaOut)
def resume(case_id: str) -> Any:
    return _pause_or_resume(
        case_id,
        "resume",
        lambda tx: clocks.resume(tx, case_id=case_id, at=clock.now(), by=caller().subject),
    )


def _department_read(query_department: str | None) -> str | None:
    """The department a list is for: department staff and heads get their own only."""
    with _db().transaction() as tx:
        return _confine(tx, query_department)


def _confine(tx: Transaction, department: str | None) -> str | None:
    confined = scoping.reading_confined_to(queries.actor(tx, caller()))
    if confined is None:
        return department
    if department not in (None, confined):
        raise Forbidden(f"department {confined} reads only its own clocks")
    return confined


@blp.get("/sla/at-risk")
@requires(*READERS)
@blp.arguments(DepartmentQuery, location="query")
@blp.response(200, ClockPageOut)
def at_risk(query: dict[str, Any]) -> dict[str, Any]:
    """Running clocks past their warning point, soonest deadline first, a page at a time."""
    department = _department_read(query.get("department"))
    found = queries.clocks_at_risk(_db(), department, clock.now(), query["page"], query["per_page"])
    return dict(found, items=[_clock(r) for r in found["items"]])


@blp.get("/sla/breached")
@requires(*READERS)
@blp.arguments(DepartmentQuery, location="query")
@blp.response(200, ClockPageOut)
def breached(query: dict[str, Any]) -> dict[str, Any]:
    """Breached clocks of cases still being worked on, oldest breach first, a page at a time."""
    department = _department_read(query.get("department"))
    found = queries.clocks_breached(_db(), department, query["page"], query["per_page"])
    return dict(found, items=[_clock(r) for r in found["items"]])


@blp.get("/sla/compliance")
@requires("supervisor", "department_head", "system")
@blp.arguments(ComplianceQuery, location="query")
@blp.response(200, ComplianceOut)
def compliance(query: dict[str, Any]) -> dict[str, Any]:
    """Time-limit compliance of customer clocks started in a period, per department or kind.
    A department head sees their department's clocks only."""
    period = Period.parse(query["period"])
    start, end = period.first_day, period.end_day
    department = _department_read(None)
    rows = queries.compliance(_db(), start, end, query["by"], department)
    for r in rows:
        done = r["met"] + r["breached"]
        r["compliance"] = round(r["met"] / done, 4) if done else None
    return {"period": query["period"], "by": query["by"], "items": rows}
