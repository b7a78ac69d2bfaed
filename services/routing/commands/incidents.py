"""Network incidents: declared, suspected from a burst, confirmed or dismissed, updated,
resolved; and the cases linked to them.

Each move loads the incident locked, lets the domain decide (domain/incidents.py), saves the
new state, appends the change to `incident_changes` (append-only) and emits its event, all in
the caller's transaction (the outbox sends the events only if it commits).

Detection (`detect_burst`) takes a transaction-scoped advisory lock per region and category
before it looks, and a unique index allows one suspicion per region and category: two
consumers of `case.opened` cannot both raise the same burst.
"""

from __future__ import annotations

import functools
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from services.routing import queries
from services.routing.commands import SOURCE, work_items
from services.routing.domain import incidents as rules
from services.routing.domain.incident_detection import (
    BurstEvidence,
    DetectionPolicy,
    assess_burst,
)
from services.routing.domain.incidents import Incident, IncidentChange
from shared.db import Transaction
from shared.errors import NotFound
from shared.events import new_event
from shared.logs import correlated

log = logging.getLogger(__name__)


@functools.cache
def detection_policy() -> DetectionPolicy:
    """The burst policy from the environment, read once per process (docs/operations.md lists
    the variables): `case.opened` asks for it on every case."""
    defaults = DetectionPolicy()

    def number(name: str, default: float) -> float:
        raw = os.environ.get(name, "").strip()
        try:
            return float(raw) if raw else default
        except ValueError:
            raise ValueError(f"{name} must be a number, got {raw!r}") from None

    return DetectionPolicy(
        window=timedelta(
            minutes=number("CS_INCIDENT_WINDOW_MINUTES", defaults.window.total_seconds() / 60)
        ),
        factor=number("CS_INCIDENT_FACTOR", defaults.factor),
        min_cases=int(number("CS_INCIDENT_MIN_CASES", defaults.min_cases)),
        weeks=int(number("CS_INCIDENT_WEEKS", defaults.weeks)),
    )


# loading and saving


def load(tx: Transaction, incident_id: str, *, lock: bool = False) -> Incident:
    row = queries.incident_row(tx, incident_id, lock=lock)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return queries.incident_of(row)


def _save(tx: Transaction, incident: Incident, change: IncidentChange, *, new: bool) -> None:
    values = {
        "id": incident.id,
        "state": incident.state.value,
        "regions": sorted(incident.regions),
        "categories": sorted(incident.categories),
        "started_at": incident.started_at,
        "eta": incident.eta,
        "message": incident.message,
        "cause": incident.cause,
        "resolution": incident.resolution,
        "declared_by": incident.declared_by,
        "declared_at": incident.declared_at,
        "ended_at": incident.ended_at,
        "evidence": Jsonb(incident.evidence.as_json()) if incident.evidence else None,
        "burst_key": _burst_key(incident.evidence.region, incident.evidence.category)
        if incident.evidence
        else None,
        "now": tx.now,
    }
    if new:
        tx.execute(
            "INSERT INTO incidents (id, state, regions, categories, started_at, eta, message,"
            " cause, resolution, declared_by, declared_at, ended_at, evidence, burst_key,"
            " created_at, updated_at) VALUES (%(id)s, %(state)s, %(regions)s, %(categories)s,"
            " %(started_at)s, %(eta)s, %(message)s, %(cause)s, %(resolution)s, %(declared_by)s,"
            " %(declared_at)s, %(ended_at)s, %(evidence)s, %(burst_key)s, %(now)s, %(now)s)",
            values,
        )
    else:
        tx.execute(
            "UPDATE incidents SET state = %(state)s, eta = %(eta)s, message = %(message)s,"
            " cause = %(cause)s, resolution = %(resolution)s, declared_by = %(declared_by)s,"
            " declared_at = %(declared_at)s, ended_at = %(ended_at)s, updated_at = %(now)s"
            " WHERE id = %(id)s",
            values,
        )
    tx.execute(
        "INSERT INTO incident_changes (incident_id, kind, at, by, fields)"
        " VALUES (%s, %s, %s, %s, %s)",
        (change.incident_id, change.kind, change.at, change.by, Jsonb(change.fields)),
    )


def _burst_key(region: str, category: str) -> str:
    return f"{region.strip().casefold()}\x1f{category.strip().casefold()}"


