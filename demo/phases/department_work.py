"""Department work: routing puts each transfer in a department's queue on its own; the
departments' work-order system reports the acceptance by the member routing chose (or the
head), the progress with an ETA of complex ones, and the handling, each at its time. Intake
resolves a handled case on `case.handled`."""

from __future__ import annotations

from typing import Any

from demo import data
from demo.context import SUPERVISOR, WORK_DEPARTMENTS, WORK_ORDERS, Context, dated
from demo.plan import Plan


def department_work(ctx: Context, plan: Plan) -> None:
    transferred = {
        ctx.case_ids[c.number]: c
        for c in plan.cases
        if c.route == "transfer" and plan.done(c.acted_at) and c.number in ctx.case_ids
    }
    quiet = {"polls": 0}

    def discover(pending: set[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for department in WORK_DEPARTMENTS:
            items = ctx.pages(
                "routing",
                "/work-items",
                (data.head_of(department), "department_head"),
                department=department,
            )
            found.update({i["case_id"]: i for i in items if i["case_id"] in pending})
        quiet["polls"] = 0 if found else quiet["polls"] + 1
        if not found and quiet["polls"] >= 5 and len(pending) <= 100:
            # another rule may have sent some elsewhere: ask for each case directly
            for case_id in pending:
                items = ctx.api.get("routing", "/work-items", SUPERVISOR, case_id=case_id)
                if items["items"]:
                    found[case_id] = items["items"][0]
        return found

    def work(case_id: str, item: dict[str, Any]) -> None:
        c = transferred[case_id]
        d = c.department
        assert d is not None
        if item["department"] not in WORK_DEPARTMENTS:
            ctx.count("elsewhere")  # a department the demo's staff do not work in
            return
        ctx.count(f"routed_{item['department']}")
        if not plan.done(d.accepted_at):
            ctx.count("in_department")
            return
        # the assignee routing chose; an item nobody qualified for is taken by the head
        member = item["assignee_id"] or data.head_of(item["department"])
        path = f"/work-items/{item['id']}"
        ctx.api.post("routing", f"{path}/accept", WORK_ORDERS, dated(d.accepted_at, member))
        if d.progress_at is not None and d.eta is not None and plan.done(d.progress_at):
            note = "已派单，工程师排期处理中"
            body = dated(d.progress_at, member, note=note, eta=d.eta.isoformat())
            ctx.api.post("routing", f"{path}/progress", WORK_ORDERS, body)
            ctx.count("eta")
        if not plan.done(d.handled_at):
            ctx.count("in_department")
            return
        codes = data.RESOLUTION_CODES.get(item["department"], ("handled",))
        code = "outage_restored" if c.outage else codes[c.number % len(codes)]
        body = dated(d.handled_at, member, resolution_code=code)
        ctx.api.post("routing", f"{path}/handled", WORK_ORDERS, body)
        ctx.count("handled")
        ctx.resolved_now(case_id)  # intake resolves it on case.handled, at that time

    ctx.discover_and_work(
        "department work (accept, ETA, handled)",
        transferred,
        discover,
        work,
        "routing did not put the transfers in a demo department's queue"
        " (is `cs consume routing` running? do other routing rules come first?)",
    )
