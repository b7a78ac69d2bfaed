"""`/routing-rules` (versioned, `?at=` a date) and `/routing/dry-run` (where would it go?)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from services.routing import queries
from services.routing.api.departments import (
    MANAGERS,
    READERS,
    code_format,
    db,
)
from services.routing.commands import rules
from services.routing.domain.rules import CONDITIONS, CaseAttributes
from shared import clock
from shared.etags import check_if_match, etag
from shared.events.catalogue import CHANNELS, KINDS, PRIORITIES
from shared.paging import page_field, page_of, per_page_field
from shared.web import StrictSchema, caller, created, requires

blp = Blueprint("routing_rules", __name__, description="Routing rules and their dry-run")

_VALUES = {
    "kind": validate.OneOf(KINDS),
    "category": validate.Length(min=1, max=40),
    "region": validate.Length(min=1, max=80),
    "channel": validate.OneOf(CHANNELS),
    "priority": validate.OneOf(PRIORITIES),
}
_reason = fields.Str(
    load_default=None,
    validate=validate.Length(max=500),
    metadata={"description": "why the rule changes, kept in its history"},
)
_effective = fields.Date(
    load_default=None,
    metadata={"description": "the day it applies from (Asia/Shanghai); default today"},
)


class _Conditions(StrictSchema):
    """Each condition as one value (`category`) or a list (`categories`); stored as lists.

    A list accepts any of its values; an absent or empty condition accepts anything.
    """

    kind = fields.Str(allow_none=True, validate=_VALUES["kind"])
    kinds = fields.List(fields.Str(validate=_VALUES["kind"]))
    category = fields.Str(allow_none=True, validate=_VALUES["category"])
    categories = fields.List(fields.Str(validate=_VALUES["category"]))
    region = fields.Str(allow_none=True, validate=_VALUES["region"])
    regions = fields.List(fields.Str(validate=_VALUES["region"]))
    channel = fields.Str(allow_none=True, validate=_VALUES["channel"])
    channels = fields.List(fields.Str(validate=_VALUES["channel"]))
    priority = fields.Str(allow_none=True, validate=_VALUES["priority"])
    priorities = fields.List(fields.Str(validate=_VALUES["priority"]))

    @validates_schema
    def one_form(self, data: dict, **_: object) -> None:
        for single, plural in CONDITIONS:
            if single in data and plural in data:
                raise ValidationError(f"give {single} or {plural}, not both", single)

    @post_load
    def as_lists(self, data: dict, **_: object) -> dict:
        for single, plural in CONDITIONS:
            if single in data:
                value = data.pop(single)
                data[plural] = [] if value is None else [value]
            if plural in data:
                data[plural] = list(dict.fromkeys(data[plural]))  # without repeats, in order
        return data


class RuleIn(_Conditions):
    position = fields.Int(required=True, validate=validate.Range(min=0, max=1_000_000))
    department = fields.Str(required=True, validate=code_format)
    effective_from = _effective
    reason = _reason


class RulePatch(_Conditions):
    position = fields.Int(validate=validate.Range(min=0, max=1_000_000))
    department = fields.Str(validate=code_format)
    effective_from = _effective
    reason = _reason


class RuleOut(Schema):
    id = fields.Int()
    position = fields.Int()
    department = fields.Str()
    kinds = fields.List(fields.Str())
    categories = fields.List(fields.Str())
    regions = fields.List(fields.Str())
    channels = fields.List(fields.Str())
    priorities = fields.List(fields.Str())
    version = fields.Int()
    action = fields.Str(metadata={"description": "created, updated or deleted"})
    effective_from = fields.Date()
    changed_by = fields.Str()
    changed_at = fields.DateTime()
    reason = fields.Str(allow_none=True)


class RuleListQuery(StrictSchema):
    at = fields.Date(metadata={"description": "the rules that applied on this day; default today"})
    page = page_field()
    per_page = per_page_field()


class RuleListOut(page_of(RuleOut)):  # type: ignore[misc]
    at = fields.Date()


class RuleVersionsOut(page_of(RuleOut)):  # type: ignore[misc]
    """The versions of one rule, oldest first."""


class PageQuery(StrictSchema):
    page = page_field()
    per_page = per_page_field()


class DeleteQuery(StrictSchema):
    reason = fields.Str(validate=validate.Length(max=500))
    effective_from = fields.Date()


class DryRunIn(StrictSchema):
    kind = fields.Str(validate=_VALUES["kind"])
    category = fields.Str(validate=_VALUES["category"])
    region = fields.Str(validate=_VALUES["region"])
    channel = fields.Str(validate=_VALUES["channel"])
    priority = fields.Str(validate=_VALUES["priority"])
    requested_department = fields.Str(load_default=None, allow_none=True)
    at = fields.Date(
        load_default=None, metadata={"description": "rules of this day; default today"}
    )


class DryRunOut(Schema):
    department = fields.Str(allow_none=True)
    rule_id = fields.Int(allow_none=True)
    reason = fields.Str()


@blp.post("/routing-rules")
@requires(*MANAGERS)
@blp.arguments(RuleIn)
@blp.response(201, RuleOut)
def create_rule(body: dict[str, Any]) -> Any:
    """A new rule: conditions on kind, category, region, channel, priority → a department."""
    with db().transaction() as tx:
        rule = rules.create_rule(tx, body, by=caller().subject)
    return created(rule, "routing_rules.get_rule", rule_id=rule["id"])


@blp.get("/routing-rules")
@requires(*READERS)
@blp.arguments(RuleListQuery, location="query")
@blp.response(200, RuleListOut)
def list_rules(query: dict[str, Any]) -> dict[str, Any]:
    """The rules that apply today, or on `at`, in the order they are tried."""
    on = query.get("at") or clock.today()
    with db().transaction() as tx:
        return dict(queries.rules_page(tx, on, query["page"], query["per_page"]), at=on)


@blp.get("/routing-rules/<int:rule_id>")
@requires(*READERS)
@blp.response(200, RuleOut)
@etag
def get_rule(rule_id: int) -> dict[str, Any]:
    """The rule's newest version (it may apply from a later day: see effective_from)."""
    with db().transaction() as tx:
        return queries.get_rule(tx, rule_id)


