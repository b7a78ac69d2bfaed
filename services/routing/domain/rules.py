"""Which department a transferred case goes to (no I/O).

The order of precedence:

1. the department the agent asked for, when it exists and is active;
2. else the first rule, by position (then id), whose conditions all hold and whose department
   is active;
3. else the department flagged default, when it is active.

A condition lists the values it accepts; an empty one accepts anything, so a rule with no
conditions is a catch-all. Values compare without regard to case or surrounding spaces
("Haidian" matches "haidian "): they are typed by people. Department codes compare exactly.
The reason says, in words an operator can check, why the department was chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# (case attribute, rule condition): the order in which reasons name them
CONDITIONS: tuple[tuple[str, str], ...] = (
    ("kind", "kinds"),
    ("category", "categories"),
    ("region", "regions"),
    ("channel", "channels"),
    ("priority", "priorities"),
)


def normalise(value: str) -> str:
    return value.strip().casefold()


@dataclass(frozen=True)
class CaseAttributes:
    """What routing knows of a case; None when unknown (a dry-run may leave some out)."""

    kind: str | None = None
    category: str | None = None
    region: str | None = None
    channel: str | None = None
    priority: str | None = None


@dataclass(frozen=True)
class Rule:
    id: int
    position: int
    department: str
    kinds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()

    def accepted(self, attribute: str) -> tuple[str, ...]:
        return getattr(self, dict(CONDITIONS)[attribute])


@dataclass(frozen=True)
class DepartmentState:
    code: str
    active: bool = True
    is_default: bool = False


@dataclass(frozen=True)
class Decision:
    department: str | None
    rule_id: int | None
    reason: str


def matches(rule: Rule, case: CaseAttributes) -> bool:
    """True when every condition the rule has holds for the case."""
    for attribute, _ in CONDITIONS:
        accepted = rule.accepted(attribute)
        if not accepted:
            continue
        value = getattr(case, attribute)
        if value is None or normalise(value) not in {normalise(a) for a in accepted}:
            return False
    return True


def describe(rule: Rule, case: CaseAttributes) -> str:
    """`rule 3 (position 1): category broadband, region Haidian`: the conditions that held."""
    held = [
        f"{attribute} {getattr(case, attribute)}"
        for attribute, _ in CONDITIONS
        if rule.accepted(attribute)
    ]
    return f"rule {rule.id} (position {rule.position}): " + (
        ", ".join(held) if held else "no conditions (catch-all)"
    )


def _with(reason: str, notes: list[str]) -> str:
    return "; ".join([reason, *notes])


def choose_department(
    case: CaseAttributes,
    rules: Iterable[Rule],
    departments: Mapping[str, DepartmentState],
    requested: str | None = None,
) -> Decision:
    """The department for the case, the rule that chose it (if one did), and why."""
    notes: list[str] = []
    if requested:
        wanted = departments.get(requested)
        if wanted is not None and wanted.active:
            return Decision(
                requested, None, f"requested department {requested} (asked by the agent)"
            )
        notes.append(
            f"requested department {requested} "
            + ("is inactive" if wanted is not None else "does not exist")
        )
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if not matches(rule, case):
            continue
        target = departments.get(rule.department)
        if target is None or not target.active:
            notes.append(f"rule {rule.id} matched but department {rule.department} is inactive")
            continue
        return Decision(rule.department, rule.id, _with(describe(rule, case), notes))
    default = next((d for _, d in sorted(departments.items()) if d.is_default and d.active), None)
    if default is not None:
        return Decision(
            default.code, None, _with(f"no rule matches: default department {default.code}", notes)
        )
    return Decision(None, None, _with("no rule matches and there is no default department", notes))
