"""Scorecard facts (one per consumed event) and the figures computed from them.

Facts are written by the event handlers and by assessments (certificates); figures are only
ever computed from facts, with the arithmetic in `domain/scorecard.py`. Who resolved a case
comes from `case_resolutions` (training's case → resolver projection from `case.resolved`):
satisfaction and reopenings count for the resolver of the case at that time.

Satisfaction counts only from an independent follow-up call (policy: 回访 is the customer's
confirmation): a satisfaction fact keeps who made the call (`recorded_by`), is not attributed
to a resolver who made it themselves, and is left out of the figures of anyone who made it.
Followup refuses such a call in the first place; this is the second lock on the same door.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.training.domain import scorecard
from services.training.domain.periods import Period
from services.training.domain.scorecard import Figure, Tally
from shared.db import Transaction
from shared.errors import NotFound


def record_fact(
    tx: Transaction,
    *,
    event_id: str,
    event_type: str,
    fact: str,
    staff_id: str | None,
    value: float,
    occurred_at: datetime,
    subject: str,
    valid_until: datetime | None = None,
    recorded_by: str | None = None,
) -> None:
    """Once per event id: a second delivery of the same event adds nothing. `recorded_by`: who
    made the follow-up call behind a satisfaction fact."""
    tx.execute(
        "INSERT INTO scorecard_facts (event_id, event_type, figure, staff_id, value, occurred_at,"
        " subject, valid_until, recorded_by, recorded_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
        (
            event_id,
            event_type,
            fact,
            staff_id,
            value,
            occurred_at,
            subject,
            valid_until,
            recorded_by,
            tx.now,
        ),
    )


def record_time_limit(
    tx: Transaction,
    *,
    event_id: str,
    event_type: str,
    staff_id: str | None,
    met: bool,
    occurred_at: datetime,
    case_id: str,
    clock: str,
    due_at: datetime,
) -> None:
    """One clock kept (1) or breached (0) for its assignee. A clock (case, clock, due_at) that
    was met has no breach: routing announces a met after a breach only when a step reported
    late stopped it in time, so the met replaces the breach, whichever arrives first. A clock
    nobody was assigned adds nothing to a scorecard."""
    same_clock = "figure = %s AND subject = %s AND clock = %s AND due_at = %s"
    key = (scorecard.TIME_LIMIT, case_id, clock, due_at)
    if met:
        tx.execute(f"DELETE FROM scorecard_facts WHERE {same_clock} AND value = 0", key)
    elif tx.one(f"SELECT 1 AS met FROM scorecard_facts WHERE {same_clock} AND value = 1", key):
        return
    if not staff_id:
        return
    tx.execute(
        "INSERT INTO scorecard_facts (event_id, event_type, figure, staff_id, value, occurred_at,"
        " subject, clock, due_at, recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (event_id) DO NOTHING",
        (
            event_id,
            event_type,
            scorecard.TIME_LIMIT,
            staff_id,
            1 if met else 0,
            occurred_at,
            case_id,
            clock,
            due_at,
            tx.now,
        ),
    )


def record_resolution(
    tx: Transaction, event_id: str, case_id: str, resolved_by: str, resolved_at: datetime
) -> None:
    """The case → resolver projection; facts of this case waiting for their resolver get it."""
    tx.execute(
        "INSERT INTO case_resolutions (event_id, case_id, resolved_by, resolved_at)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
        (event_id, case_id, resolved_by, resolved_at),
    )
    tx.execute(
        "UPDATE scorecard_facts SET staff_id = %s WHERE subject = %s AND staff_id IS NULL"
        " AND figure IN (%s, %s) AND occurred_at >= %s AND recorded_by IS DISTINCT FROM %s",
        (
            resolved_by,
            case_id,
            scorecard.SATISFACTION,
            scorecard.REOPENED,
            resolved_at,
            resolved_by,
        ),
    )


def resolver(tx: Transaction, case_id: str, at: datetime) -> str | None:
    """Who had resolved the case most recently before `at`, if training knows yet."""
    row = tx.one(
        "SELECT resolved_by FROM case_resolutions WHERE case_id = %s AND resolved_at <= %s"
        " ORDER BY resolved_at DESC, event_id DESC LIMIT 1",
        (case_id, at),
    )
    return row["resolved_by"] if row else None


# a fact counts for its staff member unless it is satisfaction from a call they made themselves
_COUNTS = "recorded_by IS DISTINCT FROM staff_id"


def _tallies(
    tx: Transaction, period: Period, staff_ids: Sequence[str]
) -> dict[str, dict[str, Tally]]:
    rows = tx.all(
        "SELECT staff_id, figure, count(*) AS events, coalesce(sum(value), 0) AS total"
        " FROM scorecard_facts WHERE staff_id = ANY(%s) AND figure <> %s"
        f" AND occurred_at >= %s AND occurred_at < %s AND {_COUNTS}"
        " GROUP BY staff_id, figure",
        (list(staff_ids), scorecard.CERTIFICATE, period.start, period.end),
    )
    out: dict[str, dict[str, Tally]] = {}
    for r in rows:
        out.setdefault(r["staff_id"], {})[r["figure"]] = Tally(int(r["events"]), float(r["total"]))
    return out


def _certificates(
    tx: Transaction, as_of: datetime, staff_ids: Sequence[str]
) -> dict[str, tuple[int, list[str]]]:
    """staff id → (mandatory courses of their role, event ids of the certificates valid at
    `as_of` for them). Courses created after `as_of` were not mandatory then."""
    rows = tx.all(
        "SELECT s.staff_id, c.code,"
        " (SELECT f.event_id FROM scorecard_facts f WHERE f.figure = %(fact)s"
        "    AND f.staff_id = s.staff_id AND f.subject = c.code"
        "    AND f.occurred_at <= %(as_of)s AND f.valid_until > %(as_of)s"
        "  ORDER BY f.valid_until DESC, f.event_id LIMIT 1) AS event_id"
        " FROM staff s JOIN courses c ON s.role = ANY (c.mandatory_for)"
        "  AND c.created_at <= %(as_of)s"
        " WHERE s.staff_id = ANY(%(ids)s)",
        {"fact": scorecard.CERTIFICATE, "as_of": as_of, "ids": list(staff_ids)},
    )
    out: dict[str, tuple[int, list[str]]] = {}
    for r in rows:
        mandatory, certified = out.get(r["staff_id"], (0, []))
        out[r["staff_id"]] = (
            mandatory + 1,
            certified + ([r["event_id"]] if r["event_id"] else []),
        )
    return out


def figures(
    tx: Transaction, period: Period, now: datetime, staff_ids: Sequence[str]
) -> dict[str, dict[str, Figure]]:
    """Every figure of every staff member named, for the period."""
    if not staff_ids:
        return {}
    tallies = _tallies(tx, period, staff_ids)
    certificates = _certificates(tx, period.as_of(now), staff_ids)
    out = {}
    for staff_id in staff_ids:
        mandatory, certified = certificates.get(staff_id, (0, []))
        out[staff_id] = scorecard.compute(tallies.get(staff_id, {}), mandatory, len(certified))
    return out


def figure_dict(figure: Figure) -> dict[str, Any]:
    return {
        "value": figure.value,
        "events": figure.events,
        "unit": figure.unit,
        "description": figure.description,
    }


def _staff(tx: Transaction, staff_id: str) -> dict[str, Any]:
    staff = tx.one(
        "SELECT staff_id, display_name, role, department, active FROM staff WHERE staff_id = %s",
        (staff_id,),
    )
    if staff is None:
        known = tx.one(
            "SELECT 1 AS found FROM scorecard_facts WHERE staff_id = %s LIMIT 1", (staff_id,)
        )
        if known is None:
            raise NotFound(f"no staff member {staff_id}")
        staff = {"staff_id": staff_id, "display_name": None, "role": None, "department": None}
    return staff


def scorecard_of(tx: Transaction, staff_id: str, period: Period, now: datetime) -> dict[str, Any]:
    staff = _staff(tx, staff_id)
    figs = figures(tx, period, now, [staff_id])[staff_id]
    return {
        "staff_id": staff_id,
        "display_name": staff["display_name"],
        "role": staff["role"],
        "department": staff["department"],
        "period": period.code,
        "period_kind": period.kind,
        "from": period.first_day,
        "to": period.last_day,
        "as_of": period.as_of(now),
        "figures": {name: figure_dict(f) for name, f in figs.items()},
        "not_available": scorecard.NOT_AVAILABLE,
    }


_FACT_COLUMNS = "event_id, event_type, occurred_at, value, subject"


def evidence(
    tx: Transaction, staff_id: str, period: Period, figure: str, now: datetime
) -> dict[str, Any]:
    """The facts (event ids) behind one figure of a scorecard."""
    _staff(tx, staff_id)
    fig = figures(tx, period, now, [staff_id])[staff_id][figure]
    fact = scorecard.FIGURES[figure].fact
    if fact == scorecard.CERTIFICATE:
        _, certified = _certificates(tx, period.as_of(now), [staff_id]).get(staff_id, (0, []))
        items = tx.all(
            f"SELECT {_FACT_COLUMNS} FROM scorecard_facts WHERE event_id = ANY(%s)"
            " ORDER BY occurred_at, event_id",
            (certified,),
        )
    else:
        items = tx.all(
            f"SELECT {_FACT_COLUMNS} FROM scorecard_facts WHERE staff_id = %s AND figure = %s"
            f" AND occurred_at >= %s AND occurred_at < %s AND {_COUNTS}"
            " ORDER BY occurred_at, event_id",
            (staff_id, fact, period.start, period.end),
        )
    return {
        "staff_id": staff_id,
        "period": period.code,
        "figure": figure,
        "value": fig.value,
        "events": fig.events,
        "items": items,
    }
