"""Training and incentives, by the trainer and a supervisor: a session of each course spread
over the two quarters with attendance and assessments, then the evaluation of the quarter
before (it is over): an incentive run and three awards."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from demo import data
from demo.client import ApiError
from demo.context import ROLE_OF, SUPERVISOR, TRAINER, Context
from demo.periods import TZ, Calendar
from demo.plan import Plan
from shared import clock


def training(ctx: Context, plan: Plan, calendar: Calendar) -> None:
    """A session of each course, spread over the two quarters, with attendance and
    assessments."""
    first = plan.start.date()
    last = min(clock.today(), ctx.quarter.end.date() - timedelta(days=1))
    days = [first + timedelta(days=n) for n in range((last - first).days)]
    working = [d for d in days if calendar.working(d)] or [first]
    staff = data.staff_directory()
    sessions: list[tuple[tuple[str, str, tuple[str, ...], int, float], int, date]] = []
    for n, course in enumerate(data.COURSES):
        on = working[(2 * n + 1) * len(working) // (2 * len(data.COURSES))]
        created = ctx.api.post(
            "training",
            "/sessions",
            TRAINER,
            {
                "course_code": course[0],
                "date": on.isoformat(),
                "trainer": "培训中心 讲师组",
                "capacity": 80,
                "location": "培训中心三楼",
            },
        )
        sessions.append((course, created["id"], on))
        ctx.count("sessions")
    rng = random.Random(f"{plan.tag}/training")
    seats = [
        (course, session_id, on, str(person["staff_id"]), rng.random())
        for course, session_id, on in sessions
        for person in staff
        if person["role"] in course[2]
    ]

    def attend(seat: tuple[Any, int, date, str, float]) -> None:
        course, session_id, on, staff_id, luck = seat
        attended = luck < 0.93
        _until_known(
            ctx,
            lambda: ctx.api.post(
                "training",
                f"/sessions/{session_id}/attendance",
                TRAINER,
                {"staff_id": staff_id, "attended": attended},
            ),
        )
        ctx.count("attendance")
        if not attended:
            return
        drawn = random.Random(f"{staff_id}/{course[0]}/{luck}").gauss(89, 6)
        score = round(min(100.0, max(40.0, drawn)), 1)
        ctx.api.post(
            "training",
            "/assessments",
            TRAINER,
            {
                "staff_id": staff_id,
                "course_code": course[0],
                "score": score,
                "assessed_at": datetime.combine(on, dtime(16), TZ).isoformat(),
                "session_id": session_id,
            },
        )
        ctx.count("assessments")
        ctx.count("passed" if score >= course[4] else "failed")

    ctx.parallel("training (attendance, assessments)", seats, attend)


def _until_known(ctx: Context, request: Callable[[], Any]) -> Any:
    """Training learns of staff from routing's staff.upserted: 404 until it has."""
    waited = 0.0
    while True:
        try:
            return request()
        except ApiError as e:
            if e.status != 404 or waited > ctx.patience:
                raise
        time.sleep(0.5)
        waited += 0.5


def incentives(ctx: Context, plan: Plan) -> None:
    """The evaluation of the quarter before (it is over): nominations, three awards."""
    task = ctx.progress.add_task("incentive run and awards", total=None)
    period = str(ctx.quarter.previous())
    watched = [data.agent_id(i) for i in (1, 2, 3)]

    def facts() -> int:
        total = 0
        for staff_id in watched:
            card = ctx.api.get("training", f"/scorecards/{staff_id}", SUPERVISOR, period=period)
            total += sum(int(f["events"]) for f in card["figures"].values())
        return total

    # the scorecards count events; let training catch up with the last of them
    last, stable, waited = -1, 0, 0.0
    while stable < 3 and waited < min(ctx.patience, 30):
        now_facts = facts()
        stable = stable + 1 if now_facts == last else 0
        last = now_facts
        time.sleep(0.7)
        waited += 0.7
    run = ctx.api.post("training", "/incentive-runs", SUPERVISOR, {"period": period})
    ctx.counts["nominations"] = len(run["nominations"])
    pending = [
        n for n in run["nominations"] if n["status"] == "pending" and n["staff_id"] in ROLE_OF
    ]
    ctx.progress.update(task, total=1 + min(3, len(pending)))
    ctx.progress.advance(task)
    for n in sorted(pending, key=lambda n: n["staff_id"])[:3]:
        ctx.api.post(
            "training",
            f"/nominations/{n['id']}/decision",
            SUPERVISOR,
            {"approve": True, "reason": "季度考核优秀"},
        )
        ctx.count("awards")
        ctx.progress.advance(task)
