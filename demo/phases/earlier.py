"""Is it there already? The first phase: which set of this quarter and seed to load, or, when
one is loaded and `--again` is not given, what is there and where to look."""

from __future__ import annotations

from demo import data
from demo.context import CRM, ROLE_OF, Context
from demo.plan import first_account
from demo.summary import browser_links, print_links


def _customer_exists(ctx: Context, account_no: str) -> bool:
    found = ctx.api.get("intake", "/customers", CRM, account_no=account_no)
    return bool(found["items"])


def choose_set(ctx: Context) -> int | None:
    """The number of the set to load, or None when this quarter and seed are loaded."""
    task = ctx.progress.add_task("looking for an earlier demo load", total=1)
    if not _customer_exists(ctx, first_account(ctx.quarter, ctx.seed, 1)):
        ctx.progress.advance(task)
        return 1
    loaded = 1
    while _customer_exists(ctx, first_account(ctx.quarter, ctx.seed, loaded + 1)):
        loaded += 1
    ctx.progress.advance(task)
    if ctx.again:
        return loaded + 1
    ctx.progress.stop()
    already_loaded(ctx, loaded)
    return None


def already_loaded(ctx: Context, sets: int) -> None:
    departments = ctx.pages("routing", "/departments")
    ours = [d for d in departments if d["code"] in data.DEPARTMENT_CODES]
    staff = ctx.pages("routing", "/staff")
    campaigns = ctx.pages("followup", "/campaigns", period=str(ctx.quarter))
    names = [c for c in campaigns if ctx.tag(1).rstrip("-") in c["name"]]
    tags = ", ".join(f"{ctx.tag(n)}…" for n in range(1, sets + 1))
    ctx.console.print(
        f"[bold]already loaded:[/] {ctx.quarter}, seed {ctx.seed} — customer accounts {tags};"
        f" {len(ours)} demo departments, {sum(s['staff_id'] in ROLE_OF for s in staff)} demo"
        f" staff"
        + (
            f", campaign “{names[0]['name']}” ({names[0]['responses']} responses)"
            if names
            else "; no campaign of this set (was a load interrupted?)"
        )
        + "."
    )
    ctx.console.print(
        "Nothing added. `cs demo --again` loads another set; another --seed or --quarter"
        " loads a different one."
    )
    ctx.console.print("Look at it (the links carry a supervisor's token for 8 hours):")
    print_links(ctx, browser_links(ctx))
