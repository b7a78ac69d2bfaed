"""Read-only SQL behind training's GET endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from services.training.domain.certificates import standing
from shared.auth import Caller
from shared.db import Transaction
from shared.scoping import Actor


def actor(tx: Transaction, caller: Caller) -> Actor:
    """The caller with the department the staff projection gives an active member."""
    row = tx.one("SELECT department FROM staff WHERE staff_id = %s AND active", (caller.subject,))
    return Actor.of(caller, row["department"] if row else None)


def department_of(tx: Transaction, staff_id: str) -> str | None:
    row = tx.one("SELECT department FROM staff WHERE staff_id = %s", (staff_id,))
    return row["department"] if row else None


def list_courses(tx: Transaction, role: str | None = None) -> list[dict[str, Any]]:
    return tx.all(
        "SELECT * FROM courses WHERE %(role)s::text IS NULL OR %(role)s = ANY (mandatory_for)"
        " ORDER BY code",
        {"role": role},
    )


def get_course(tx: Transaction, code: str) -> dict[str, Any] | None:
    return tx.one("SELECT * FROM courses WHERE code = %s", (code,))


_SESSION = (
    "SELECT s.*, (SELECT count(*) FROM enrolments e WHERE e.session_id = s.id) AS enrolled"
    " FROM training_sessions s"
)


def list_sessions(tx: Transaction, course_code: str | None) -> list[dict[str, Any]]:
    return tx.all(
        f"{_SESSION} WHERE %(course)s::text IS NULL OR s.course_code = %(course)s"
        " ORDER BY s.date, s.id",
        {"course": course_code},
    )


def get_session(tx: Transaction, session_id: int) -> dict[str, Any] | None:
    session = tx.one(f"{_SESSION} WHERE s.id = %s", (session_id,))
    if session is not None:
        session["enrolments"] = tx.all(
            "SELECT staff_id, enrolled_by, enrolled_at, attended, attendance_by, attendance_at"
            " FROM enrolments WHERE session_id = %s ORDER BY staff_id",
            (session_id,),
        )
    return session


def list_assessments(
    tx: Transaction, staff_id: str | None, course_code: str | None
) -> list[dict[str, Any]]:
    return tx.all(
        "SELECT * FROM assessments WHERE (%(staff)s::text IS NULL OR staff_id = %(staff)s)"
        " AND (%(course)s::text IS NULL OR course_code = %(course)s)"
        " ORDER BY assessed_at DESC, id DESC LIMIT 1000",
        {"staff": staff_id, "course": course_code},
    )


def get_assessment(tx: Transaction, assessment_id: int) -> dict[str, Any] | None:
    return tx.one("SELECT * FROM assessments WHERE id = %s", (assessment_id,))


def mandatory_standings(
    tx: Transaction, department: str | None, today: date, expiring_within_days: int
) -> list[dict[str, Any]]:
    """Every active staff member (of the department) × every course mandatory for their role,
    with the latest certificate's expiry and where that leaves them today."""
    rows = tx.all(
        "SELECT s.staff_id, s.display_name, s.role, s.department, c.code AS course_code,"
        " c.title AS course_title, max(a.expires_on) AS expires_on,"
        " max(a.assessed_at) AS last_passed_at"
        " FROM staff s JOIN courses c ON s.role = ANY (c.mandatory_for)"
        " LEFT JOIN assessments a"
        "   ON a.staff_id = s.staff_id AND a.course_code = c.code AND a.passed"
        " WHERE s.active AND (%(dept)s::text IS NULL OR s.department = %(dept)s)"
        " GROUP BY s.staff_id, c.code"
        " ORDER BY s.department NULLS LAST, s.staff_id, c.code",
        {"dept": department},
    )
    for row in rows:
        st = standing(row["expires_on"], today, expiring_within_days)
        row.update(status=st.status, reason=st.reason, days_left=st.days_left)
    return rows


def list_flags(tx: Transaction, department: str | None, since: date | None) -> list[dict[str, Any]]:
    return tx.all(
        "SELECT * FROM compliance_flags"
        " WHERE (%(dept)s::text IS NULL OR department = %(dept)s)"
        " AND (%(since)s::date IS NULL OR check_day >= %(since)s)"
        " ORDER BY id DESC LIMIT 1000",
        {"dept": department, "since": since},
    )


