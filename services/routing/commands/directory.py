"""Departments and staff: the directory routing assigns work from.

Staff created or changed through the API are announced as `staff.upserted` (training and
followup keep their own copy). HR publishes the same event; routing takes it in (keeping the
skills and regions only routing knows) without announcing it again.

Department rows double as the lock that serialises assignment within a department
(`lock_department`); whoever changes who has which item takes it first, then item rows, then
clocks, so concurrent changes wait for each other instead of deadlocking. A change to a member
of staff locks their staff row before any department (`lock_staff`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.routing import queries
from services.routing.commands import SOURCE
from shared.config import Settings
from shared.db import Database, Transaction
from shared.errors import Conflict, Invalid, NotFound
from shared.events import new_event

CODE_PATTERN = r"^[A-Za-z0-9_-]{2,32}$"
STAFF_ROLES = ("agent", "department_staff", "department_head", "supervisor")
# roles that belong to a department
DEPARTMENT_ROLES = frozenset({"department_staff", "department_head"})


_DEPARTMENT = queries.DEPARTMENT_COLUMNS
_STAFF = queries.STAFF_COLUMNS
_DEPARTMENT_FIELDS = ("name", "head_id", "ola_hours", "is_default", "active")
_STAFF_FIELDS = ("display_name", "role", "department", "active", "skills", "regions")


# departments


def lock_department(tx: Transaction, code: str) -> dict[str, Any]:
    """The department row, locked until commit: assignment in it is serialised by this."""
    row = tx.one(f"SELECT {_DEPARTMENT} FROM departments WHERE code = %s FOR UPDATE", (code,))
    if row is None:
        raise NotFound(f"no department {code}")
    return row


def _lock_departments(tx: Transaction, codes: Iterable[str | None]) -> None:
    for code in sorted({c for c in codes if c}):
        lock_department(tx, code)


def _clear_default(tx: Transaction, keep: str | None = None) -> None:
    tx.execute(
        "UPDATE departments SET is_default = false, updated_at = %s"
        " WHERE is_default AND code IS DISTINCT FROM %s",
        (tx.now, keep),
    )


def create_department(tx: Transaction, data: dict[str, Any]) -> dict[str, Any]:
    if data.get("is_default"):
        _clear_default(tx)
    row = tx.one(
        f"INSERT INTO departments (code, name, head_id, ola_hours, is_default, active,"
        f" created_at, updated_at) VALUES (%(code)s, %(name)s, %(head_id)s, %(ola_hours)s,"
        f" %(is_default)s, %(active)s, %(now)s, %(now)s)"
        f" ON CONFLICT (code) DO NOTHING RETURNING {_DEPARTMENT}",
        {
            "code": data["code"],
            "name": data["name"],
            "head_id": data.get("head_id"),
            "ola_hours": data.get("ola_hours"),
            "is_default": bool(data.get("is_default")),
            "active": data.get("active", True),
            "now": tx.now,
        },
    )
    if row is None:
        raise Conflict(f"department {data['code']} exists already")
    return row


def update_department(tx: Transaction, code: str, changes: dict[str, Any]) -> dict[str, Any]:
    lock_department(tx, code)
    changes = {k: v for k, v in changes.items() if k in _DEPARTMENT_FIELDS}
    if changes.get("is_default"):
        _clear_default(tx, keep=code)
    if not changes:
        return queries.get_department(tx, code)
    assignments = ", ".join(f"{k} = %({k})s" for k in changes)
    return tx.one(
        f"UPDATE departments SET {assignments}, updated_at = %(now)s WHERE code = %(code)s"
        f" RETURNING {_DEPARTMENT}",
        dict(changes, code=code, now=tx.now),
    )  # type: ignore[return-value]


# staff


def lock_staff(tx: Transaction, staff_id: str) -> dict[str, Any]:
    """The staff row, locked until commit (taken before any department lock)."""
    row = tx.one(f"SELECT {_STAFF} FROM staff WHERE staff_id = %s FOR UPDATE", (staff_id,))
    if row is None:
        raise NotFound(f"no staff member {staff_id}")
    return row


def _check_placement(tx: Transaction, role: str, department: str | None) -> None:
    if role not in STAFF_ROLES:
        raise Invalid("role", f"must be one of {', '.join(STAFF_ROLES)}")
    if department is None:
        if role in DEPARTMENT_ROLES:
            raise Invalid("department", f"a {role} belongs to a department")
        return
    if tx.one("SELECT 1 AS x FROM departments WHERE code = %s", (department,)) is None:
        raise Invalid("department", f"no department {department}")


def _announce(tx: Transaction, staff: dict[str, Any]) -> None:
    tx.emit(
        new_event(
            "staff.upserted",
            staff["staff_id"],
            {k: staff[k] for k in ("staff_id", "display_name", "role", "department", "active")},
            source=SOURCE,
        )
    )


def create_staff(tx: Transaction, data: dict[str, Any], by: str) -> dict[str, Any]:
    """A new member of staff, announced as `staff.upserted`; an existing id is a Conflict."""
    _check_placement(tx, data["role"], data.get("department"))
    row = tx.one(
        f"INSERT INTO staff (staff_id, display_name, role, department, active, skills, regions,"
        f" updated_by, created_at, updated_at) VALUES (%(staff_id)s, %(display_name)s, %(role)s,"
        f" %(department)s, %(active)s, %(skills)s, %(regions)s, %(by)s, %(now)s, %(now)s)"
        f" ON CONFLICT (staff_id) DO NOTHING RETURNING {_STAFF}",
        {
            "staff_id": data["staff_id"],
            "display_name": data["display_name"],
            "role": data["role"],
            "department": data.get("department"),
            "active": data.get("active", True),
            "skills": list(data.get("skills") or []),
            "regions": list(data.get("regions") or []),
            "by": by,
            "now": tx.now,
        },
    )
    if row is None:
        raise Conflict(f"staff member {data['staff_id']} exists already; PATCH to change")
    _announce(tx, row)
    return row


def update_staff(
    tx: Transaction, staff_id: str, changes: dict[str, Any], by: str
) -> dict[str, Any]:
    """Changes a member of staff and announces it.

    Their open items are not moved here: `work_items.release_items_of` does that in the same
    transaction, once the change is written.
    """
    current = lock_staff(tx, staff_id)
    changes = {k: v for k, v in changes.items() if k in _STAFF_FIELDS}
    merged = dict(current, **changes)
    _check_placement(tx, merged["role"], merged["department"])
    _lock_departments(tx, (current["department"], merged["department"]))
    row = _write_staff(tx, staff_id, changes, by)
    _announce(tx, row)
    return row


def _write_staff(
    tx: Transaction, staff_id: str, changes: dict[str, Any], by: str
) -> dict[str, Any]:
    params = dict(changes, staff_id=staff_id, by=by, now=tx.now)
    for key in ("skills", "regions"):
        if key in params:
            params[key] = list(params[key] or [])
    assignments = "".join(f"{k} = %({k})s, " for k in changes)
    return tx.one(
        f"UPDATE staff SET {assignments}updated_by = %(by)s, updated_at = %(now)s"
        f" WHERE staff_id = %(staff_id)s RETURNING {_STAFF}",
        params,
    )  # type: ignore[return-value]


def announce_pending(db: Database, _settings: Settings | None = None) -> int:
    """Announces once more the members listed in `staff_to_announce` (a service that starts
    keeping a copy of the directory needs the members it never heard of), then forgets them.
    Runs after every migration; returns how many were announced."""
    with db.transaction() as tx:
        rows = tx.all(
            f"SELECT {_STAFF} FROM staff WHERE staff_id IN"
            " (SELECT staff_id FROM staff_to_announce) ORDER BY staff_id FOR UPDATE"
        )
        for row in rows:
            _announce(tx, row)
        tx.execute("DELETE FROM staff_to_announce")
    return len(rows)


def upsert_from_hr(tx: Transaction, data: dict[str, Any], source: str) -> dict[str, Any]:
    """HR's `staff.upserted`: name, role, department and active flag; skills and regions stay.

    Checked like HTTP input: an unknown role or department raises Invalid, and the consumer
    dead-letters the event with that reason (replay it once the department exists).
    """
    _check_placement(tx, data["role"], data.get("department"))
    current = tx.one(
        f"SELECT {_STAFF} FROM staff WHERE staff_id = %s FOR UPDATE", (data["staff_id"],)
    )  # the staff row before the departments, as update_staff takes them
    _lock_departments(tx, (current["department"] if current else None, data.get("department")))
    row = tx.one(
        f"INSERT INTO staff (staff_id, display_name, role, department, active, updated_by,"
        f" created_at, updated_at) VALUES (%(staff_id)s, %(display_name)s, %(role)s,"
        f" %(department)s, %(active)s, %(by)s, %(now)s, %(now)s)"
        f" ON CONFLICT (staff_id) DO UPDATE SET display_name = EXCLUDED.display_name,"
        f" role = EXCLUDED.role, department = EXCLUDED.department, active = EXCLUDED.active,"
        f" updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at"
        f" RETURNING {_STAFF}",
        {
            "staff_id": data["staff_id"],
            "display_name": data["display_name"],
            "role": data["role"],
            "department": data.get("department"),
            "active": data["active"],
            "by": source,
            "now": tx.now,
        },
    )
    return row  # type: ignore[return-value]
