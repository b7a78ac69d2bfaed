"""Keeping the working-day calendar: an official year loaded by an operator, company
exceptions, and the open clocks whose deadlines they move."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from services.routing import clocks, repository
from services.routing.domain.deadlines import SHANGHAI, working_day_deadline
from shared.db import Transaction

OFFICIAL_SOURCES = ("chinese-calendar", "official-import")


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
    repository.reference_changed(tx)
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
    repository.reference_changed(tx)
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
        repository.calendar_from(tx, received_on),
        tx.settings.close_of_business,
    )
    return deadline.due_at + timedelta(seconds=clock["paused_seconds"]), deadline.provisional


_DAY_LOCK = 0x63616C64  # "cald": with the day's ordinal, one advisory lock per date


def calendar_day(tx: Transaction, day: date, *, lock: bool = False) -> dict[str, Any]:
    """One date as the calendar has it: a listed day (official or company), else Monday to
    Friday (`source` "weekdays"; `official` false when its year's schedule is not loaded).
    `lock` holds the date until commit, listed or not (before a change to it)."""
    if lock:
        tx.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_DAY_LOCK, day.toordinal()))
    listed = tx.one("SELECT day, working, reason, source FROM calendar_days WHERE day = %s", (day,))
    official = tx.one("SELECT 1 AS x FROM calendar_years WHERE year = %s", (day.year,))
    if listed is None:
        working = day.weekday() < 5
        listed = {
            "day": day,
            "working": working,
            "reason": "weekday" if working else "weekend",
            "source": "weekdays",
        }
    return dict(listed, official=official is not None)
