"""Incentive rules, runs that nominate who qualifies (with the evidence), and decisions: an
approval is an award, announced as `award.granted`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.training import queries
from services.training.commands import SOURCE
from services.training.domain.rules import Condition, evaluate
from shared.db import Transaction
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import new_event
from shared.periods import Period


def create_rule(tx: Transaction, data: dict[str, Any], by: str) -> dict[str, Any]:
    row = tx.one(
        "INSERT INTO incentive_rules (code, name, description, period_kind, conditions, active,"
        " created_by, created_at, updated_at) VALUES (%(code)s, %(name)s, %(description)s,"
        " %(period_kind)s, %(conditions)s, %(active)s, %(by)s, %(now)s, %(now)s)"
        " ON CONFLICT (code) DO NOTHING RETURNING *",
        dict(data, conditions=Jsonb(data["conditions"]), by=by, now=tx.now),
    )
    if row is None:
        raise Conflict(f"incentive rule {data['code']} exists already")
    return row


def lock_rule(tx: Transaction, code: str) -> dict[str, Any]:
    """The incentive rule (as its GET shows it), locked until commit."""
    row = tx.one("SELECT * FROM incentive_rules WHERE code = %s FOR UPDATE", (code,))
    if row is None:
        raise NotFound(f"no incentive rule {code}")
    return row


def update_rule(tx: Transaction, code: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Name, description and active only: what a rule asks is fixed once it has nominated."""
    sets = ", ".join(f"{k} = %({k})s" for k in changes)
    row = tx.one(
        f"UPDATE incentive_rules SET {sets + ', ' if sets else ''}updated_at = %(now)s"
        " WHERE code = %(code)s RETURNING *",
        dict(changes, code=code, now=tx.now),
    )
    if row is None:
        raise NotFound(f"no incentive rule {code}")
    return row


def run_incentives(
    tx: Transaction, period: Period, by: str, now: datetime
) -> tuple[dict[str, Any], list[int]]:
    """Evaluates every active rule of the period's kind for every active staff member and
    nominates who qualifies, with the evidence; once per rule, staff member and period.
    Returns the run and the ids of all qualifying nominations (new and earlier ones)."""
    if period.start > now:
        raise Invalid("period", f"{period.code} has not started yet")
    rules = tx.all(
        "SELECT code, name, conditions FROM incentive_rules WHERE active AND period_kind = %s"
        " ORDER BY code",
        (period.kind,),
    )
    staff_ids = [
        r[0]
        for r in tx.execute("SELECT staff_id FROM staff WHERE active ORDER BY staff_id").fetchall()
    ]
    figures = queries.figures(tx, period, now, staff_ids)
    qualifying = []
    for rule in rules:
        conditions = [Condition.from_dict(c) for c in rule["conditions"]]
        for staff_id in staff_ids:
            ok, checks = evaluate(conditions, figures[staff_id])
            if ok:
                evidence = {
                    "rule": {"code": rule["code"], "name": rule["name"]},
                    "conditions": [c.as_evidence() for c in checks],
                    "figures": {
                        name: {"value": f.value, "events": f.events}
                        for name, f in figures[staff_id].items()
                    },
                    "as_of": period.as_of(now).isoformat(),
                }
                qualifying.append((rule["code"], staff_id, evidence))
    # runs of one period wait for each other, so each knows which nominations are its own
    tx.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"training-run:{period.code}",))
    existing = {
        (r["rule_code"], r["staff_id"]): r["id"]
        for r in tx.all(
            "SELECT id, rule_code, staff_id FROM nominations WHERE period = %s", (period.code,)
        )
    }
    new = [q for q in qualifying if (q[0], q[1]) not in existing]
    run = tx.one(
        "INSERT INTO incentive_runs (period, rules_evaluated, staff_evaluated, nominated, run_by,"
        " run_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (period.code, len(rules), len(staff_ids), len(new), by, tx.now),
    )
    assert run is not None
    for rule_code, staff_id, evidence in new:
        row = tx.one(
            "INSERT INTO nominations (run_id, rule_code, staff_id, period, evidence, nominated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (run["id"], rule_code, staff_id, period.code, Jsonb(evidence), tx.now),
        )
        assert row is not None
        existing[(rule_code, staff_id)] = row["id"]
    ids = [existing[(rule_code, staff_id)] for rule_code, staff_id, _ in qualifying]
    summary = {
        "id": run["id"],
        "period": period.code,
        "period_kind": period.kind,
        "rules_evaluated": len(rules),
        "staff_evaluated": len(staff_ids),
        "nominated": len(new),
    }
    return summary, ids


def decide(
    tx: Transaction, nomination_id: int, approve: bool, reason: str | None, by: str, now: datetime
) -> None:
    """Approve (→ an award and `award.granted`, exactly once) or reject with a reason."""
    nomination = tx.one(
        "SELECT id, rule_code, staff_id, period FROM nominations WHERE id = %s FOR UPDATE",
        (nomination_id,),
    )
    if nomination is None:
        raise NotFound(f"no nomination {nomination_id}")
    if nomination["staff_id"] == by:
        raise Forbidden("nobody decides on their own nomination")
    if not approve and not (reason or "").strip():
        raise Invalid("reason", "a rejection needs a reason")
    decided = tx.one(
        "INSERT INTO nomination_decisions (nomination_id, approved, reason, decided_by, decided_at)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (nomination_id) DO NOTHING"
        " RETURNING nomination_id",
        (nomination_id, approve, (reason or "").strip() or None, by, now),
    )
    if decided is None:
        raise Conflict(f"nomination {nomination_id} has been decided already")
    if not approve:
        return
    event = new_event(
        "award.granted",
        nomination["staff_id"],
        {
            "staff_id": nomination["staff_id"],
            "period": nomination["period"],
            "award_code": nomination["rule_code"],
            "granted_at": now,
        },
        source=SOURCE,
    )
    tx.execute(
        "INSERT INTO awards (nomination_id, staff_id, period, award_code, granted_by, granted_at,"
        " event_id) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            nomination_id,
            nomination["staff_id"],
            nomination["period"],
            nomination["rule_code"],
            by,
            now,
            event.id,
        ),
    )
    tx.emit(event)
