"""Supervision, done now by the people whose job it is: this quarter's satisfaction campaign
(created, drawn, answered), each quarter's quality inspections (drawn, scored), and improvement
measures the department heads carry forward."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from demo import data
from demo.client import ApiError, Who
from demo.context import SUPERVISOR, Context
from demo.plan import Plan
from shared import clock


def campaign(ctx: Context, plan: Plan) -> None:
    task = ctx.progress.add_task("campaign (created, drawn)", total=2)
    created = ctx.api.post(
        "followup",
        "/campaigns",
        SUPERVISOR,
        {
            "name": f"{ctx.quarter} 季度服务满意度回访 · {plan.tag.rstrip('-')}",
            "period": str(ctx.quarter),
            "questions": list(data.CAMPAIGN_QUESTIONS),
            "target": {"size": max(5, min(200, len(plan.customers) // 10))},
        },
    )
    ctx.progress.advance(task)
    drawn = ctx.api.post(
        "followup", f"/campaigns/{created['id']}/draw", SUPERVISOR, {"seed": ctx.seed}
    )["items"]
    ctx.progress.advance(task)
    ctx.count("campaign_drawn", len(drawn))
    rng = random.Random(f"{plan.tag}/campaign")
    answering = [t for t in drawn if t["state"] == "due" and rng.random() < 0.75]

    def respond(t: dict[str, Any]) -> None:
        r = random.Random(t["id"])
        answers: list[dict[str, Any]] = [
            {"question": "overall", "value": r.choices((5, 4, 3, 2), (45, 35, 15, 5))[0]},
            {"question": "recommend", "value": r.random() < 0.8},
            {"question": "most_used", "value": r.choice(("有线电视", "宽带", "融合套餐"))},
        ]
        if r.random() < 0.35:
            text, topic, department = r.choice(data.SUGGESTIONS)
            answers.append(
                {
                    "question": "suggestion",
                    "value": text,
                    "topic": topic,
                    "department": department,
                }
            )
            ctx.count("suggestions")
        caller: Who = (t["agent_id"] or data.agent_id(1 + r.randrange(data.AGENTS)), "agent")
        ctx.api.post(
            "followup",
            f"/campaigns/{created['id']}/responses",
            caller,
            {"task_id": t["id"], "answers": answers},
        )
        ctx.count("campaign_responses")

    ctx.parallel("campaign answers", answering, respond)


def inspections(ctx: Context, plan: Plan) -> None:
    """Each quarter's quality inspections: cases resolved in it, drawn and scored."""
    drawn: list[dict[str, Any]] = []
    for quarter in (ctx.quarter.previous(), ctx.quarter):
        n = sum(quarter.start <= c.resolved_at < quarter.end for c in plan.cases)
        for rule, size in (
            ("random", max(3, min(40, n // 75))),
            ("complaints", max(2, min(20, n // 150))),
            ("breached", max(1, min(10, n // 300))),
        ):
            try:
                answer = ctx.api.post(
                    "followup",
                    "/inspections/draw",
                    SUPERVISOR,
                    {"rule": rule, "size": size, "seed": ctx.seed, "period": str(quarter)},
                )
            except ApiError as e:
                if e.status not in (404, 409, 422):
                    raise
                continue  # nothing to draw by this rule (yet)
            drawn.extend(answer["items"])

    def score(item: dict[str, Any]) -> None:
        r = random.Random(item["id"])
        checklist = {
            "identity_verified": bool(item.get("case_identity_verified")),
            "courtesy": r.choices((5, 4, 3), (60, 30, 10))[0],
            "accuracy": r.choices((5, 4, 3, 2), (55, 30, 10, 5))[0],
            "time_limit_kept": not item.get("case_breached"),
            "followup_done": bool(item.get("case_followup_done")),
        }
        findings = "记录完整，答复规范" if checklist["accuracy"] >= 4 else "答复不够准确，需辅导"
        ctx.api.post(
            "followup",
            f"/inspections/{item['id']}/score",
            SUPERVISOR,
            {"checklist": checklist, "findings": findings},
        )
        ctx.count("inspections")

    ctx.parallel("inspections (drawn, scored)", drawn, score)


def improvements(ctx: Context, plan: Plan) -> None:
    def measure(entry: tuple[int, tuple[str, str, str, str]]) -> None:
        i, (problem, department, what, source) = entry
        created = ctx.api.post(
            "followup",
            "/improvements",
            SUPERVISOR,
            {
                "problem": problem,
                "department": department,
                "measure": what,
                "due_on": (clock.today() + timedelta(days=30 + 15 * i)).isoformat(),
                "source": source,
                "source_ref": str(ctx.quarter),
            },
        )
        head: Who = (data.head_of(department), "department_head")
        for status in ("in_progress", "done")[: 2 - i]:
            ctx.api.post(
                "followup",
                f"/improvements/{created['id']}/status",
                head,
                {"status": status, "note": "按计划推进"},
            )
        ctx.count("improvements")

    ctx.parallel("improvement measures", list(enumerate(data.IMPROVEMENTS)), measure)