@blp.get("/routing-rules/<int:rule_id>/versions")
@requires(*READERS)
@blp.arguments(PageQuery, location="query")
@blp.response(200, RuleVersionsOut)
def rule_versions(query: dict[str, Any], rule_id: int) -> dict[str, Any]:
    """Every version: who changed it, when, why, what it said and from when it applied."""
    with db().transaction() as tx:
        return queries.rule_versions(tx, rule_id, query["page"], query["per_page"])


@blp.put("/routing-rules/<int:rule_id>")
@requires(*MANAGERS)
@blp.arguments(RuleIn)
@blp.response(200, RuleOut)
@etag
def replace_rule(body: dict[str, Any], rule_id: int) -> dict[str, Any]:
    """A new version with exactly this content (conditions not given are cleared). `If-Match`:
    the ETag of its GET."""
    with db().transaction() as tx:
        check_if_match(lambda: rules.lock_rule(tx, rule_id))
        return rules.change_rule(tx, rule_id, body, caller().subject, replace=True)


@blp.patch("/routing-rules/<int:rule_id>")
@requires(*MANAGERS)
@blp.arguments(RulePatch)
@blp.response(200, RuleOut)
@etag
def change_rule(body: dict[str, Any], rule_id: int) -> dict[str, Any]:
    """A new version with the fields given changed. `If-Match`: the ETag of its GET."""
    with db().transaction() as tx:
        check_if_match(lambda: rules.lock_rule(tx, rule_id))
        return rules.change_rule(tx, rule_id, body, caller().subject)


@blp.delete("/routing-rules/<int:rule_id>")
@requires(*MANAGERS)
@blp.arguments(DeleteQuery, location="query")
@blp.response(204)
@etag
def delete_rule(query: dict[str, Any], rule_id: int) -> None:
    """Stops applying from `effective_from` (default today); the history keeps it. `If-Match`:
    the ETag of its GET."""
    with db().transaction() as tx:
        check_if_match(lambda: rules.lock_rule(tx, rule_id))
        rules.delete_rule(
            tx, rule_id, caller().subject, query.get("reason"), query.get("effective_from")
        )


@blp.post("/routing/dry-run")
@requires(*READERS)
@blp.arguments(DryRunIn)
@blp.response(200, DryRunOut)
def dry_run(body: dict[str, Any]) -> dict[str, Any]:
    """Where a case with these attributes would go today (or on `at`), and why. Writes nothing."""
    case = CaseAttributes(
        **{k: body.get(k) for k in ("kind", "category", "region", "channel", "priority")}
    )
    with db().transaction() as tx:
        decision = queries.decide(tx, case, body.get("requested_department"), body.get("at"))
    return {
        "department": decision.department,
        "rule_id": decision.rule_id,
        "reason": decision.reason,
    }
