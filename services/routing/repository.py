"""SQL that loads and saves routing's domain objects; the rules live in domain/.

The calendar and the time-limit policies are read for every clock but change a few times a
year, so each process caches them, keyed by the stamp that any change to them writes
(`reference_version`, migration 0006). The stamp is read once per transaction: a consumer's
batch of events costs one small query instead of three per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.routing.domain.deadlines import SHANGHAI
from shared.db import Transaction
from shared.workdays import WorkingCalendar

# far enough ahead for any time limit, even across a Spring Festival
_CALENDAR_WINDOW = timedelta(days=120)
# distinct start dates and policy keys stay few; the bound only guards against a pathological run
_MAX_ENTRIES = 2048


@dataclass
class _Reference:
    version: int
    calendars: dict[tuple[date, int], WorkingCalendar] = field(default_factory=dict)
    policies: dict[tuple[str, str, date], dict | None] = field(default_factory=dict)


_reference = _Reference(version=-1)


def _cached(tx: Transaction) -> _Reference:
    """This process's reference data for the stamp this transaction sees (a new one if changed)."""
    global _reference
    version = tx.memo.get("routing.reference_version")
    if version is None:
        version = tx.execute("SELECT version FROM reference_version").fetchone()[0]
        tx.memo["routing.reference_version"] = version
    current = _reference
    if current.version != version or (
        len(current.calendars) + len(current.policies) > _MAX_ENTRIES
    ):
        current = _reference = _Reference(version)
    return current


def reference_changed(tx: Transaction) -> None:
    """Called by whoever writes the calendar or the policies, so the rest of the transaction
    reads the new stamp (and so the data it just wrote)."""
    tx.memo.pop("routing.reference_version", None)


def calendar_from(tx: Transaction, start: date, until: date | None = None) -> WorkingCalendar:
    """The calendar from `start` (included) onwards, as far as a time limit can reach past
    `until` (a clock's due date, when a long pause moved it far from its start)."""
    reference = _cached(tx)
    windows = 1 + max(0, ((until or start) - start).days) // _CALENDAR_WINDOW.days
    calendar = reference.calendars.get((start, windows))
    if calendar is None:
        calendar = _load_calendar(tx, start, start + windows * _CALENDAR_WINDOW)
        reference.calendars[(start, windows)] = calendar
    return calendar


def _load_calendar(tx: Transaction, start: date, end: date) -> WorkingCalendar:
    rows = tx.execute(
        "SELECT day, working, reason FROM calendar_days WHERE day >= %s AND day <= %s",
        (start, end),
    ).fetchall()
    years = [r[0] for r in tx.execute("SELECT year FROM calendar_years").fetchall()]
    return WorkingCalendar({day: (working, reason) for day, working, reason in rows}, years)


def sla_policy(tx: Transaction, kind: str, priority: str, at: datetime) -> dict | None:
    """The policy in effect on the (Shanghai) date of `at` for kind and priority, else the
    kind's normal one."""
    reference = _cached(tx)
    key = (kind, priority, at.astimezone(SHANGHAI).date())
    if key not in reference.policies:
        reference.policies[key] = tx.one(
            "SELECT kind, priority, working_days, warning_ratio, version FROM sla_policies"
            " WHERE kind = %s AND priority IN (%s, 'normal') AND effective_from <= %s"
            " ORDER BY priority = %s DESC, effective_from DESC, version DESC LIMIT 1",
            (kind, priority, key[2], priority),
        )
    policy = reference.policies[key]
    return None if policy is None else dict(policy)
