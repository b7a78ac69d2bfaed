"""What `cs demo` prints at the end: a table of what it loaded, the quarterly reports' main
figures, and where to look (links a browser opens as they are, and API addresses)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.table import Table

from demo import data
from demo.client import ApiError
from demo.context import SUPERVISOR, WORK_DEPARTMENTS, Context
from demo.plan import Plan
from shared.auth import mint_token
from shared.config import SERVICES

LINK_TOKEN_TTL = timedelta(hours=8)  # the token in the links the demo prints


def browser_links(ctx: Context) -> list[tuple[str, str]]:
    """Pages a browser opens as they are: the token (a supervisor's, for 8 hours) is in
    the address, which the dashboard and the report take once (see followup's
    dashboard.BrowserToken)."""
    urls = ctx.api.urls
    token = mint_token(ctx.settings.jwt_secret, data.SUPERVISOR, ["supervisor"], ttl=LINK_TOKEN_TTL)
    links = [
        (
            f"quarterly report {quarter}",
            f"{urls['followup']}/reports/quarterly/{quarter}.html?token={token}",
        )
        for quarter in (ctx.quarter, ctx.quarter.previous())
    ]
    links.append(("follow-up dashboard", f"{urls['followup']}/dashboard?token={token}"))
    return links


def print_links(ctx: Context, links: list[tuple[str, str]]) -> None:
    for what, url in links:
        ctx.console.print(f"  {what:<26} {url}", overflow="ignore", crop=False, soft_wrap=True)


def summary(ctx: Context, plan: Plan, elapsed: float) -> None:
    c = ctx.counts
    urls = ctx.api.urls
    period, before = str(ctx.quarter), str(ctx.quarter.previous())
    table = Table(
        title=f"cs demo: {before} and {period} up to now, seed {ctx.seed}, set {plan.set_no}",
        show_lines=False,
    )
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("detail")

    def row(what: str, n: int | str, detail: str = "") -> None:
        table.add_row(what, str(n), detail)

    def made(key: str) -> str:
        return f"{c[key + '_created']} new, {c[key + '_existing']} already there"

    row("departments", c["departments_created"] + c["departments_existing"], made("departments"))
    row("staff", c["staff_created"] + c["staff_existing"], made("staff"))
    row("routing rules", c["rules_created"] + c["rules_existing"], made("rules"))
    row(
        "calendar",
        c["calendar_exceptions"],
        f"holidays and makeup days in {before} and {period};"
        f" {ctx.quarter.year} {'official' if c['calendar_official'] else 'provisional'}",
    )
    row("customers", c["customers"], f"accounts {plan.tag}…, {c['consents']} consent decisions")
    total = c["hotline"] + c["email"] + c["online"]
    row(
        "cases",
        total,
        f"hotline {c['hotline']} ({c['calls']} call records), e-mail {c['email']},"
        f" online {c['online']} (case.requested)",
    )
    for quarter in (ctx.quarter.previous(), ctx.quarter):
        received = [
            x.received_at for x in plan.cases if quarter.start <= x.received_at < quarter.end
        ]
        if received:
            row(
                f"  received in {quarter}",
                len(received),
                f"{min(received):%m-%d %H:%M} to {max(received):%m-%d %H:%M}",
            )
    row("  first-contact resolutions", c["first_contact"], _share(c["first_contact"], total))
    row("  transferred", c["transferred"], _share(c["transferred"], total))
    departments = ", ".join(
        f"{d.removeprefix('DEMO-')} {c['routed_' + d]}"
        for d in WORK_DEPARTMENTS
        if c["routed_" + d]
    )
    if c["elsewhere"]:
        departments += f"; {c['elsewhere']} went to departments outside the demo"
    row("  handled by departments", c["handled"], departments)
    row("  complex, with an ETA", c["eta"], f"{c['in_department']} still in the departments")
    row("  answered later by the agent", c["later"])
    late = [x for x in plan.cases if x.late and plan.done(min(x.resolved_at, x.due_at))]
    row(
        "  past their time limit",
        len(late),
        f"{_share(len(late), total)}, from {min(x.due_at for x in late):%m-%d} to"
        f" {max(x.due_at for x in late):%m-%d}"
        if late
        else "",
    )
    row("  still open (their next step is to come)", c["open_now"] + c["in_department"])
    if plan.outage_region and plan.outage_at:
        row(
            "  broadband outage",
            sum(1 for x in plan.cases if x.outage),
            f"{plan.outage_region}, from {plan.outage_at:%Y-%m-%d %H:%M}",
        )
    row(
        "follow-up calls",
        c["call_attempts"],
        f"{c['reached']} reached, {c['unreachable']} unreachable,"
        f" {c['calls_pending']} not called yet",
    )
    row("  not solved → reopened", c["reopened"], f"{c['resolved_again']} solved again")
    row(
        "campaign",
        c["campaign_responses"],
        f"answers of {c['campaign_drawn']} drawn, {c['suggestions']} suggestions",
    )
    row("inspections scored", c["inspections"], f"{before} and {period}")
    row("improvement measures", c["improvements"])
    row(
        "training",
        c["assessments"],
        f"assessments ({c['passed']} passed) in {c['sessions']} sessions,"
        f" {c['attendance']} attendance records",
    )
    row("incentive nominations", c["nominations"], f"{before}: {c['awards']} approved as awards")
    ctx.console.print(table)
    for quarter in (ctx.quarter.previous(), ctx.quarter):
        report_figures(ctx, str(quarter))
    ctx.console.print("[bold]Where to look[/] (in a browser, as they are, for 8 hours):")
    print_links(ctx, browser_links(ctx))
    look = [
        ("  the report as JSON", f"{urls['followup']}/reports/quarterly/{period}"),
        ("  the same as CSV", f"{urls['followup']}/reports/quarterly/{period}?format=csv"),
        ("cases", f"{urls['intake']}/cases?received_from={plan.start.date()}"),
        ("a work queue", f"{urls['routing']}/work-items?department=DEMO-NETOPS"),
        ("breached time limits", f"{urls['routing']}/sla/breached"),
        ("a scorecard", f"{urls['training']}/scorecards/{data.agent_id(1)}?period={before}"),
        ("nominations", f"{urls['training']}/nominations?period={before}"),
        *((f"API docs of {s}", f"{urls[s]}/docs") for s in SERVICES),
    ]
    ctx.console.print("With a bearer header (or from the API docs' Authorize button):")
    print_links(ctx, look)
    ctx.console.print(
        "A token: .venv/bin/cs token"
        f" --subject {data.SUPERVISOR} --role supervisor"
        f" (an agent: --subject {data.agent_id(1)} --role agent)."
    )
    ctx.console.print(
        f"Done in {elapsed:.0f} s ({ctx.api.requests} requests)."
        + (f" {len(ctx.notes)} note(s) above." if ctx.notes else "")
    )


def report_figures(ctx: Context, period: str) -> None:
    try:
        report = ctx.api.get("followup", f"/reports/quarterly/{period}", SUPERVISOR)
    except ApiError as e:
        ctx.note(f"the quarterly report is not available: {e}")
        return
    s, t = report.get("satisfaction", {}), report.get("time_limits", {})
    f, comp = report.get("followups", {}), report.get("complaints", {})

    def shown(value: Any, unit: str = "") -> str:
        return "–" if value is None else f"{value}{unit}"

    ctx.console.print(
        f"In the {period} report: satisfaction {shown(s.get('mean'))}"
        f" (CSAT {shown(s.get('csat_percent'), ' %')}, {shown(s.get('responses'))} answers),"
        f" {shown(comp.get('volume'))} complaints ({shown(comp.get('previous_volume'))} in"
        f" {shown(comp.get('previous_quarter'))}), time limits kept"
        f" {shown(t.get('compliance_percent'), ' %')} ({shown(t.get('met'))} met,"
        f" {shown(t.get('breached'))} breached), follow-ups reached"
        f" {shown(f.get('reach_rate_percent'), ' %')}."
    )


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else ""
