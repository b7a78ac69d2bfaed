"""Courses, their sessions and enrolments, and assessments (a pass is a certificate,
announced as `training.completed` in the same transaction)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.training.commands import SOURCE, scorecards
from services.training.domain import certificates
from services.training.domain.scorecard import CERTIFICATE
from shared.clock import SHANGHAI
from shared.db import Transaction
from shared.errors import Conflict, Invalid, NotFound
from shared.events import new_event

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
