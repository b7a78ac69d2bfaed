"""Network incidents as routing announces them: kept, linked to intake's cases, told to every
linked customer, and resolved for every linked case.

Intake links its cases (when it learns of an incident, and each new case as it opens) and tells
routing (`case.linked`); routing links a case intake had not named and tells intake the same
way. A case's events and its incident's arrive on different partitions, so in any order. Two
rules make the order not matter:

- an incident's handlers take an exclusive advisory lock on its id, `case.linked` a shared one:
  a case linked while its incident changes is seen by the change or sees it;
- `case.linked` catches the case up with what intake already knows of the incident (told its
  message, or resolved with it).

A case is resolved by its incident only if it was opened before the resolution: a case that
came in later (intake had not heard of the resolution yet) stays open, and routing, which
knew, routes it as any other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from psycopg.types.json import Jsonb

from services.intake.commands import SOURCE
from services.intake.domain.incidents import BATCH, RESOLVER, Notice
from services.intake.domain.lifecycle import next_state, working_states
from shared.db import Transaction
from shared.events import new_event

log = logging.getLogger(__name__)


def _lock(tx: Transaction, incident_id: str, *, shared: bool = False) -> None:
    lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    tx.execute(f"SELECT {lock}(hashtext(%s))", (f"incident:{incident_id}",))


def record_declared(tx: Transaction, d: dict[str, Any]) -> None:
    """An incident opened: new cases of its regions and categories link to it at once."""
    _lock(tx, d["incident_id"])
    tx.execute(
        "INSERT INTO incidents (id, regions, categories, started_at, eta, message, state,"
        " updated_at) VALUES (%s, folded(%s::text[]), folded(%s::text[]), %s, %s, %s, 'open', %s)"
        " ON CONFLICT (id) DO NOTHING",
        (
            d["incident_id"],
            d["regions"],
            d["categories"],
            d["started_at"],
            d["eta"],
            d["message"],
            d["declared_at"],
        ),
    )
    notice = Notice(d["incident_id"], d["message"], d["eta"])
    # cases routing linked before intake heard of the incident are told now
    _tell(tx, notice, d["declared_by"])
    after = _NO_CASE
    while (after := _link_open_batch(tx, notice, after)) is not None:
        pass


_LINK_OPEN_BATCH = """
WITH i AS (SELECT id, regions, categories, started_at FROM incidents WHERE id = %(incident_id)s),
c AS (
    SELECT cases.id FROM cases, i
    WHERE cases.incident_id IS NULL AND cases.state = ANY(%(working)s)
      AND folded(cases.region) = ANY(i.regions)
      AND folded(cases.category) = ANY(i.categories)
      AND cases.opened_at >= i.started_at AND cases.id > %(after)s
    ORDER BY cases.id LIMIT %(limit)s FOR UPDATE OF cases
)
UPDATE cases SET incident_id = %(incident_id)s, updated_at = %(now)s
FROM c WHERE cases.id = c.id
RETURNING cases.id::text, cases.case_no
"""
# the keyset's start: below every case id
_NO_CASE = "00000000-0000-0000-0000-000000000000"


def _link_open_batch(tx: Transaction, notice: Notice, after: str) -> str | None:
    """Links up to BATCH of intake's open cases the incident covers (opened since it started,
    before intake heard of it) whose ids follow `after`: each told its message, and routing
    told (`case.linked`). Returns the last id when there may be more."""
    rows = tx.execute(
        _LINK_OPEN_BATCH,
        {
            "incident_id": notice.incident_id,
            "working": working_states(),
            "limit": BATCH,
            "after": after,
            "now": tx.now,
        },
    ).fetchall()
    _timeline(tx, [r[0] for r in rows], "linked", "intake", {"incident_id": notice.incident_id})
    for case_id, _ in rows:
        tx.emit(
            new_event(
                "case.linked",
                case_id,
                {"case_id": case_id, "incident_id": notice.incident_id, "linked_at": tx.now},
                source=SOURCE,
            )
        )
    _told(tx, notice, "intake", rows)
    return max(r[0] for r in rows) if len(rows) == BATCH else None


def record_updated(tx: Transaction, d: dict[str, Any]) -> None:
    """A new ETA or message: told to every linked case still being worked on."""
    _lock(tx, d["incident_id"])
    updated = tx.execute(
        "UPDATE incidents SET eta = %s, message = %s, updated_at = %s"
        " WHERE id = %s AND state = 'open' RETURNING id",
        (d["eta"], d["message"], d["updated_at"], d["incident_id"]),
    ).fetchone()
    if updated is None:
        log.info("skipped an update of incident %s: not open here", d["incident_id"])
        return
    _tell(tx, Notice(d["incident_id"], d["message"], d["eta"]), d["updated_by"])


def record_resolved(tx: Transaction, d: dict[str, Any]) -> None:
    """The incident is over: every linked case opened before resolves with its resolution."""
    _lock(tx, d["incident_id"])
    incident = tx.one(
        "UPDATE incidents SET state = 'resolved', cause = %s, resolution = %s,"
        " resolved_by = %s, resolved_at = %s, updated_at = %s WHERE id = %s"
        " RETURNING id, cause, resolution, resolved_at",
        (
            d["cause"],
            d["resolution"],
            d["resolved_by"],
            d["resolved_at"],
            d["resolved_at"],
            d["incident_id"],
        ),
    )
    if incident is None:
        log.warning("incident %s resolved, but intake never heard of it", d["incident_id"])
        return
    while len(_resolve_batch(tx, incident)) == BATCH:
        pass


def record_linked(tx: Transaction, case_id: str, incident_id: str) -> None:
    """Routing linked a case (opened before the incident was declared, or one intake did not
    link): from now on its customer hears the incident's news, and it resolves with it."""
    _lock(tx, incident_id, shared=True)
    case = tx.one(
        "UPDATE cases SET incident_id = %s, updated_at = %s"
        " WHERE id = %s AND incident_id IS DISTINCT FROM %s RETURNING id",
        (incident_id, tx.now, case_id, incident_id),
    )
    if case is None:
        return  # linked already (when it opened), or not intake's case
    _timeline(tx, [case_id], "linked", "routing", {"incident_id": incident_id})
    incident = tx.one("SELECT * FROM incidents WHERE id = %s", (incident_id,))
    if incident is None:
        return  # its incident.declared tells it
    if incident["state"] == "open":
        _tell(tx, Notice(incident_id, incident["message"], incident["eta"]), "routing", case_id)
    else:
        _resolve_batch(tx, incident, case_id)


