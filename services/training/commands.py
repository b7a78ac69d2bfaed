"""Training's use cases; the HTTP views, handlers and the scheduler write only through these.

Each takes the caller's transaction. Events (`training.completed`, `award.granted`) go to the
outbox in the same transaction as the rows that record them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from services.training import scorecards
from services.training.domain import certificates
from services.training.domain.periods import SHANGHAI, Period
from services.training.domain.rules import Condition, evaluate
from services.training.domain.scorecard import CERTIFICATE
from shared.db import Transaction
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import new_event

SOURCE = "/training"
CLOCK_SKEW = timedelta(minutes=5)


def _staff(tx: Transaction, staff_id: str, field: str = "staff_id") -> dict[str, Any]:
    row = tx.one(
        "SELECT staff_id, role, department, active FROM staff WHERE staff_id = %s", (staff_id,)
    )
    if row is None:
        raise Invalid(field, f"no staff member {staff_id} (staff come from routing or HR)")
    return row


def _course(tx: Transaction, code: str, field: str = "course_code") -> dict[str, Any]:
    row = tx.one(
        "SELECT code, title, validity_months, pass_mark FROM courses WHERE code = %s", (code,)
    )
    if row is None:
        raise Invalid(field, f"no course {code}")
    return row


# courses and sessions


def create_course(tx: Transaction, data: dict[str, Any], by: str) -> dict[str, Any]:
    row = tx.one(
        "INSERT INTO courses (code, title, mandatory_for, validity_months, pass_mark, created_by,"
        " created_at) VALUES (%(code)s, %(title)s, %(mandatory_for)s, %(validity_months)s,"
        " %(pass_mark)s, %(by)s, %(now)s) ON CONFLICT (code) DO NOTHING RETURNING *",
        dict(data, mandatory_for=sorted(set(data["mandatory_for"])), by=by, now=tx.now),
    )
    if row is None:
        raise Conflict(f"course {data['code']} exists already")
    return row


def create_session(tx: Transaction, data: dict[str, Any], by: str) -> dict[str, Any]:
    _course(tx, data["course_code"])
    return tx.one(
        "INSERT INTO training_sessions (course_code, date, trainer, capacity, location, created_by,"
        " created_at) VALUES (%(course_code)s, %(date)s, %(trainer)s, %(capacity)s, %(location)s,"
        " %(by)s, %(now)s) RETURNING *",
        dict(data, by=by, now=tx.now),
    )  # type: ignore[return-value]


def _lock_session(tx: Transaction, session_id: int) -> dict[str, Any]:
    row = tx.one("SELECT * FROM training_sessions WHERE id = %s FOR UPDATE", (session_id,))
    if row is None:
        raise NotFound(f"no session {session_id}")
    return row


def _enrol(tx: Transaction, session: dict[str, Any], staff_id: str, by: str) -> None:
    taken = tx.execute(
        "SELECT count(*) FROM enrolments WHERE session_id = %s", (session["id"],)
    ).fetchone()[0]
    if taken >= session["capacity"]:
        raise Conflict(f"session {session['id']} is full ({session['capacity']} places)")
    tx.execute(
        "INSERT INTO enrolments (session_id, staff_id, enrolled_by, enrolled_at)"
        " VALUES (%s, %s, %s, %s)",
        (session["id"], staff_id, by, tx.now),
    )


def _enrolment(tx: Transaction, session_id: int, staff_id: str) -> dict[str, Any] | None:
    return tx.one(
        "SELECT session_id, staff_id, enrolled_by, enrolled_at, attended, attendance_by,"
        " attendance_at FROM enrolments WHERE session_id = %s AND staff_id = %s",
        (session_id, staff_id),
    )


def enrol(tx: Transaction, session_id: int, staff_id: str, by: str) -> dict[str, Any]:
    """A place on a session, within its capacity (the session row serialises enrolments)."""
    session = _lock_session(tx, session_id)
    _staff(tx, staff_id)
    if _enrolment(tx, session_id, staff_id) is not None:
        raise Conflict(f"{staff_id} is enrolled on session {session_id} already")
    _enrol(tx, session, staff_id, by)
    return _enrolment(tx, session_id, staff_id)  # type: ignore[return-value]


def record_attendance(
    tx: Transaction, session_id: int, staff_id: str, attended: bool, by: str
) -> dict[str, Any]:
    """Attended or not; someone not enrolled is enrolled first if a place is free."""
    session = _lock_session(tx, session_id)
    _staff(tx, staff_id)
    if _enrolment(tx, session_id, staff_id) is None:
        _enrol(tx, session, staff_id, by)
    tx.execute(
        "UPDATE enrolments SET attended = %s, attendance_by = %s, attendance_at = %s"
        " WHERE session_id = %s AND staff_id = %s",
        (attended, by, tx.now, session_id, staff_id),
    )
    return _enrolment(tx, session_id, staff_id)  # type: ignore[return-value]


# assessments


def record_assessment(
    tx: Transaction, data: dict[str, Any], by: str, now: datetime
) -> dict[str, Any]:
    """Passed when score ≥ the course's pass mark; a pass is a certificate valid for the
    course's validity from the assessment's date. Announced as `training.completed`."""
    staff_id, score = data["staff_id"], float(data["score"])
    course = _course(tx, data["course_code"])
    _staff(tx, staff_id)
    session_id = data.get("session_id")
    if session_id is not None:
        session = tx.one("SELECT course_code FROM training_sessions WHERE id = %s", (session_id,))
        if session is None or session["course_code"] != course["code"]:
            raise Invalid("session_id", f"no session {session_id} of course {course['code']}")
    assessed_at = data.get("assessed_at") or now
    if assessed_at > now + CLOCK_SKEW:
        raise Invalid("assessed_at", "an assessment cannot be in the future")
    passed = certificates.passed(score, float(course["pass_mark"]))
    expires = certificates.expires_on(assessed_at, course["validity_months"]) if passed else None
    event = new_event(
        "training.completed",
        staff_id,
        {
            "staff_id": staff_id,
            "course_code": course["code"],
            "score": score,
            "passed": passed,
            "completed_at": assessed_at,
        },
        source=SOURCE,
    )
    row = tx.one(
        "INSERT INTO assessments (staff_id, course_code, session_id, score, pass_mark, passed,"
        " assessed_at, expires_on, event_id, recorded_by, recorded_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
        (
            staff_id,
            course["code"],
            session_id,
            score,
            course["pass_mark"],
            passed,
            assessed_at,
            expires,
            event.id,
            by,
            tx.now,
        ),
    )
    if expires is not None:
        scorecards.record_fact(
            tx,
            event_id=event.id,
            event_type=event.type,
            fact=CERTIFICATE,
            staff_id=staff_id,
            value=score,
            occurred_at=assessed_at,
            subject=course["code"],
            valid_until=datetime.combine(expires, datetime.min.time(), SHANGHAI),
        )
    tx.emit(event)
    return row  # type: ignore[return-value]


# incentive rules, runs, decisions


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
    figures = scorecards.figures(tx, period, now, staff_ids)
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
