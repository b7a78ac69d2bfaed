"""Training's reads: the SQL behind its GET endpoints, and the scorecard figures computed
from the facts (arithmetic in `domain/scorecard.py`; facts written in `commands/scorecards.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from services.training.domain import scorecard
from services.training.domain.certificates import standing
from services.training.domain.scorecard import Figure, Tally
from shared.auth import Caller
from shared.db import Transaction
from shared.errors import NotFound
from shared.paging import fetch_page
from shared.periods import Period
from shared.scoping import Actor


def _equal(filters: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """WHERE terms `expression = value` for the filters given (None: not filtered); the
    expressions come from this module, never from a request."""
    given = {k: v for k, v in filters.items() if v is not None}
    return [f"{k} = %s" for k in given], list(given.values())


def actor(tx: Transaction, caller: Caller) -> Actor:
    """The caller with the department the staff projection gives an active member."""
    row = tx.one("SELECT department FROM staff WHERE staff_id = %s AND active", (caller.subject,))
    return Actor.of(caller, row["department"] if row else None)


def department_of(tx: Transaction, staff_id: str) -> str | None:
    row = tx.one("SELECT department FROM staff WHERE staff_id = %s", (staff_id,))
    return row["department"] if row else None


def list_courses(tx: Transaction, role: str | None, page: int, per_page: int) -> dict[str, Any]:
    where, params = ([], []) if role is None else (["%s = ANY (mandatory_for)"], [role])
    return fetch_page(
        tx,
        select="*",
        table="courses",
        where=where,
        params=params,
        order="code",
        page=page,
        per_page=per_page,
    )


def get_course(tx: Transaction, code: str) -> dict[str, Any] | None:
    return tx.one("SELECT * FROM courses WHERE code = %s", (code,))


_SESSION = (
    "SELECT s.*, (SELECT count(*) FROM enrolments e WHERE e.session_id = s.id) AS enrolled"
    " FROM training_sessions s"
)


def list_sessions(
    tx: Transaction, course_code: str | None, page: int, per_page: int
) -> dict[str, Any]:
    where, params = ([], []) if course_code is None else (["s.course_code = %s"], [course_code])
    return fetch_page(
        tx,
        select="s.*, (SELECT count(*) FROM enrolments e WHERE e.session_id = s.id) AS enrolled",
        table="training_sessions s",
        where=where,
        params=params,
        order="s.date, s.id",
        page=page,
        per_page=per_page,
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
    tx: Transaction, staff_id: str | None, course_code: str | None, page: int, per_page: int
) -> dict[str, Any]:
    where, params = _equal({"staff_id": staff_id, "course_code": course_code})
    return fetch_page(
        tx,
        select="*",
        table="assessments",
        where=where,
        params=params,
        order="assessed_at DESC, id DESC",
        page=page,
        per_page=per_page,
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


def list_flags(
    tx: Transaction, department: str | None, since: date | None, page: int, per_page: int
) -> dict[str, Any]:
    where, params = _equal({"department": department})
    if since is not None:
        where.append("check_day >= %s")
        params.append(since)
    return fetch_page(
        tx,
        select="*",
        table="compliance_flags",
        where=where,
        params=params,
        order="id DESC",
        page=page,
        per_page=per_page,
    )


def list_rules(tx: Transaction, active: bool | None, page: int, per_page: int) -> dict[str, Any]:
    where, params = _equal({"active": active})
    return fetch_page(
        tx,
        select="*",
        table="incentive_rules",
        where=where,
        params=params,
        order="code",
        page=page,
        per_page=per_page,
    )


def get_rule(tx: Transaction, code: str) -> dict[str, Any] | None:
    return tx.one("SELECT * FROM incentive_rules WHERE code = %s", (code,))


_STATUS = """CASE WHEN d.nomination_id IS NULL THEN 'pending'
            WHEN d.approved THEN 'approved' ELSE 'rejected' END"""
_NOMINATION_COLUMNS = f"""n.id, n.run_id, n.rule_code, r.name AS rule_name, n.staff_id,
       s.display_name, s.department, n.period, n.evidence, n.nominated_at,
       {_STATUS} AS status, d.reason, d.decided_by, d.decided_at, a.id AS award_id"""
_NOMINATIONS = """nominations n
JOIN incentive_rules r ON r.code = n.rule_code
LEFT JOIN staff s ON s.staff_id = n.staff_id
LEFT JOIN nomination_decisions d ON d.nomination_id = n.id
LEFT JOIN awards a ON a.nomination_id = n.id"""
_NOMINATION = f"SELECT {_NOMINATION_COLUMNS} FROM {_NOMINATIONS}"


def nominations_by_id(tx: Transaction, ids: Sequence[int]) -> list[dict[str, Any]]:
    return tx.all(f"{_NOMINATION} WHERE n.id = ANY(%s) ORDER BY n.id", (list(ids),))


def get_nomination(tx: Transaction, nomination_id: int) -> dict[str, Any] | None:
    return tx.one(f"{_NOMINATION} WHERE n.id = %s", (nomination_id,))


def list_nominations(
    tx: Transaction, filters: dict[str, Any], page: int, per_page: int
) -> dict[str, Any]:
    where, params = _equal(
        {
            "n.period": filters.get("period"),
            "n.staff_id": filters.get("staff_id"),
            "n.rule_code": filters.get("rule_code"),
            "s.department": filters.get("department"),
            _STATUS: filters.get("status"),
        }
    )
    return fetch_page(
        tx,
        select=_NOMINATION_COLUMNS,
        table=_NOMINATIONS,
        where=where,
        params=params,
        order="n.id",
        page=page,
        per_page=per_page,
    )


def list_awards(
    tx: Transaction, period: str | None, staff_id: str | None, page: int, per_page: int
) -> dict[str, Any]:
    where, params = _equal({"a.period": period, "a.staff_id": staff_id})
    return fetch_page(
        tx,
        select="a.id, a.nomination_id, a.staff_id, s.display_name, s.department, a.period,"
        " a.award_code, r.name AS award_name, a.granted_by, a.granted_at, a.event_id",
        table="awards a JOIN incentive_rules r ON r.code = a.award_code"
        " LEFT JOIN staff s ON s.staff_id = a.staff_id",
        where=where,
        params=params,
        order="a.granted_at, a.id",
        page=page,
        per_page=per_page,
    )


def ledger(tx: Transaction, period: str | None, page: int, per_page: int) -> dict[str, Any]:
    """Nominations, decisions and awards in the order they happened."""
    where, params = _equal({"l.period": period})
    return fetch_page(
        tx,
        select="*",
        table="(SELECT n.nominated_at AS at, 'nominated' AS entry, n.id AS nomination_id,"
        "  n.staff_id, n.period, n.rule_code, r.run_by AS by, NULL AS reason"
        "  FROM nominations n JOIN incentive_runs r ON r.id = n.run_id"
        " UNION ALL"
        " SELECT d.decided_at, CASE WHEN d.approved THEN 'approved' ELSE 'rejected' END,"
        "  n.id, n.staff_id, n.period, n.rule_code, d.decided_by, d.reason"
        "  FROM nomination_decisions d JOIN nominations n ON n.id = d.nomination_id"
        " UNION ALL"
        " SELECT a.granted_at, 'awarded', a.nomination_id, a.staff_id, a.period, a.award_code,"
        "  a.granted_by, NULL FROM awards a) l",
        where=where,
        params=params,
        order="at, nomination_id, entry",
        page=page,
        per_page=per_page,
    )


# --- scorecards ----------------------------------------------------------------------------


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
