"""The directory: routing's working-day calendar, the operator's organisation (departments,
their heads and staff, routing rules, training's courses and incentive rules), by a supervisor
and the trainer, and the fictitious customers with their consent decisions, by the CRM."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from demo import data
from demo.client import ApiError, Who
from demo.context import CRM, SUPERVISOR, TRAINER, Context
from demo.periods import Calendar
from demo.plan import Plan


def calendar(ctx: Context) -> Calendar:
    """Routing's working-day calendar from the previous quarter's year to the next year."""
    exceptions: dict[date, bool] = {}
    for year in range(ctx.quarter.previous().year, ctx.quarter.year + 2):
        shown = ctx.api.get("routing", "/calendar", SUPERVISOR, year=year)
        if year == ctx.quarter.year:
            ctx.counts["calendar_official"] = int(bool(shown["official"]))
        for d in shown["exceptions"]:
            exceptions[date.fromisoformat(d["day"])] = bool(d["working"])
    first, end = ctx.quarter.previous().first_day, ctx.quarter.end.date()
    q_days = [d for d in exceptions if first <= d < end]
    ctx.counts["calendar_exceptions"] = len(q_days)
    return Calendar(exceptions, ctx.settings.close_of_business)


def _create(ctx: Context, what: str, service: str, path: str, who: Who, body: Any) -> None:
    """Creates it, or counts it as there already (409)."""
    try:
        ctx.api.post(service, path, who, body)
        ctx.count(f"{what}_created")
    except ApiError as e:
        if e.status != 409:
            raise
        ctx.count(f"{what}_existing")


def organisation(ctx: Context) -> None:
    staff = data.staff_directory()
    ctx.parallel(
        "departments",
        data.DEPARTMENTS,
        lambda d: _create(
            ctx,
            "departments",
            "routing",
            "/departments",
            SUPERVISOR,
            {
                "code": d.code,
                "name": d.name,
                "head_id": data.head_of(d.code),
                "ola_hours": d.ola_hours,
            },
        ),
    )
    ctx.parallel(
        "staff (heads, agents, departments)",
        staff,
        lambda s: _create(ctx, "staff", "routing", "/staff", SUPERVISOR, s),
    )
    existing = ctx.pages("routing", "/routing-rules")
    have = {(r["department"], tuple(r["categories"]), tuple(r["regions"])) for r in existing}

    def rule(r: tuple[int, dict[str, list[str]], str, str]) -> None:
        position, conditions, department, why = r
        key = (
            department,
            tuple(conditions.get("categories", [])),
            tuple(conditions.get("regions", [])),
        )
        if key in have:
            ctx.count("rules_existing")
            return
        body = dict(conditions, position=position, department=department, reason=why)
        ctx.api.post("routing", "/routing-rules", SUPERVISOR, body)
        ctx.count("rules_created")

    ctx.parallel("routing rules", data.RULES, rule)
    ctx.parallel(
        "courses",
        data.COURSES,
        lambda c: _create(
            ctx,
            "courses",
            "training",
            "/courses",
            TRAINER,
            {
                "code": c[0],
                "title": c[1],
                "mandatory_for": list(c[2]),
                "validity_months": c[3],
                "pass_mark": c[4],
            },
        ),
    )
    ctx.parallel(
        "incentive rules",
        data.INCENTIVE_RULES,
        lambda r: _create(
            ctx,
            "incentive_rules",
            "training",
            "/incentive-rules",
            SUPERVISOR,
            {"code": r[0], "name": r[1], "description": r[2], "conditions": list(r[3])},
        ),
    )


def customers(ctx: Context, plan: Plan) -> None:
    rng = random.Random(f"{plan.tag}/consent")

    def create(c: Any) -> None:
        body = {
            "account_no": c.account_no,
            "name": c.name,
            "phones": list(c.phones),
            "id_number": c.id_number,
            "email": c.email,
            "address": {"region": c.region, "line": c.line},
        }
        try:
            created = ctx.api.post("intake", "/customers", CRM, body)
        except ApiError as e:
            if e.status != 409:
                raise
            created = ctx.api.get("intake", "/customers", CRM, account_no=c.account_no)
            created = created["items"][0]
        ctx.count("customers")
        if rng.random() < 0.1:
            ctx.api.post(
                "intake",
                f"/customers/{created['id']}/consents",
                CRM,
                {
                    "purpose": "marketing_sms",
                    "granted": rng.random() < 0.6,
                    "channel": "hotline",
                },
            )
            ctx.count("consents")

    ctx.parallel("customers (fictitious)", plan.customers, create)
