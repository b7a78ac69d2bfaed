"""Incentive rules as data: every condition on a scorecard figure must hold."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.training.domain.scorecard import Figure

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Condition:
    figure: str
    op: str
    value: float
    min_events: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Condition:
        return cls(d["figure"], d["op"], float(d["value"]), int(d.get("min_events") or 0))


@dataclass(frozen=True)
class Check:
    condition: Condition
    actual: float | None
    events: int
    met: bool

    def as_evidence(self) -> dict[str, Any]:
        c = self.condition
        return {
            "figure": c.figure,
            "op": c.op,
            "value": c.value,
            "min_events": c.min_events,
            "actual": self.actual,
            "events": self.events,
            "met": self.met,
        }


def check(condition: Condition, figures: Mapping[str, Figure]) -> Check:
    """A figure with no value (no events behind a rate) or too few events fails."""
    figure = figures.get(condition.figure)
    if figure is None:
        return Check(condition, None, 0, False)
    met = (
        figure.value is not None
        and figure.events >= condition.min_events
        and OPS[condition.op](figure.value, condition.value)
    )
    return Check(condition, figure.value, figure.events, met)


def evaluate(
    conditions: Sequence[Condition], figures: Mapping[str, Figure]
) -> tuple[bool, list[Check]]:
    """Whether all conditions hold (a rule without conditions never does), and each check."""
    checks = [check(c, figures) for c in conditions]
    return bool(checks) and all(c.met for c in checks), checks