def _timeline(tx: Transaction, case_ids: Iterable[str], type_: str, by: str, detail: dict) -> None:
    """The same entry in each case's timeline, at the time intake did it."""
    tx.execute(
        "INSERT INTO case_timeline (case_id, at, type, by, detail)"
        " SELECT c, %s, %s, %s, %s FROM unnest(%s::uuid[]) AS c",
        (tx.now, type_, by, Jsonb(detail), list(case_ids)),
    )


def _tell(tx: Transaction, notice: Notice, by: str, case_id: str | None = None) -> None:
    """An entry in the timeline of each linked case still being worked on (or of `case_id`
    alone) and a `case.notified` for the SMS and app gateways, a batch at a time."""
    after = _NO_CASE
    while True:
        rows = tx.execute(
            "SELECT id::text, case_no FROM cases WHERE incident_id = %s AND state = ANY(%s)"
            " AND id > %s AND (%s::uuid IS NULL OR id = %s::uuid) ORDER BY id LIMIT %s",
            (notice.incident_id, working_states(), after, case_id, case_id, BATCH),
        ).fetchall()
        if not rows:
            return
        _told(tx, notice, by, rows)
        after = rows[-1][0]


def _told(tx: Transaction, notice: Notice, by: str, cases: list[tuple]) -> None:
    """Each case (id, number) is told the notice: an entry in its timeline and a
    `case.notified` for the SMS and app gateways, written to the outbox at once (memory stays
    bounded however many cases an incident has)."""
    _timeline(tx, [c[0] for c in cases], "incident_notified", by, notice.as_detail())
    for case_id, case_no in cases:
        tx.emit(
            new_event(
                "case.notified",
                case_id,
                {
                    "case_id": case_id,
                    "case_no": case_no,
                    "incident_id": notice.incident_id,
                    "eta": notice.eta,
                    "message": notice.message,
                    "notified_at": tx.now,
                },
                source=SOURCE,
            )
        )
    tx.flush_events()


_RESOLVE_BATCH = """
WITH c AS (
    SELECT id FROM cases
    WHERE incident_id = %(incident_id)s AND state = ANY(%(working)s)
      AND opened_at <= %(resolved_at)s AND (%(case_id)s::uuid IS NULL OR id = %(case_id)s::uuid)
    ORDER BY id LIMIT %(limit)s FOR UPDATE
), u AS (
    UPDATE cases SET state = %(state)s, resolution = %(resolution)s, first_contact = false,
           resolved_by = %(by)s, resolved_at = greatest(%(resolved_at)s, received_at),
           updated_at = %(now)s
    FROM c WHERE cases.id = c.id
    RETURNING cases.id, kind, category, department, received_at, resolved_at
), t AS (
    INSERT INTO case_timeline (case_id, at, type, by, detail)
    SELECT id, resolved_at, 'resolved', %(by)s,
           %(detail)s || jsonb_build_object('department', department)
    FROM u
)
SELECT id::text, kind, category, department, received_at, resolved_at FROM u
"""


def _resolve_batch(
    tx: Transaction, incident: dict[str, Any], case_id: str | None = None
) -> list[tuple]:
    """Resolves up to BATCH linked cases still being worked on (or `case_id` alone) with the
    incident's resolution: one timeline entry and one `case.resolved` each."""
    rows = tx.execute(
        _RESOLVE_BATCH,
        {
            "incident_id": incident["id"],
            "working": working_states(),
            "resolved_at": incident["resolved_at"],
            "case_id": case_id,
            "limit": BATCH,
            "state": next_state("open", "resolve"),
            "resolution": incident["resolution"],
            "by": RESOLVER,
            "now": tx.now,
            "detail": Jsonb(
                {
                    "resolution": incident["resolution"],
                    "first_contact": False,
                    "incident_id": incident["id"],
                    "cause": incident["cause"],
                }
            ),
        },
    ).fetchall()
    for linked, kind, category, department, received_at, resolved_at in rows:
        tx.emit(
            new_event(
                "case.resolved",
                linked,
                {
                    "case_id": linked,
                    "kind": kind,
                    "category": category,
                    "department": department,
                    "resolved_by": RESOLVER,
                    "first_contact": False,
                    "opened_at": received_at,
                    "resolved_at": resolved_at,
                    "incident_id": incident["id"],
                },
                source=SOURCE,
            )
        )
    tx.flush_events()
    return rows
