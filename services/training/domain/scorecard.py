"""Scorecard figures from tallies of facts (one fact per consumed event).

Each figure says how many events are behind it. Rates and the satisfaction mean are None when
no event is behind them (nothing to judge), not zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# fact kinds (scorecard_facts.figure)
RESOLUTION = "resolution"
TIME_LIMIT = "time_limit"
SATISFACTION = "satisfaction"
REOPENED = "reopened"
CERTIFICATE = "certificate"
FACTS = (RESOLUTION, TIME_LIMIT, SATISFACTION, REOPENED, CERTIFICATE)


@dataclass(frozen=True)
class FigureDef:
    fact: str
    unit: str
    description: str


FIGURES: dict[str, FigureDef] = {
    "cases_handled": FigureDef(
        RESOLUTION, "cases", "resolutions by this staff member (case.resolved resolved_by)"
    ),
    "first_contact_rate": FigureDef(
        RESOLUTION, "percent", "share of their resolutions made at first contact"
    ),
    "time_limit_compliance": FigureDef(
        TIME_LIMIT, "percent", "clocks assigned to them that were met (sla.met vs sla.breached)"
    ),
    "satisfaction_mean": FigureDef(
        SATISFACTION, "score 1-5", "mean follow-up satisfaction on cases they resolved"
    ),
    "satisfaction_count": FigureDef(
        SATISFACTION, "follow-ups", "follow-ups with a satisfaction score on cases they resolved"
    ),
    "reopened_cases": FigureDef(REOPENED, "cases", "reopenings of cases they resolved"),
    "training_compliance": FigureDef(
        CERTIFICATE,
        "percent",
        "mandatory courses of their role with a valid certificate at the period's end (or now)",
    ),
}

NOT_AVAILABLE = {
    "complaints_about_person": "no event in catalogue v1 says whom a complaint is about",
    "inspection_score": "no quality-inspection event in catalogue v1 yet",
}


@dataclass(frozen=True)
class Tally:
    """How many facts of one kind, and the sum of their values."""

    events: int = 0
    total: float = 0.0


@dataclass(frozen=True)
class Figure:
    name: str
    value: float | None
    events: int
    unit: str
    description: str


def _ratio(part: float, whole: float, scale: float = 1.0) -> float | None:
    return round(scale * part / whole, 2) if whole else None


def compute(
    tallies: Mapping[str, Tally], mandatory_courses: int, certified_courses: int
) -> dict[str, Figure]:
    """Every figure of a scorecard. `tallies` by fact kind (certificates not among them);
    training compliance from the number of mandatory courses and those validly certified."""
    resolution = tallies.get(RESOLUTION, Tally())
    time_limit = tallies.get(TIME_LIMIT, Tally())
    satisfaction = tallies.get(SATISFACTION, Tally())
    reopened = tallies.get(REOPENED, Tally())
    values: dict[str, tuple[float | None, int]] = {
        "cases_handled": (resolution.events, resolution.events),
        "first_contact_rate": (
            _ratio(resolution.total, resolution.events, 100),
            resolution.events,
        ),
        "time_limit_compliance": (
            _ratio(time_limit.total, time_limit.events, 100),
            time_limit.events,
        ),
        "satisfaction_mean": (_ratio(satisfaction.total, satisfaction.events), satisfaction.events),
        "satisfaction_count": (satisfaction.events, satisfaction.events),
        "reopened_cases": (reopened.events, reopened.events),
        # nothing mandatory: nothing missing
        "training_compliance": (
            _ratio(certified_courses, mandatory_courses, 100) if mandatory_courses else 100.0,
            certified_courses,
        ),
    }
    return {
        name: Figure(name, value, events, FIGURES[name].unit, FIGURES[name].description)
        for name, (value, events) in values.items()
    }
