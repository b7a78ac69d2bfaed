"""Incentive rules, runs, nominations and their decisions, awards and the ledger."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.training import queries
from services.training.api.common import (
    READERS,
    SUPERVISORS,
    code_format,
    db,
    period_format,
    period_or_422,
    staff_format,
)
from services.training.commands import incentives as commands
from services.training.domain.rules import OPS
from services.training.domain.scorecard import FIGURES
from shared import clock, scoping
from shared.errors import NotFound
from shared.etags import check_if_match, etag
from shared.paging import page_field, page_of, per_page_field
from shared.periods import KINDS as PERIOD_KINDS
from shared.web import StrictSchema, caller, created, requires

rules_blp = Blueprint(
    "incentive_rules", __name__, url_prefix="/incentive-rules", description="Incentive rules"
)
runs_blp = Blueprint(
    "incentive_runs", __name__, url_prefix="/incentive-runs", description="Evaluating a period"
)
nominations_blp = Blueprint(
    "nominations", __name__, url_prefix="/nominations", description="Award nominations"
)
awards_blp = Blueprint("awards", __name__, url_prefix="/awards", description="Awards granted")
ledger_blp = Blueprint(
    "ledger", __name__, url_prefix="/ledger", description="Nominations, decisions and awards"
)
BLUEPRINTS = (rules_blp, runs_blp, nominations_blp, awards_blp, ledger_blp)

_period = fields.Str(validate=period_format, metadata={"description": "2026-11 or 2026-Q4"})


# rules


class ConditionIn(StrictSchema):
    figure = fields.Str(required=True, validate=validate.OneOf(list(FIGURES)))
    op = fields.Str(required=True, validate=validate.OneOf(list(OPS)))
    value = fields.Float(required=True)
    min_events = fields.Int(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "the figure must rest on at least this many events"},
    )


class RuleIn(StrictSchema):
    code = fields.Str(required=True, validate=code_format)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    description = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    period_kind = fields.Str(load_default="quarter", validate=validate.OneOf(PERIOD_KINDS))
    conditions = fields.List(
        fields.Nested(ConditionIn),
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "all must hold for a nomination"},
    )
    active = fields.Bool(load_default=True)


class RulePatch(StrictSchema):
    name = fields.Str(validate=validate.Length(min=1, max=200))
    description = fields.Str(allow_none=True, validate=validate.Length(max=2000))
    active = fields.Bool()


class ConditionOut(Schema):
    figure = fields.Str()
    op = fields.Str()
    value = fields.Float()
    min_events = fields.Int()


class RuleOut(Schema):
    code = fields.Str()
    name = fields.Str()
    description = fields.Str(allow_none=True)
    period_kind = fields.Str()
    conditions = fields.List(fields.Nested(ConditionOut))
    active = fields.Bool()
    created_by = fields.Str()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class RuleListQuery(StrictSchema):
    active = fields.Bool()
    page = page_field()
    per_page = per_page_field()


RuleListOut = page_of(RuleOut)


@rules_blp.post("")
@requires(*SUPERVISORS)
@rules_blp.arguments(RuleIn)
@rules_blp.response(201, RuleOut)
def create_rule(body: dict[str, Any]) -> Any:
    """A rule: every condition on a scorecard figure must hold, e.g. satisfaction_mean >= 4.5
    with min_events 30. Figures: see GET /scorecards."""
    with db().transaction() as tx:
        rule = commands.create_rule(tx, body, caller().subject)
    return created(rule, "incentive_rules.get_rule", code=rule["code"])


@rules_blp.get("")
@requires(*READERS)
@rules_blp.arguments(RuleListQuery, location="query")
@rules_blp.response(200, RuleListOut)
def list_rules(query: dict[str, Any]) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.list_rules(tx, query.get("active"), query["page"], query["per_page"])


@rules_blp.get("/<code>")
@requires(*READERS)
@rules_blp.response(200, RuleOut)
@etag
def get_rule(code: str) -> dict[str, Any]:
    with db().transaction() as tx:
        rule = queries.get_rule(tx, code)
    if rule is None:
        raise NotFound(f"no incentive rule {code}")
    return rule  # type: ignore[return-value]


@rules_blp.patch("/<code>")
@requires(*SUPERVISORS)
@rules_blp.arguments(RulePatch)
@rules_blp.response(200, RuleOut)
@etag
def update_rule(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Rename, describe, (de)activate; conditions stay as they were when it nominated.
    `If-Match`: the ETag of its GET."""
    with db().transaction() as tx:
        check_if_match(lambda: commands.lock_rule(tx, code))
        return commands.update_rule(tx, code, body)


# runs and nominations


class RunIn(StrictSchema):
    period = fields.Str(
        required=True, validate=period_format, metadata={"description": "2026-Q4 or 2026-11"}
    )


