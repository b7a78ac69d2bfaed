"""Network incidents as followup knows them (projections of routing's incident.declared and
incident.resolved), and the sampling of their cases' follow-up calls.

The incident's row is the lock: a case's resolution is decided while it is held, so consumers
running side by side never both take the floor's last place, and a redelivered resolution finds
its decision (a task, or a `followups_not_sampled` row) already recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.followup.domain.incident_sample import SamplePolicy, sampled
from shared.db import Transaction


def record_declared(tx: Transaction, d: dict[str, Any]) -> None:
    """What the report lists of an incident: where, what, since when (no message: it is the
    customers', told by intake)."""
    tx.execute(
        "INSERT INTO incidents (incident_id, regions, categories, started_at, declared_at)"
        " VALUES (%(incident_id)s, %(regions)s, %(categories)s, %(started_at)s,"
        " %(declared_at)s) ON CONFLICT (incident_id) DO UPDATE SET regions = excluded.regions,"
        " categories = excluded.categories, started_at = excluded.started_at,"
        " declared_at = excluded.declared_at",
        d,
    )


def record_resolved(tx: Transaction, d: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO incidents (incident_id, resolved_at, cause)"
        " VALUES (%(incident_id)s, %(resolved_at)s, %(cause)s) ON CONFLICT (incident_id)"
        " DO UPDATE SET resolved_at = excluded.resolved_at, cause = excluded.cause",
        d,
    )


def policy(tx: Transaction) -> SamplePolicy:
    s = tx.settings
    return SamplePolicy(share=s.incident_followup_share, at_least=s.incident_followup_at_least)


def lock(tx: Transaction, incident_id: str) -> int:
    """Locks the incident's row (created if its events have not arrived yet) until commit;
    returns how many of its cases got a follow-up call so far."""
    tx.execute(
        "INSERT INTO incidents (incident_id) VALUES (%s) ON CONFLICT DO NOTHING", (incident_id,)
    )
    row = tx.one(
        "SELECT followups_sampled FROM incidents WHERE incident_id = %s FOR UPDATE",
        (incident_id,),
    )
    assert row is not None
    return int(row["followups_sampled"])


def decided(tx: Transaction, case_id: str, resolved_at: datetime) -> bool:
    """This resolution already has its follow-up task or its not-sampled record."""
    found = tx.execute(
        "SELECT 1 FROM followups WHERE case_id = %(c)s AND resolved_at = %(at)s"
        " UNION ALL SELECT 1 FROM followups_not_sampled WHERE case_id = %(c)s"
        " AND resolved_at = %(at)s LIMIT 1",
        {"c": case_id, "at": resolved_at},
    )
    return found.fetchone() is not None


def in_sample(tx: Transaction, incident_id: str, case_id: str, called_so_far: int) -> bool:
    return sampled(incident_id, case_id, called_so_far, policy(tx))


def count_call(tx: Transaction, incident_id: str) -> None:
    tx.execute(
        "UPDATE incidents SET followups_sampled = followups_sampled + 1 WHERE incident_id = %s",
        (incident_id,),
    )


def not_sampled(tx: Transaction, incident_id: str, case_id: str, resolved_at: datetime) -> None:
    """Recorded so that nobody thinks a call is missing: this resolution is deliberately not
    called back (the incident's sample is called instead)."""
    tx.execute(
        "INSERT INTO followups_not_sampled (case_id, resolved_at, incident_id, decided_at)"
        " VALUES (%s, %s, %s, %s)",
        (case_id, resolved_at, incident_id, tx.now),
    )
    tx.execute(
        "UPDATE incidents SET followups_not_sampled = followups_not_sampled + 1"
        " WHERE incident_id = %s",
        (incident_id,),
    )
