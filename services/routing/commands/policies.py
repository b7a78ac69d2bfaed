"""SLA policy versions (policy ch.8: the policy is revised): each revision is a new version
with its effective date, who made it and why; older versions stay for the clocks they started."""

from __future__ import annotations

from typing import Any

from services.routing import queries
from shared.db import Transaction


def revise(tx: Transaction, revision: dict[str, Any], by: str) -> dict[str, Any]:
    # the lock keeps two revisions of one policy from taking the same version number
    tx.execute("LOCK TABLE sla_policies IN SHARE ROW EXCLUSIVE MODE")
    policy = tx.one(
        "INSERT INTO sla_policies (kind, priority, working_days, warning_ratio, version,"
        " effective_from, changed_by, reason, changed_at)"
        " SELECT %(kind)s, %(priority)s, %(working_days)s, %(warning_ratio)s,"
        " coalesce(max(version), 0) + 1, %(effective_from)s, %(by)s, %(reason)s, %(now)s"
        " FROM sla_policies WHERE kind = %(kind)s AND priority = %(priority)s"
        " RETURNING kind, priority, working_days, warning_ratio, version, effective_from,"
        " changed_by, reason, changed_at",
        dict(revision, by=by, now=tx.now),
    )
    queries.reference_changed(tx)
    return policy