class NominationOut(Schema):
    id = fields.Int()
    run_id = fields.Int()
    rule_code = fields.Str()
    rule_name = fields.Str()
    staff_id = fields.Str()
    display_name = fields.Str(allow_none=True)
    department = fields.Str(allow_none=True)
    period = fields.Str()
    status = fields.Str(metadata={"description": "pending, approved or rejected"})
    evidence = fields.Dict(
        metadata={"description": "the conditions with the figures and event counts behind them"}
    )
    nominated_at = fields.DateTime()
    reason = fields.Str(allow_none=True)
    decided_by = fields.Str(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    award_id = fields.Int(allow_none=True)


class RunOut(Schema):
    id = fields.Int()
    period = fields.Str()
    period_kind = fields.Str()
    rules_evaluated = fields.Int()
    staff_evaluated = fields.Int()
    nominated = fields.Int(metadata={"description": "new nominations this run made"})
    nominations = fields.List(
        fields.Nested(NominationOut),
        metadata={"description": "everyone who qualifies, nominated now or earlier"},
    )


class NominationListQuery(StrictSchema):
    period = _period
    staff_id = fields.Str(validate=staff_format)
    rule_code = fields.Str(validate=code_format)
    status = fields.Str(validate=validate.OneOf(("pending", "approved", "rejected")))
    page = page_field()
    per_page = per_page_field()


NominationListOut = page_of(NominationOut)


class DecisionIn(StrictSchema):
    approve = fields.Bool(required=True)
    reason = fields.Str(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={"description": "required when rejecting"},
    )

    @validates_schema
    def reason_for_rejection(self, data: dict, **_: object) -> None:
        if not data["approve"] and not (data.get("reason") or "").strip():
            raise ValidationError("a rejection needs a reason", "reason")


@runs_blp.post("")
@requires(*SUPERVISORS)
@runs_blp.arguments(RunIn)
@runs_blp.response(201, RunOut)
def run(body: dict[str, Any]) -> Any:
    """Evaluates every active rule of the period's kind for every active staff member;
    nominates who qualifies (once per rule, staff member and period). `Location`: the
    period's nominations."""
    period = period_or_422(body["period"])
    with db().transaction() as tx:
        summary, ids = commands.run_incentives(tx, period, caller().subject, clock.now())
        done = dict(summary, nominations=queries.nominations_by_id(tx, ids))
    return created(done, "nominations.list_nominations", period=period.code)


@nominations_blp.get("")
@requires(*READERS)
@nominations_blp.arguments(NominationListQuery, location="query")
@nominations_blp.response(200, NominationListOut)
def list_nominations(query: dict[str, Any]) -> dict[str, Any]:
    """Nominations with their evidence (scorecard figures): a department head sees their
    department's staff only."""
    with db().transaction() as tx:
        confined = scoping.reading_confined_to(queries.actor(tx, caller()))
        page, per_page = query.pop("page"), query.pop("per_page")
        return queries.list_nominations(tx, dict(query, department=confined), page, per_page)


@nominations_blp.get("/<int:nomination_id>")
@requires(*READERS)
@nominations_blp.response(200, NominationOut)
def get_nomination(nomination_id: int) -> dict[str, Any]:
    with db().transaction() as tx:
        nomination = queries.get_nomination(tx, nomination_id)
        if nomination is None:
            raise NotFound(f"no nomination {nomination_id}")
        scoping.require_reading(
            queries.actor(tx, caller()), nomination["department"], f"nomination {nomination_id}"
        )
    return nomination  # type: ignore[return-value]


@nominations_blp.post("/<int:nomination_id>/decision")
@requires(*SUPERVISORS)
@nominations_blp.arguments(DecisionIn)
@nominations_blp.response(200, NominationOut)
def decide(body: dict[str, Any], nomination_id: int) -> dict[str, Any]:
    """Approve (the award is granted and announced as `award.granted`) or reject with a
    reason; a nomination is decided once (409 after)."""
    with db().transaction() as tx:
        commands.decide(
            tx, nomination_id, body["approve"], body["reason"], caller().subject, clock.now()
        )
        return queries.get_nomination(tx, nomination_id)  # type: ignore[return-value]


# awards and the ledger


class AwardsQuery(StrictSchema):
    period = _period
    staff_id = fields.Str(validate=staff_format)
    page = page_field()
    per_page = per_page_field()


class AwardOut(Schema):
    id = fields.Int()
    nomination_id = fields.Int()
    staff_id = fields.Str()
    display_name = fields.Str(allow_none=True)
    department = fields.Str(allow_none=True)
    period = fields.Str()
    award_code = fields.Str()
    award_name = fields.Str()
    granted_by = fields.Str()
    granted_at = fields.DateTime()
    event_id = fields.Str(metadata={"description": "its award.granted event"})


AwardListOut = page_of(AwardOut)


class LedgerQuery(StrictSchema):
    period = _period
    page = page_field()
    per_page = per_page_field()


class LedgerEntryOut(Schema):
    at = fields.DateTime()
    entry = fields.Str(metadata={"description": "nominated, approved, rejected or awarded"})
    nomination_id = fields.Int()
    staff_id = fields.Str()
    period = fields.Str()
    rule_code = fields.Str()
    by = fields.Str()
    reason = fields.Str(allow_none=True)


LedgerOut = page_of(LedgerEntryOut)


@awards_blp.get("")
@requires(*READERS)
@awards_blp.arguments(AwardsQuery, location="query")
@awards_blp.response(200, AwardListOut)
def list_awards(query: dict[str, Any]) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.list_awards(
            tx, query.get("period"), query.get("staff_id"), query["page"], query["per_page"]
        )


@ledger_blp.get("")
@requires(*READERS)
@ledger_blp.arguments(LedgerQuery, location="query")
@ledger_blp.response(200, LedgerOut)
def ledger(query: dict[str, Any]) -> dict[str, Any]:
    """The append-only record of every nomination, decision and award, in order."""
    with db().transaction() as tx:
        return queries.ledger(tx, query.get("period"), query["page"], query["per_page"])