def _emit(tx: Transaction, type_: str, incident_id: str, data: dict[str, Any]) -> None:
    tx.emit(new_event(type_, incident_id, {"incident_id": incident_id, **data}, source=SOURCE))


def _announce_open(tx: Transaction, incident: Incident) -> None:
    _emit(
        tx,
        "incident.declared",
        incident.id,
        {
            "regions": sorted(incident.regions),
            "categories": sorted(incident.categories),
            "started_at": incident.started_at,
            "eta": incident.eta,
            "message": incident.message,
            "declared_by": incident.declared_by,
            "declared_at": incident.declared_at,
        },
    )


def _opened(tx: Transaction, incident: Incident) -> None:
    """An incident just opened: announced and its department's work item. Intake, which holds
    the cases, links the open ones it covers and tells routing (`case.linked`): a case is
    linked once intake knows the incident, so its next case's answer names it."""
    _announce_open(tx, incident)
    work_items.open_incident_item(tx, incident)


# the moves


def declare(
    tx: Transaction,
    *,
    regions: list[str],
    categories: list[str],
    started_at: datetime,
    message: str,
    by: str,
    eta: datetime | None = None,
    incident_id: str | None = None,
) -> dict[str, Any]:
    """Network operations declare an outage: open at once, its earlier cases linked."""
    incident, change = rules.declare(
        incident_id or str(uuid.uuid4()),
        regions=regions,
        categories=categories,
        started_at=started_at,
        message=message,
        eta=eta,
        at=tx.now,
        by=by,
    )
    _save(tx, incident, change, new=True)
    _opened(tx, incident)
    return queries.get_incident(tx, incident.id)


def confirm(
    tx: Transaction, incident_id: str, *, by: str, message: str, eta: datetime | None = None
) -> dict[str, Any]:
    """A suspicion confirmed: it opens and links the burst."""
    incident = load(tx, incident_id, lock=True)
    opened, change = incident.confirm(at=tx.now, by=by, message=message, eta=eta)
    _save(tx, opened, change, new=False)
    _opened(tx, opened)
    return queries.get_incident(tx, incident_id)


def dismiss(
    tx: Transaction, incident_id: str, *, by: str, reason: str | None = None
) -> dict[str, Any]:
    incident = load(tx, incident_id, lock=True)
    dismissed, change = incident.dismiss(at=tx.now, by=by, reason=reason)
    _save(tx, dismissed, change, new=False)
    return queries.get_incident(tx, incident_id)