def list_rules(tx: Transaction, active: bool | None) -> list[dict[str, Any]]:
    return tx.all(
        "SELECT * FROM incentive_rules WHERE %(active)s::boolean IS NULL OR active = %(active)s"
        " ORDER BY code",
        {"active": active},
    )


def get_rule(tx: Transaction, code: str) -> dict[str, Any] | None:
    return tx.one("SELECT * FROM incentive_rules WHERE code = %s", (code,))


_NOMINATION = """
SELECT n.id, n.run_id, n.rule_code, r.name AS rule_name, n.staff_id, s.display_name,
       s.department, n.period, n.evidence, n.nominated_at,
       CASE WHEN d.nomination_id IS NULL THEN 'pending'
            WHEN d.approved THEN 'approved' ELSE 'rejected' END AS status,
       d.reason, d.decided_by, d.decided_at, a.id AS award_id
FROM nominations n
JOIN incentive_rules r ON r.code = n.rule_code
LEFT JOIN staff s ON s.staff_id = n.staff_id
LEFT JOIN nomination_decisions d ON d.nomination_id = n.id
LEFT JOIN awards a ON a.nomination_id = n.id
"""


def nominations_by_id(tx: Transaction, ids: Sequence[int]) -> list[dict[str, Any]]:
    return tx.all(f"{_NOMINATION} WHERE n.id = ANY(%s) ORDER BY n.id", (list(ids),))


def get_nomination(tx: Transaction, nomination_id: int) -> dict[str, Any] | None:
    return tx.one(f"{_NOMINATION} WHERE n.id = %s", (nomination_id,))


def list_nominations(tx: Transaction, filters: dict[str, Any]) -> list[dict[str, Any]]:
    return tx.all(
        f"{_NOMINATION} WHERE (%(period)s::text IS NULL OR n.period = %(period)s)"
        " AND (%(staff_id)s::text IS NULL OR n.staff_id = %(staff_id)s)"
        " AND (%(rule_code)s::text IS NULL OR n.rule_code = %(rule_code)s)"
        " AND (%(department)s::text IS NULL OR s.department = %(department)s)"
        " AND (%(status)s::text IS NULL OR CASE WHEN d.nomination_id IS NULL THEN 'pending'"
        "      WHEN d.approved THEN 'approved' ELSE 'rejected' END = %(status)s)"
        " ORDER BY n.id LIMIT 1000",
        {k: filters.get(k) for k in ("period", "staff_id", "rule_code", "status", "department")},
    )


def list_awards(tx: Transaction, period: str | None, staff_id: str | None) -> list[dict[str, Any]]:
    return tx.all(
        "SELECT a.id, a.nomination_id, a.staff_id, s.display_name, s.department, a.period,"
        " a.award_code, r.name AS award_name, a.granted_by, a.granted_at, a.event_id"
        " FROM awards a JOIN incentive_rules r ON r.code = a.award_code"
        " LEFT JOIN staff s ON s.staff_id = a.staff_id"
        " WHERE (%(period)s::text IS NULL OR a.period = %(period)s)"
        " AND (%(staff)s::text IS NULL OR a.staff_id = %(staff)s)"
        " ORDER BY a.granted_at, a.id LIMIT 1000",
        {"period": period, "staff": staff_id},
    )


def ledger(tx: Transaction, period: str | None) -> list[dict[str, Any]]:
    """Nominations, decisions and awards in the order they happened."""
    return tx.all(
        "SELECT * FROM ("
        " SELECT n.nominated_at AS at, 'nominated' AS entry, n.id AS nomination_id, n.staff_id,"
        "  n.period, n.rule_code, r.run_by AS by, NULL AS reason"
        "  FROM nominations n JOIN incentive_runs r ON r.id = n.run_id"
        " UNION ALL"
        " SELECT d.decided_at, CASE WHEN d.approved THEN 'approved' ELSE 'rejected' END,"
        "  n.id, n.staff_id, n.period, n.rule_code, d.decided_by, d.reason"
        "  FROM nomination_decisions d JOIN nominations n ON n.id = d.nomination_id"
        " UNION ALL"
        " SELECT a.granted_at, 'awarded', a.nomination_id, a.staff_id, a.period, a.award_code,"
        "  a.granted_by, NULL FROM awards a"
        ") l WHERE %(period)s::text IS NULL OR l.period = %(period)s"
        " ORDER BY at, nomination_id, entry LIMIT 5000",
        {"period": period},
    )
