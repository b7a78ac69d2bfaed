"""`cs demo`: loads a history — the quarter before and the current one up to now — phase by
phase through the services' public APIs and the portal's event, with a progress bar per phase
and a summary of what is where at the end.

Every step is a request another system would make: the operator's organisation (departments,
staff, routing rules) by a supervisor; customers by the CRM. The cases' steps happened over
the two quarters (demo/quarter.py plans when), so they come as other systems report
history, each dated with `occurred_at` and naming the person who did it (`actor_id`): the
call-centre system reports what agents did on the hotline and at their desks (cases, calls,
replies, transfers, resolutions, follow-up calls), the mail gateway the messages it took in,
the online portal its requests (`case.requested`, dated by its envelope), the departments'
work-order system their acceptance, progress and handling. Campaign, inspections and training
are done now by the people whose job they are. What the services do on their own — routing a
transfer, resolving a handled case, scheduling the follow-up call, reopening, breaches — the
demo waits for, within bounds; they take their times from the steps that caused them.

The phases are in demo/phases/ (one module each), the summary in demo/summary.py; this module
plays them in order.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime

from rich.console import Console

from demo.client import Api, ApiError
from demo.context import Context
from demo.phases import (
    cases,
    department_work,
    directory,
    earlier,
    followup,
    supervision,
    training,
)
from demo.plan import Plan
from demo.quarter import build
from demo.summary import summary
from shared import clock
from shared.config import SERVICES, Settings
from shared.periods import Period


def current_quarter(now: datetime | None = None) -> str:
    return str(Period.of(now or clock.now(), "quarter"))


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    """`cs demo` with parsed arguments; returns the exit status."""
    console = console or Console(highlight=False)
    settings = Settings.from_env()
    urls = {s: getattr(args, f"{s}_url") for s in SERVICES}
    api = Api(urls, settings.jwt_secret)
    down = [p for p in (api.problem(s) for s in SERVICES) if p]
    if down:
        for problem in down:
            console.print(f"[red]cs demo:[/] {problem}")
        console.print("Start the system first (./dev up) and wait until it answers.")
        return 1
    try:
        quarter = Period.parse(args.quarter or current_quarter(), kinds=("quarter",))
    except ValueError as e:
        console.print(f"[red]cs demo:[/] {e}")
        return 2
    if args.cases < 1:
        console.print("[red]cs demo:[/] --cases must be at least 1")
        return 2
    ctx = Context(
        api,
        settings,
        console,
        quarter,
        seed=args.seed,
        cases=args.cases,
        again=args.again,
        workers=args.workers,
        patience=args.patience,
    )
    return play(ctx)


def play(ctx: Context) -> int:
    """Loads, sums up and says what failed; returns the exit status."""
    started = time.monotonic()
    try:
        with ctx.progress:
            plan = load(ctx, clock.now())
    except ApiError as e:  # a step everything after it needs did not work
        ctx.console.print(f"[red]cs demo: stopped:[/] {e}")
        return 1
    except ValueError as e:
        ctx.console.print(f"[red]cs demo:[/] {e}")
        return 2
    except KeyboardInterrupt:
        ctx.console.print("cs demo: interrupted; `cs demo --again` loads a fresh set")
        return 130
    finally:
        ctx.pool.shutdown(wait=False, cancel_futures=True)
    if plan is None:
        return 0
    summary(ctx, plan, time.monotonic() - started)
    if ctx.errors:
        ctx.console.print(f"[red]{len(ctx.errors)} request(s) failed[/], the first ones:")
        for e in ctx.errors[:8]:
            ctx.console.print(f"  {e}")
        return 1
    return 0


def load(ctx: Context, now: datetime) -> Plan | None:
    """Every phase in turn; None when this quarter and seed are there already."""
    set_no = earlier.choose_set(ctx)
    if set_no is None:
        return None
    calendar = directory.calendar(ctx)
    plan = build(ctx.quarter, ctx.seed, ctx.cases, now, calendar, set_no=set_no)
    directory.organisation(ctx)
    directory.customers(ctx, plan)
    cases.record(ctx, plan)
    department_work.department_work(ctx, plan)
    followup.followup_calls(ctx, plan)
    followup.reopenings(ctx, plan)
    supervision.campaign(ctx, plan)
    supervision.inspections(ctx, plan)
    supervision.improvements(ctx, plan)
    training.training(ctx, plan, calendar)
    training.incentives(ctx, plan)
    return plan