def update(
    tx: Transaction,
    incident_id: str,
    *,
    by: str,
    eta: datetime | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    incident = load(tx, incident_id, lock=True)
    updated, change = incident.update(at=tx.now, by=by, eta=eta, message=message)
    _save(tx, updated, change, new=False)
    _emit(
        tx,
        "incident.updated",
        incident_id,
        {"eta": updated.eta, "message": updated.message, "updated_by": by, "updated_at": tx.now},
    )
    return queries.get_incident(tx, incident_id)


def resolve(
    tx: Transaction, incident_id: str, *, by: str, cause: str, resolution: str
) -> dict[str, Any]:
    incident = load(tx, incident_id, lock=True)
    resolved, change = incident.resolve(at=tx.now, by=by, cause=cause, resolution=resolution)
    _save(tx, resolved, change, new=False)
    work_items.close_incident_item(tx, incident_id, at=tx.now)
    _emit(
        tx,
        "incident.resolved",
        incident_id,
        {
            "cause": resolved.cause,
            "resolution": resolved.resolution,
            "resolved_by": by,
            "resolved_at": tx.now,
        },
    )
    return queries.get_incident(tx, incident_id)


# linking


def _link(tx: Transaction, incident_id: str, case_ids: list[str], *, announce: bool = True) -> int:
    """Links the cases not linked yet, each told as `case.linked` when routing linked it (not
    when intake did and told it); returns how many."""
    if not case_ids:
        return 0
    rows = tx.execute(
        "INSERT INTO incident_cases (incident_id, case_id, linked_at)"
        " SELECT %s, c, %s FROM unnest(%s::text[]) AS c"
        " ON CONFLICT (case_id) DO NOTHING RETURNING case_id",
        (incident_id, tx.now, case_ids),
    ).fetchall()
    for (case_id,) in rows if announce else ():
        tx.emit(
            new_event(
                "case.linked",
                case_id,
                {"case_id": case_id, "incident_id": incident_id, "linked_at": tx.now},
                source=SOURCE,
            )
        )
    if rows:
        # a linked case is the incident's: its own open work item (if any) closes
        work_items.close_linked_items(tx, [r[0] for r in rows], at=tx.now)
    return len(rows)


def record_link(tx: Transaction, incident_id: str, case_id: str) -> None:
    """Intake linked one of its cases (open when the incident was declared, or opened before
    intake heard of it): the incident is now its work. Intake learns incidents from routing
    only, so one routing does not know is no one's: the link is noted and skipped."""
    if queries.incident_row(tx, incident_id) is None:
        log.warning("skipped case.linked of case %s: no incident %s", case_id, incident_id)
        return
    _link(tx, incident_id, [case_id], announce=False)


@dataclass(frozen=True)
class NewCase:
    """A case just opened, as linking needs it; `incident_id` is the one intake named, if
    any, and `correlation_id` what its `case.linked` carries (default: the work's)."""

    case_id: str
    region: str
    category: str
    opened_at: datetime
    incident_id: str | None = None
    correlation_id: str | None = None


def link_new_cases(tx: Transaction, cases: list[NewCase]) -> list[str | None]:
    """Cases just opened: each linked at once to the open incident intake named (intake
    knows: nothing to announce) or else to one that covers it (announced: intake had not
    heard of it). Returns each case's incident id, or None; an outage's batch of cases costs
    one statement per incident, not one per case."""
    named: dict[str, bool] = {}  # incident id -> open
    for case in cases:
        if case.incident_id is not None and case.incident_id not in named:
            row = queries.incident_row(tx, case.incident_id)
            named[case.incident_id] = row is not None and row["state"] == rules.IncidentState.OPEN
    incidents: list[Incident] | None = None
    silent: dict[str, list[str]] = {}
    found: list[str | None] = []
    for case in cases:
        if case.incident_id is not None and named[case.incident_id]:
            silent.setdefault(case.incident_id, []).append(case.case_id)
            found.append(case.incident_id)
            continue
        if incidents is None:
            incidents = [queries.incident_of(row) for row in queries.open_incidents(tx)]
        covering = next(
            (i for i in incidents if i.covers(case.region, case.category, case.opened_at)), None
        )
        if covering is not None:
            with correlated(case.correlation_id):
                _link(tx, covering.id, [case.case_id])
        found.append(covering.id if covering else None)
    for incident_id, case_ids in silent.items():
        _link(tx, incident_id, case_ids, announce=False)
    return found


# detection


def detect_burst(
    tx: Transaction, *, region: str, category: str, now: datetime, policy: DetectionPolicy
) -> Incident | None:
    """Whether the window ending `now` is a burst of this region's and category's cases; if so
    (and no suspicion or incident stands for it), records a suspicion and announces it.

    Cheapest first: a standing suspicion or incident ends it before anything is counted (an
    outage's thousands of cases cost one small query each), then the window's count, then
    the history."""
    start, _ = policy.window_ending(now)

    def allowed() -> bool:
        known = [queries.incident_of(r) for r in queries.incidents_concerning(tx, region, category)]
        return rules.should_suspect(known, region=region, category=category, window_start=start)

    if not allowed():
        return None
    if queries.count_opened_between(tx, region, category, start, now) < policy.min_cases:
        return None  # below the floor no history can make it a burst
    history = [
        queries.count_opened_between(tx, region, category, s, e)
        for s, e in policy.history_windows(now)
    ]
    case_ids = queries.cases_opened_between(tx, region, category, start, now)
    evidence = assess_burst(
        policy, region=region, category=category, now=now, case_ids=case_ids, history=history
    )
    if evidence is None:
        return None
    # one consumer at a time per region and category decides: the second sees the first's
    tx.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_burst_key(region, category),))
    return _suspect(tx, evidence) if allowed() else None


def _suspect(tx: Transaction, evidence: BurstEvidence) -> Incident:
    incident, change = rules.suspect(str(uuid.uuid4()), evidence, at=tx.now)
    _save(tx, incident, change, new=True)
    _emit(
        tx,
        "incident.suspected",
        incident.id,
        {
            "region": evidence.region,
            "category": evidence.category,
            "window_start": evidence.window_start,
            "window_end": evidence.window_end,
            "count": evidence.count,
            "baseline_median": evidence.baseline_median,
            "threshold": evidence.threshold,
            "suspected_at": tx.now,
        },
    )
    return incident
