"""Routing rules as data: created, changed and deleted through the API, every change a version.

A rule's versions are never changed or removed. Each names who made it, when, why, the rule's
content and the date it applies from (`effective_from`, Asia/Shanghai). The rules that apply
on a date are, for each rule, its newest version effective by then, unless that one deletes
it. Routing itself uses the rules that apply on the day it routes.

So that the history is never rewritten, a version cannot take effect before today, nor before
the rule's newest version (which makes "newest by effective date" the same as "newest").
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.routing import queries
from services.routing.queries import RULE_LISTS as LISTS
from services.routing.queries import get_rule
from shared import clock
from shared.db import Transaction
from shared.errors import Invalid, NotFound

CONTENT = ("position", "department", *LISTS)
_VERSION = queries.RULE_VERSION_COLUMNS


def _effective(wanted: date | None, not_before: date | None = None) -> date:
    first = clock.today() if not_before is None else max(clock.today(), not_before)
    if wanted is None:
        return first
    if wanted < first:
        raise Invalid(
            "effective_from",
            f"must not be before {first.isoformat()}: the rules of past days are history",
        )
    return wanted


def _check_department(tx: Transaction, code: str) -> None:
    try:
        queries.get_department(tx, code)
    except NotFound:
        raise Invalid("department", f"no department {code}") from None


def _write_version(
    tx: Transaction,
    rule_id: int,
    version: int,
    action: str,
    content: dict[str, Any],
    effective_from: date,
    by: str,
    reason: str | None,
) -> dict[str, Any]:
    return tx.one(
        f"INSERT INTO routing_rule_versions (rule_id, version, action, position, department,"
        f" kinds, categories, regions, channels, priorities, effective_from, changed_by, reason,"
        f" changed_at) VALUES (%(rule_id)s, %(version)s, %(action)s, %(position)s,"
        f" %(department)s, %(kinds)s, %(categories)s, %(regions)s, %(channels)s, %(priorities)s,"
        f" %(effective_from)s, %(by)s, %(reason)s, %(now)s) RETURNING {_VERSION}",
        {
            **{k: list(content.get(k) or []) for k in LISTS},
            "position": content["position"],
            "department": content["department"],
            "rule_id": rule_id,
            "version": version,
            "action": action,
            "effective_from": effective_from,
            "by": by,
            "reason": reason,
            "now": tx.now,
        },
    )  # type: ignore[return-value]


def create_rule(tx: Transaction, data: dict[str, Any], by: str) -> dict[str, Any]:
    _check_department(tx, data["department"])
    effective = _effective(data.get("effective_from"))
    rule_id = tx.execute(
        "INSERT INTO routing_rules (created_at) VALUES (%s) RETURNING id", (tx.now,)
    ).fetchone()[0]
    return _write_version(tx, rule_id, 1, "created", data, effective, by, data.get("reason"))


def _lock(tx: Transaction, rule_id: int) -> dict[str, Any]:
    # the lock first, then its version: a join in the locking statement would re-check the
    # joined version row of the old snapshot after a concurrent change and find no rule
    head = tx.one("SELECT version, deleted FROM routing_rules WHERE id = %s FOR UPDATE", (rule_id,))
    if head is None or head["deleted"]:
        raise NotFound(f"no routing rule {rule_id}")
    version = tx.one(
        "SELECT effective_from FROM routing_rule_versions WHERE rule_id = %s AND version = %s",
        (rule_id, head["version"]),
    )
    return dict(head, effective_from=version["effective_from"])  # type: ignore[index]


def lock_rule(tx: Transaction, rule_id: int) -> dict[str, Any]:
    """The rule's newest version (as `get_rule`), the rule locked until commit."""
    _lock(tx, rule_id)
    return get_rule(tx, rule_id)


def change_rule(
    tx: Transaction, rule_id: int, changes: dict[str, Any], by: str, *, replace: bool = False
) -> dict[str, Any]:
    """A new version: PATCH changes the fields given; PUT (`replace`) clears absent conditions."""
    head = _lock(tx, rule_id)
    current = get_rule(tx, rule_id)
    content = {k: ([] if replace and k in LISTS else current[k]) for k in CONTENT}
    content.update({k: v for k, v in changes.items() if k in CONTENT})
    if "department" in changes:
        _check_department(tx, content["department"])
    effective = _effective(changes.get("effective_from"), head["effective_from"])
    version = head["version"] + 1
    tx.execute("UPDATE routing_rules SET version = %s WHERE id = %s", (version, rule_id))
    return _write_version(
        tx, rule_id, version, "updated", content, effective, by, changes.get("reason")
    )


def delete_rule(
    tx: Transaction,
    rule_id: int,
    by: str,
    reason: str | None = None,
    effective_from: date | None = None,
) -> dict[str, Any]:
    """The deleting version keeps the last content, so the history shows what went."""
    head = _lock(tx, rule_id)
    current = get_rule(tx, rule_id)
    effective = _effective(effective_from, head["effective_from"])
    version = head["version"] + 1
    tx.execute(
        "UPDATE routing_rules SET version = %s, deleted = true WHERE id = %s", (version, rule_id)
    )
    return _write_version(tx, rule_id, version, "deleted", current, effective, by, reason)
