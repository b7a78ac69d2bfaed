"""`/campaigns`: periodic follow-up campaigns, their reproducible samples and the answers."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.followup import queries
from services.followup.api.common import (
    CALLERS,
    READERS,
    SUPERVISION,
    code,
    db,
    quarter_text,
    seed_range,
)
from services.followup.commands import campaigns
from services.followup.domain.campaigns import QUESTION_TYPES, TEXT_LIMIT
from shared import clock
from shared.errors import NotFound
from shared.paging import page_field, page_of, per_page_field
from shared.web import StrictSchema, caller, created, requires

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns", description="Follow-up campaigns")


# the largest sample a campaign draws: the draw answers with all its tasks
MAX_SAMPLE = 10_000


class QuestionIn(StrictSchema):
    key = fields.Str(
        required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,40}$", error="1-40 of a-z 0-9 _")
    )
    text = fields.Str(required=True, validate=validate.Length(min=1, max=500))
    type = fields.Str(
        required=True,
        validate=validate.OneOf(QUESTION_TYPES),
        metadata={"description": "scale (1-5), yes_no, choice, text"},
    )
    choices = fields.List(fields.Str(validate=validate.Length(min=1, max=100)), load_default=list)


class TargetIn(StrictSchema):
    size = fields.Int(required=True, validate=validate.Range(min=1, max=MAX_SAMPLE))
    cases_period = fields.Str(
        validate=quarter_text,
        metadata={
            "description": "customers with cases received in this quarter; default the"
            " campaign's period"
        },
    )
    region = fields.Str(load_default=None, validate=validate.Length(min=1, max=80))
    category = fields.Str(load_default=None, validate=code)


class CampaignIn(StrictSchema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    period = fields.Str(required=True, validate=quarter_text, metadata={"example": "2026-Q4"})
    questions = fields.List(
        fields.Nested(QuestionIn), required=True, validate=validate.Length(min=1, max=50)
    )
    target = fields.Nested(TargetIn, required=True)


class QuestionOut(Schema):
    key = fields.Str()
    text = fields.Str()
    type = fields.Str()
    choices = fields.List(fields.Str())


class TargetOut(Schema):
    size = fields.Int()
    cases_period = fields.Str()
    region = fields.Str(allow_none=True)
    category = fields.Str(allow_none=True)


class CampaignOut(Schema):
    id = fields.UUID()
    name = fields.Str()
    period = fields.Str()
    questions = fields.List(fields.Nested(QuestionOut))
    target = fields.Nested(TargetOut)
    created_by = fields.Str()
    created_at = fields.DateTime()
    seed = fields.Int(allow_none=True)
    drawn_at = fields.DateTime(allow_none=True)
    drawn_by = fields.Str(allow_none=True)
    drawn = fields.Int(metadata={"description": "call tasks drawn"})
    responses = fields.Int()


CampaignListOut = page_of(CampaignOut)


class CampaignQuery(StrictSchema):
    period = fields.Str(validate=quarter_text)
    page = page_field()
    per_page = per_page_field()


class CampaignDrawIn(StrictSchema):
    seed = fields.Int(
        required=True, validate=seed_range, metadata={"description": "same seed, same sample"}
    )


class CampaignTaskOut(Schema):
    id = fields.UUID()
    campaign_id = fields.UUID()
    position = fields.Int()
    customer_id = fields.Str()
    agent_id = fields.Str(allow_none=True)
    state = fields.Str()
    created_at = fields.DateTime()


class CampaignTasksOut(Schema):
    campaign_id = fields.UUID()
    seed = fields.Int(allow_none=True, metadata={"description": "null until the sample is drawn"})
    items = fields.List(fields.Nested(CampaignTaskOut))
    page = fields.Int()
    per_page = fields.Int()
    total = fields.Int(metadata={"description": "how many tasks match in all"})


class CampaignTaskQuery(StrictSchema):
    state = fields.Str(validate=validate.OneOf(("due", "responded", "skipped_do_not_call")))
    agent_id = fields.Str(validate=validate.Length(min=1, max=64))
    page = page_field()
    per_page = per_page_field()


class AnswerIn(StrictSchema):
    question = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    value = fields.Raw(
        load_default=None,
        allow_none=True,
        metadata={"description": f"1-5, true/false, a choice, or text (≤ {TEXT_LIMIT})"},
    )
    topic = fields.Str(
        load_default=None, validate=code, metadata={"description": "free text: its topic"}
    )
    department = fields.Str(
        load_default=None, validate=code, metadata={"description": "free text: who should act"}
    )


class ResponseIn(StrictSchema):
    task_id = fields.UUID(required=True)
    answers = fields.List(fields.Nested(AnswerIn), required=True)


class AnswerOut(Schema):
    question = fields.Str()
    value = fields.Raw(allow_none=True)
    topic = fields.Str(allow_none=True)
    department = fields.Str(allow_none=True)


class ResponseOut(Schema):
    id = fields.UUID()
    campaign_id = fields.UUID()
    task_id = fields.UUID()
    answers = fields.List(fields.Nested(AnswerOut))
    recorded_by = fields.Str()
    recorded_at = fields.DateTime()


def _found(campaign_id: uuid.UUID) -> dict[str, Any]:
    campaign = queries.get_campaign(db(), campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


@blp.post("")
@requires(*SUPERVISION)
@blp.arguments(CampaignIn)
@blp.response(201, CampaignOut)
def create_campaign(body: dict[str, Any]) -> Any:
    """A campaign: name, period, questions (scale 1-5, yes/no, choice, free text) and target
    (a random sample of `size` customers with cases in a quarter, by region or category)."""
    with db().transaction() as tx:
        campaign_id = campaigns.create_campaign(tx, body, caller().subject)
    return created(_found(campaign_id), "campaigns.get_campaign", campaign_id=campaign_id)


@blp.get("")
@requires(*READERS)
@blp.arguments(CampaignQuery, location="query")
@blp.response(200, CampaignListOut)
def list_campaigns(query: dict[str, Any]) -> dict[str, Any]:
    return queries.list_campaigns(db(), query.get("period"), query["page"], query["per_page"])


@blp.get("/<uuid:campaign_id>")
@requires(*READERS)
@blp.response(200, CampaignOut)
def get_campaign(campaign_id: uuid.UUID) -> dict[str, Any]:
    return _found(campaign_id)


@blp.post("/<uuid:campaign_id>/draw")
@requires(*SUPERVISION)
@blp.arguments(CampaignDrawIn)
@blp.response(201, CampaignTasksOut)
def draw(body: dict[str, Any], campaign_id: uuid.UUID) -> Any:
    """Draws the sample once (same candidates and seed, same sample), never a customer on the
    do-not-call list, and creates a call task for each (`Location`: the tasks)."""
    with db().transaction() as tx:
        campaigns.draw_campaign(tx, campaign_id, body["seed"], caller().subject, clock.now())
    tasks = queries.campaign_tasks(db(), campaign_id, {}, 1, MAX_SAMPLE)
    drawn = {"campaign_id": campaign_id, "seed": body["seed"], **tasks}
    return created(drawn, "campaigns.tasks", campaign_id=campaign_id)


@blp.get("/<uuid:campaign_id>/tasks")
@requires(*READERS)
@blp.arguments(CampaignTaskQuery, location="query")
@blp.response(200, CampaignTasksOut)
def tasks(query: dict[str, Any], campaign_id: uuid.UUID) -> dict[str, Any]:
    """The campaign's call tasks, by state or agent."""
    campaign = _found(campaign_id)
    page, per_page = query.pop("page"), query.pop("per_page")
    return {
        "campaign_id": campaign_id,
        "seed": campaign["seed"],
        **queries.campaign_tasks(db(), campaign_id, query, page, per_page),
    }


@blp.post("/<uuid:campaign_id>/responses")
@requires(*CALLERS)
@blp.arguments(ResponseIn)
@blp.response(201, ResponseOut)
def record_response(body: dict[str, Any], campaign_id: uuid.UUID) -> Any:
    """A drawn customer's answers. A free-text answer tagged with a topic and a department is a
    suggestion for that department, announced as `feedback.received` (without its text)."""
    with db().transaction() as tx:
        response_id = campaigns.record_response(
            tx, campaign_id, body, caller().subject, clock.now()
        )
    return created(
        queries.get_response(db(), response_id),
        "campaigns.get_response",
        campaign_id=campaign_id,
        response_id=response_id,
    )


@blp.get("/<uuid:campaign_id>/responses/<uuid:response_id>")
@requires(*READERS)
@blp.response(200, ResponseOut)
def get_response(campaign_id: uuid.UUID, response_id: uuid.UUID) -> dict[str, Any]:
    """One customer's answers to the campaign."""
    found = queries.get_response(db(), response_id)
    if found is None or found["campaign_id"] != campaign_id:
        raise NotFound(f"no response {response_id} in campaign {campaign_id}")
    return found
