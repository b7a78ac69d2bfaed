"""Keeping the working-day calendar: the official years the chinese-calendar package knows
(seeded after every migration), an official year loaded by an operator, company exceptions, and
the open clocks whose deadlines they move.

A year already loaded (from the package or by an operator) is left as it is by the seeding, so
an operator's import is never overwritten.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from services.routing import queries
from services.routing.commands import clocks
from services.routing.domain.deadlines import SHANGHAI, working_day_deadline
from shared.config import Settings
from shared.db import Database, Transaction
from shared.workdays import official_exceptions, official_years_available

log = logging.getLogger(__name__)
PACKAGE = "chinese-calendar"  # the source of the seeded days
OFFICIAL_SOURCES = (PACKAGE, "official-import")


def import_year(
    tx: Transaction, year: int, days: dict[date, tuple[bool, str]], by: str
) -> dict[str, Any]:
    """Replaces a year's official schedule (company exceptions stay) and re-computes the open
    clocks that were provisional."""
    tx.execute(
        "DELETE FROM calendar_days WHERE day >= make_date(%s, 1, 1)"
        " AND day < make_date(%s + 1, 1, 1) AND source = ANY(%s)",
        (year, year, list(OFFICIAL_SOURCES)),
    )
    with tx.conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO calendar_days (day, working, reason, source)"
            " VALUES (%s, %s, %s, 'official-import') ON CONFLICT (day) DO NOTHING",
            [(d, working, reason) for d, (working, reason) in sorted(days.items())],
        )
    tx.execute(
        "INSERT INTO calendar_years (year, source, loaded_at) VALUES (%s, %s, %s)"
        " ON CONFLICT (year) DO UPDATE SET source = excluded.source,"
        " loaded_at = excluded.loaded_at",
        (year, f"official-import by {by}", tx.now),
    )
    queries.reference_changed(tx)
    changed = recompute_open_clocks(tx, "provisional")
    return {"year": year, "days": len(days), "clocks_recomputed": changed}


def set_exception(tx: Transaction, day: date, working: bool, reason: str) -> dict[str, Any]:
    """A company exception (an extra day off, a working Saturday); moves the open clocks that
    count across that day."""
    tx.execute(
        "INSERT INTO calendar_days (day, working, reason, source) VALUES (%s, %s, %s, 'company')"
        " ON CONFLICT (day) DO UPDATE SET working = excluded.working, reason = excluded.reason,"
        " source = 'company'",
        (day, working, reason),
    )
    queries.reference_changed(tx)
    changed = recompute_open_clocks(tx, "spanning", day)
    return {"day": day, "working": working, "reason": reason, "clocks_recomputed": changed}


def recompute_open_clocks(tx: Transaction, which: str, day: date | None = None) -> int:
    """Re-computes the deadlines and warnings of open clocks ('provisional' ones, or those
    whose working time can include `day`); announces every deadline that moved and returns how
    many clocks changed."""
    if which == "provisional":
        condition, params = "provisional", []
    else:
        condition = (
            "(started_at AT TIME ZONE 'Asia/Shanghai')::date <= %s"
            " AND %s <= (due_at AT TIME ZONE 'Asia/Shanghai')::date + 7"
        )
        params = [day, day]
    open_clocks = tx.all(
        "SELECT * FROM sla_clocks WHERE stopped_at IS NULL AND "
        + condition
        + " ORDER BY id FOR UPDATE",
        params,
    )
    # customer clocks first: a department's deadline never passes its customer's
    open_clocks.sort(key=lambda c: c["clock"] == "department")
    changed = 0
    for clock in open_clocks:
        due, provisional = _deadline(tx, clock)
        warning_at = clock["warning_at"]
        if clock["warned_at"] is None:
            warning_at = clocks.place_warning(tx, clock, due)
        if (due, provisional, warning_at) == (
            clock["due_at"],
            clock["provisional"],
            clock["warning_at"],
        ):
            continue
        tx.execute(
            "UPDATE sla_clocks SET due_at = %s, provisional = %s, warning_at = %s WHERE id = %s",
            (due, provisional, warning_at, clock["id"]),
        )
        if (due, provisional) != (clock["due_at"], clock["provisional"]):
            clocks.announce(tx, dict(clock, due_at=due, provisional=provisional))
        changed += 1
    return changed


def _deadline(tx: Transaction, clock: dict[str, Any]) -> tuple[datetime, bool]:
    """The clock's deadline on today's calendar (a customer clock's moved by its pauses)."""
    if clock["clock"] == "department":
        customer = tx.one(
            "SELECT * FROM sla_clocks WHERE case_id = %s AND clock = 'customer'"
            " AND generation = %s",
            (clock["case_id"], clock["generation"]),
        )
        return clocks.department_deadline(
            tx, customer=customer, ola_hours=clock["ola_hours"], routed_at=clock["started_at"]
        )
    received_on = clock["received_at"].astimezone(SHANGHAI).date()
    deadline = working_day_deadline(
        clock["received_at"],
        clock["working_days"],
        queries.calendar_from(tx, received_on),
        tx.settings.close_of_business,
    )
    return deadline.due_at + timedelta(seconds=clock["paused_seconds"]), deadline.provisional


def seed_official_years(db: Database, _settings: Settings | None = None) -> list[int]:
    """Loads every year the package covers that is not loaded yet; returns those loaded."""
    with db.transaction() as tx:
        loaded = {r[0] for r in tx.execute("SELECT year FROM calendar_years").fetchall()}
        new_years = [y for y in official_years_available() if y not in loaded]
        rows = []
        for year in new_years:
            for day, (working, reason) in sorted((official_exceptions(year) or {}).items()):
                rows.append((day, working, reason, PACKAGE))
        if rows:
            with tx.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO calendar_days (day, working, reason, source)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (day) DO NOTHING",
                    rows,
                )
        for year in new_years:
            tx.execute(
                "INSERT INTO calendar_years (year, source, loaded_at) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (year, PACKAGE, tx.now),
            )
    if new_years:
        log.info(
            "calendar: loaded %d official years (%d-%d)",
            len(new_years),
            new_years[0],
            new_years[-1],
        )
    return new_years
