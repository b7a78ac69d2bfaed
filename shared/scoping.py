"""Object-level rules: on which cases, work items, clocks and scorecards a caller may act, and
whose work they may read. Roles (`@requires`) say what kind of thing a caller may do; these
rules say to which objects. Every service applies them to its own objects (docs/access.md).

- Supervisors, reporting systems (role `system`) and admin act anywhere.
- Department staff and heads act only on what their department has, and read only their
  department's work. Their department is the one the staff directory (routing's, known to the
  other services from `staff.upserted`) gives an active member; never a claim of the token.
- Agents act on front-line cases: those no department has.

Pure: no I/O. A refusal is a sentence for a 403's JSON body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.errors import Forbidden

if TYPE_CHECKING:
    from shared.auth import Caller

ANYWHERE_ROLES = frozenset({"supervisor", "system", "admin"})
DEPARTMENT_ROLES = frozenset({"department_staff", "department_head"})
FRONT_LINE_ROLES = frozenset({"agent"})


@dataclass(frozen=True)
class Actor:
    """A caller as the object rules see them: who (the token's subject), what (its roles) and
    where they belong (the directory's department of an active member, else None)."""

    subject: str
    roles: frozenset[str]
    department: str | None = None

    @classmethod
    def of(cls, caller: Caller, department: str | None) -> Actor:
        return cls(caller.subject, frozenset(caller.roles), department)

    @property
    def anywhere(self) -> bool:
        return bool(self.roles & ANYWHERE_ROLES)

    @property
    def front_line(self) -> bool:
        return bool(self.roles & FRONT_LINE_ROLES)

    @property
    def of_a_department(self) -> bool:
        return bool(self.roles & DEPARTMENT_ROLES)


class _Transferring:
    """A case on its way to a department not known yet: nobody but supervisors acts on it."""

    def __repr__(self) -> str:
        return "TRANSFERRING"


TRANSFERRING = _Transferring()
# who has a case: None (the front line), a department code, or TRANSFERRING
Holder = str | _Transferring | None


def case_refusal(actor: Actor, holder: Holder, action: str, what: str) -> str | None:
    """Why `actor` may not `action` the object `what` (a case, or its clock) that `holder`
    has; None when they may."""
    if actor.anywhere:
        return None
    if holder is None:
        if actor.front_line:
            return None
        return (
            f"{what} is with the front line: only agents (or supervisors) may {action} it,"
            " not a department"
        )
    if isinstance(holder, _Transferring):
        return (
            f"{what} is being transferred to a department: only supervisors may {action} it"
            " until routing names the department"
        )
    if actor.of_a_department and actor.department == holder:
        return None
    if actor.of_a_department and actor.department is None:
        return (
            f"{what} is with department {holder}, and {actor.subject} is not an active member"
            " of a department in the staff directory"
        )
    return (
        f"{what} is with department {holder}: only its staff and head (or supervisors) may"
        f" {action} it"
    )


def require(actor: Actor, holder: Holder, action: str, what: str) -> None:
    """Raises Forbidden (403) with the reason when `actor` may not `action` `what`."""
    refusal = case_refusal(actor, holder, action, what)
    if refusal:
        raise Forbidden(refusal)


def reading_confined_to(actor: Actor) -> str | None:
    """The department whose work alone `actor` may read, or None when they may read all of it
    (supervisors, systems, admin and agents). Raises Forbidden for department staff or a head
    the directory places in no department."""
    if actor.anywhere or actor.front_line or not actor.of_a_department:
        return None
    if actor.department is None:
        raise Forbidden(
            f"{actor.subject} is not an active member of a department in the staff directory:"
            " department staff and heads read only their department's work"
        )
    return actor.department


def require_reading(actor: Actor, department: str | None, what: str) -> None:
    """Raises Forbidden when `actor` is confined to a department other than `department`."""
    confined = reading_confined_to(actor)
    if confined is not None and confined != department:
        raise Forbidden(f"{what} is not {confined}'s: a department reads only its own work")
