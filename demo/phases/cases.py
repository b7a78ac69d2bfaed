"""The cases: recorded over their channels — the hotline by the call-centre system (the case
and its call), e-mail by the mail gateway, online requests by the portal's `case.requested`
(intake opens those itself) — and what the agent did with each: the e-mail reply, then a
solution at once, a transfer to a department, or an answer later."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from demo import data
from demo.client import Portal
from demo.context import CTI, MAIL, Context, dated
from demo.periods import TZ
from demo.plan import CasePlan, Plan


def record(ctx: Context, plan: Plan) -> None:
    """Every case of the plan recorded, and acted on as far as its steps have happened."""
    online = [c for c in plan.cases if c.channel == "online"]
    direct = [c for c in plan.cases if c.channel != "online"]
    task = ctx.progress.add_task("online requests (portal events)", total=len(online))
    if online:
        portal = Portal(ctx.settings, data.PORTAL)
        try:
            for c in online:
                portal.request_case(
                    f"{plan.tag}{c.number:05d}",
                    {
                        "channel": "online",
                        "kind": c.kind,
                        "category": c.category,
                        "region": c.customer.region,
                        "customer_ref": c.customer.account_no,
                        "content": c.content,
                        "priority": c.priority,
                        "received_at": c.received_at,
                    },
                    at=c.opened_at,
                )
                ctx.progress.advance(task)
                ctx.count("online")
        finally:
            portal.close()

    def open_and_act(c: CasePlan) -> None:
        case_id = open_hotline(ctx, c) if c.channel == "hotline" else open_email(ctx, c, plan)
        ctx.opened(c.number, case_id)
        act(ctx, c, case_id, plan)

    ctx.parallel("hotline and e-mail cases", direct, open_and_act)
    if not online:
        return
    day_from = min(c.received_at for c in online).astimezone(TZ).date()
    day_to = max(c.received_at for c in online).astimezone(TZ).date()
    by_key = {(c.customer.account_no, c.received_at): c for c in online}

    def discover(pending: set[tuple[str, datetime]]) -> dict[tuple[str, datetime], str]:
        found: dict[tuple[str, datetime], str] = {}
        for case in ctx.pages(
            "intake",
            "/cases",
            channel="online",
            received_from=day_from.isoformat(),
            received_to=day_to.isoformat(),
        ):
            key = (case["customer_ref"], datetime.fromisoformat(case["received_at"]))
            if key in pending:
                found[key] = case["id"]
        return found

    def act_online(key: tuple[str, datetime], case_id: str) -> None:
        c = by_key[key]
        ctx.opened(c.number, case_id)
        act(ctx, c, case_id, plan)

    ctx.discover_and_work(
        "online cases opened by intake",
        by_key,
        discover,
        act_online,
        "intake did not open them from case.requested (is `cs consume intake` running?)",
    )


def open_hotline(ctx: Context, c: CasePlan) -> str:
    """The agent records the case during the call; the call-centre system reports it, and
    the call."""
    case = ctx.api.post(
        "intake",
        "/cases",
        CTI,
        dated(
            c.opened_at,
            c.agent,
            kind=c.kind,
            channel="hotline",
            category=c.category,
            region=c.customer.region,
            customer_ref=c.customer.account_no,
            content=c.content,
            identity_verified=True,
            identity_method=c.identity_method,
            priority=c.priority,
            received_at=c.received_at.isoformat(),
        ),
    )
    ctx.count("hotline")
    # its number is matched to the customer
    assert c.call_ended_at is not None
    ctx.api.post(
        "intake",
        "/channels/hotline/calls",
        CTI,
        {
            "caller_number": c.customer.phones[0],
            "agent_id": c.agent,
            "started_at": c.received_at.isoformat(),
            "ended_at": c.call_ended_at.isoformat(),
            "direction": "in",
            "case_id": case["id"],
        },
    )
    ctx.count("calls")
    return str(case["id"])


def open_email(ctx: Context, c: CasePlan, plan: Plan) -> str:
    msg = EmailMessage()
    msg["From"] = str(c.customer.email)
    msg["To"] = f"kefu@{data.EMAIL_DOMAIN}"
    msg["Subject"] = ("投诉：" if c.kind == "complaint" else "咨询：") + c.content
    msg["Date"] = format_datetime(c.received_at)
    msg["Message-ID"] = f"<{plan.tag.lower()}{c.number:05d}@{data.EMAIL_DOMAIN}>"
    msg.set_content(f"您好，\n\n{c.content}，请尽快处理。\n\n谢谢")
    answer = ctx.api.post(
        "intake",
        "/channels/email",
        MAIL,
        raw=msg.as_bytes(),
        content_type="message/rfc822",
        query={"occurred_at": c.opened_at.isoformat()},
    )
    ctx.count("email")
    return str(answer["id"])


def act(ctx: Context, c: CasePlan, case_id: str, plan: Plan) -> None:
    """What the agent did with the case: solved it at once, transferred it, or answered
    later; each step reported with its time, the ones still to come left."""
    path = f"/cases/{case_id}"
    if c.reply_at is not None and plan.done(c.reply_at):
        text = "您的邮件已收到，我们会在时限内答复。"
        ctx.api.post(
            "intake",
            f"{path}/interactions",
            CTI,
            dated(c.reply_at, c.agent, type="reply", text=text),
        )
    if not plan.done(c.acted_at):
        ctx.count("open_now")
        return
    if c.route == "first_contact":
        answer = data.FIRST_CONTACT_ANSWERS[c.category]
        body = dated(c.acted_at, c.agent, resolution=answer, first_contact=True)
        ctx.api.post("intake", f"{path}/resolve", CTI, body)
        ctx.count("first_contact")
        ctx.resolved_now(case_id)
    elif c.route == "transfer":
        assert c.department is not None
        named = c.department.code if c.department.named else None
        reason = data.TRANSFER_REASONS[c.category]
        body = dated(c.acted_at, c.agent, reason=reason, requested_department=named)
        ctx.api.post("intake", f"{path}/transfer", CTI, body)
        ctx.count("transferred")
    else:
        note = "已受理，核实后回复客户"
        body = dated(c.acted_at, c.agent, type="note", text=note)
        ctx.api.post("intake", f"{path}/interactions", CTI, body)
        ctx.count("later")
        if not plan.done(c.resolved_at):
            ctx.count("open_now")
            return
        answer = data.FIRST_CONTACT_ANSWERS[c.category]
        body = dated(c.resolved_at, c.agent, resolution=answer, first_contact=False)
        ctx.api.post("intake", f"{path}/resolve", CTI, body)
        ctx.resolved_now(case_id)
