"""Resolution and follow-up: followup schedules a call for each resolved case on its own; the
call-centre system reports the attempts made by now. A customer whose problem was not solved
gets the case reopened by intake; the agent solves it again, and the customer is called
again."""

from __future__ import annotations

from typing import Any

from demo import data
from demo.client import ApiError
from demo.context import CTI, SUPERVISOR, Context, dated
from demo.plan import Call, CasePlan, Plan


def _due_followups(ctx: Context, pending: set[str]) -> dict[str, dict[str, Any]]:
    found = {}
    for task in ctx.pages("followup", "/followups", state="due"):
        if task["case_id"] in pending:
            found[task["case_id"]] = task
    return found


def _call(
    ctx: Context, plan: Plan, c: CasePlan, task: dict[str, Any], calls: tuple[Call, ...]
) -> None:
    """The follow-up call attempts made by now, reported by the call-centre system: by the
    agent followup chose, else by another agent than the one who resolved the case (the
    follow-up is independent of the work it checks)."""
    caller = task["agent_id"] or next(
        a
        for a in (data.agent_id(1 + (c.number + k) % data.AGENTS) for k in range(2))
        if a != task["resolved_by"]
    )
    made = [a for a in calls if plan.done(a.at)]
    for attempt in made:
        body: dict[str, Any] = {"result": attempt.result}
        if attempt.result == "reached":
            body.update(
                solved=attempt.solved,
                satisfaction=attempt.satisfaction,
                comment=attempt.comment,
            )
        try:
            ended = ctx.api.post(
                "followup",
                f"/followups/{task['id']}/attempts",
                CTI,
                dated(attempt.at, caller, **body),
            )
        except ApiError as e:
            if e.status == 409:  # the task ended earlier (fewer attempts configured)
                break
            raise
        ctx.count("call_attempts")
        if attempt.result == "reached":
            ctx.count("reached")
            ctx.count("reopened" if attempt.solved is False else "confirmed")
        if ended["state"] == "unreachable":
            ctx.count("unreachable")
    if len(made) < len(calls) or not calls:
        ctx.count("calls_pending")


def followup_calls(ctx: Context, plan: Plan) -> None:
    """The follow-up calls of the cases resolved during this run."""
    resolved = {
        ctx.case_ids[c.number]: c
        for c in plan.cases
        if c.number in ctx.case_ids and ctx.case_ids[c.number] in ctx.resolved
    }
    ctx.discover_and_work(
        "follow-up calls",
        resolved,
        lambda pending: _due_followups(ctx, pending),
        lambda case_id, task: _call(ctx, plan, resolved[case_id], task, resolved[case_id].calls),
        "no follow-up call was scheduled for them"
        " (are `cs consume intake` and `cs consume followup` running?)",
    )


def reopenings(ctx: Context, plan: Plan) -> None:
    """Not solved after all: intake reopens the case; the agent solves it again, and the
    customer is called again."""
    again = {
        ctx.case_ids[c.number]: c
        for c in plan.cases
        if c.reopening is not None
        and plan.done(c.reopening.reopened_at)
        and ctx.case_ids.get(c.number) in ctx.resolved
    }
    solved: set[str] = set()

    def discover(pending: set[str]) -> dict[str, bool]:
        reopened = {}
        for case_id in pending:
            if ctx.api.get("intake", f"/cases/{case_id}", SUPERVISOR)["state"] == "reopened":
                reopened[case_id] = True
        return reopened

    def resolve(case_id: str, _: bool) -> None:
        c = again[case_id]
        assert c.reopening is not None
        if not plan.done(c.reopening.resolved_at):
            ctx.count("open_now")
            return
        body = dated(
            c.reopening.resolved_at,
            c.agent,
            resolution="回访发现未解决，二次处理后恢复",
            first_contact=False,
        )
        ctx.api.post("intake", f"/cases/{case_id}/resolve", CTI, body)
        ctx.count("resolved_again")
        with ctx.lock:
            solved.add(case_id)

    ctx.discover_and_work(
        "reopened cases solved again",
        again,
        discover,
        resolve,
        "intake did not reopen them after the follow-up (is `cs consume intake` running?)",
    )

    def call(case_id: str, task: dict[str, Any]) -> None:
        c = again[case_id]
        assert c.reopening is not None
        _call(ctx, plan, c, task, c.reopening.calls)

    ctx.discover_and_work(
        "follow-up calls after the second solution",
        solved,
        lambda pending: _due_followups(ctx, pending),
        call,
        "no follow-up call was scheduled for them (is `cs consume followup` running?)",
    )
