"""The quarterly evaluation's arithmetic (no I/O): from counts the database grouped, the figures
a supervisor reads. Every share is a percentage rounded to one decimal, every mean to two.

- Satisfaction: follow-up calls that reached the customer in the quarter and got a score;
  CSAT % is the share of 4 and 5.
- Complaints: cases received in the quarter (their `case.opened`), against the previous quarter.
- Time limits: routing's `sla.met` / `sla.breached` of the quarter; the headline is the customer
  clock (the policy's 1 and 2 working days), the department clock is listed beside it.
- Follow-ups: tasks that ended in the quarter; reach rate = reached / (reached + unreachable).
- Inspections: scored inspections of the cases resolved in the quarter (the draw's period).
- Network incidents: a cut fibre is one failure, not a thousand. Cases linked to an incident
  are left out of the complaint figures (volume, categories, channels, trend, both quarters)
  and counted apart; the quarter's incidents (those open at some time in it) are listed with
  their linked cases and how many of those got a follow-up call (a sample).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from shared.clock import SHANGHAI
from shared.periods import Period

FRONT_LINE = "front_line"  # resolved without a department: the agents themselves
UNKNOWN = "unknown"
SCORES = (1, 2, 3, 4, 5)
TOP_CATEGORIES = 5
T = TypeVar("T")


@dataclass(frozen=True)
class SatisfactionCount:
    department: str | None
    category: str | None
    channel: str | None
    score: int
    n: int


@dataclass(frozen=True)
class CaseCount:
    month: str  # YYYY-MM, Asia/Shanghai
    kind: str
    category: str | None
    channel: str | None
    n: int


@dataclass(frozen=True)
class SlaCount:
    clock: str
    department: str | None
    met: bool
    n: int


@dataclass(frozen=True)
class TaskCount:
    state: str
    outcome: str | None
    n: int


@dataclass(frozen=True)
class InspectionCount:
    agent_id: str | None
    department: str | None
    n: int
    total: float  # sum of the scores (0–100 each)


@dataclass(frozen=True)
class FeedbackCount:
    department: str
    topic: str
    n: int


@dataclass(frozen=True)
class IncidentCaseCount:
    kind: str | None
    n: int


@dataclass(frozen=True)
class IncidentRow:
    incident_id: str
    regions: list[str]
    categories: list[str]
    started_at: datetime | None
    resolved_at: datetime | None
    cause: str | None
    linked_cases: int
    followups_sampled: int
    followups_not_sampled: int


@dataclass
class QuarterData:
    quarter: Period
    satisfaction: list[SatisfactionCount] = field(default_factory=list)
    cases: list[CaseCount] = field(default_factory=list)  # this quarter and the one before
    sla: list[SlaCount] = field(default_factory=list)
    tasks: list[TaskCount] = field(default_factory=list)
    inspections: list[InspectionCount] = field(default_factory=list)
    feedback: list[FeedbackCount] = field(default_factory=list)
    improvements: list[dict[str, Any]] = field(default_factory=list)  # open measures
    # cases received in the quarter that belong to a network incident (not in `cases`)
    incident_cases: list[IncidentCaseCount] = field(default_factory=list)
    incidents: list[IncidentRow] = field(default_factory=list)  # open at some time in it


def percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def scores_summary(distribution: Mapping[int, int]) -> dict[str, Any]:
    """Responses, mean, the 1–5 distribution and CSAT % of one group of scores."""
    responses = sum(distribution.get(s, 0) for s in SCORES)
    total = sum(s * distribution.get(s, 0) for s in SCORES)
    satisfied = distribution.get(4, 0) + distribution.get(5, 0)
    return {
        "responses": responses,
        "mean": round(total / responses, 2) if responses else None,
        "csat_percent": percent(satisfied, responses),
        "distribution": {str(s): distribution.get(s, 0) for s in SCORES},
    }


def _grouped(
    rows: Iterable[T], key: Callable[[T], str], value: Callable[[T], int]
) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out[key(r)] += value(r)
    return out


def satisfaction(counts: list[SatisfactionCount]) -> dict[str, Any]:
    def by(name: str, key: Callable[[SatisfactionCount], str]) -> list[dict[str, Any]]:
        groups: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for c in counts:
            groups[key(c)][c.score] += c.n
        return [{name: k, **scores_summary(groups[k])} for k in sorted(groups)]

    overall: dict[int, int] = defaultdict(int)
    for c in counts:
        overall[c.score] += c.n
    return {
        **scores_summary(overall),
        "by_department": by("department", lambda c: c.department or FRONT_LINE),
        "by_category": by("category", lambda c: c.category or UNKNOWN),
        "by_channel": by("channel", lambda c: c.channel or UNKNOWN),
    }


def complaints(quarter: Period, counts: list[CaseCount]) -> dict[str, Any]:
    now_months, before_months = quarter.months(), quarter.previous().months()
    current = [c for c in counts if c.month in now_months]
    before = [c for c in counts if c.month in before_months]
    this = [c for c in current if c.kind == "complaint"]
    last = [c for c in before if c.kind == "complaint"]
    volume, previous = sum(c.n for c in this), sum(c.n for c in last)
    categories = _grouped(this, lambda c: c.category or UNKNOWN, lambda c: c.n)
    categories_before = _grouped(last, lambda c: c.category or UNKNOWN, lambda c: c.n)
    # every category of either quarter, so one that fell to nothing shows its fall
    names = sorted(
        set(categories) | set(categories_before),
        key=lambda k: (-categories.get(k, 0), -categories_before.get(k, 0), k),
    )
    by_category = [
        {
            "category": name,
            "count": categories.get(name, 0),
            "share_percent": percent(categories.get(name, 0), volume),
            "previous": categories_before.get(name, 0),
            "change": categories.get(name, 0) - categories_before.get(name, 0),
        }
        for name in names
    ]
    channels = _grouped(this, lambda c: c.channel or UNKNOWN, lambda c: c.n)
    monthly = _grouped(this + last, lambda c: c.month, lambda c: c.n)
    return {
        "volume": volume,
        "previous_quarter": str(quarter.previous()),
        "previous_volume": previous,
        "change": volume - previous,
        "change_percent": percent(volume - previous, previous),
        "consultations": sum(c.n for c in current if c.kind == "consultation"),
        "top_categories": [
            {"category": c["category"], "count": c["count"]}
            for c in by_category[:TOP_CATEGORIES]
            if c["count"]
        ],
        "by_category": by_category,
        "by_channel": [
            {"channel": k, "count": n, "share_percent": percent(n, volume)}
            for k, n in sorted(channels.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "monthly": [
            {
                "month": m,
                "quarter": str(quarter if m in now_months else quarter.previous()),
                "count": monthly.get(m, 0),
            }
            for m in before_months + now_months
        ],
    }


def _met_breached(rows: Iterable[SlaCount]) -> dict[str, Any]:
    rows = list(rows)
    met = sum(r.n for r in rows if r.met)
    breached = sum(r.n for r in rows if not r.met)
    return {"met": met, "breached": breached, "compliance_percent": percent(met, met + breached)}


def time_limits(counts: list[SlaCount]) -> dict[str, Any]:
    customer = [c for c in counts if c.clock == "customer"]
    departments = sorted({c.department or FRONT_LINE for c in customer})
    return {
        "basis": "customer clock: the policy's time limits (1 working day, 2 for complaints)",
        **_met_breached(customer),
        "by_clock": {
            clock: _met_breached(c for c in counts if c.clock == clock)
            for clock in sorted({c.clock for c in counts} | {"customer"})
        },
        "by_department": [
            {
                "department": d,
                **_met_breached(c for c in customer if (c.department or FRONT_LINE) == d),
            }
            for d in departments
        ],
    }


def followups(counts: list[TaskCount]) -> dict[str, Any]:
    def n(state: str, outcome: str | None = None) -> int:
        return sum(
            c.n for c in counts if c.state == state and (outcome is None or c.outcome == outcome)
        )

    reached, unreachable = n("completed"), n("unreachable")
    confirmed = n("completed", "confirmed")
    return {
        "finished": reached + unreachable,
        "reached": reached,
        "unreachable": unreachable,
        "reach_rate_percent": percent(reached, reached + unreachable),
        "confirmed": confirmed,
        "unresolved": n("completed", "unresolved"),
        "solved_rate_percent": percent(confirmed, reached),
        "skipped_do_not_call": n("skipped_do_not_call"),
        "cancelled": n("cancelled"),
    }


def inspections(counts: list[InspectionCount]) -> dict[str, Any]:
    def by(name: str, key: Callable[[InspectionCount], str]) -> list[dict[str, Any]]:
        n: dict[str, int] = defaultdict(int)
        total: dict[str, float] = defaultdict(float)
        for c in counts:
            n[key(c)] += c.n
            total[key(c)] += c.total
        return [
            {name: k, "scored": n[k], "mean_score": round(total[k] / n[k], 1)} for k in sorted(n)
        ]

    scored = sum(c.n for c in counts)
    return {
        "scored": scored,
        "mean_score": round(sum(c.total for c in counts) / scored, 1) if scored else None,
        "by_agent": by("agent_id", lambda c: c.agent_id or UNKNOWN),
        "by_department": by("department", lambda c: c.department or FRONT_LINE),
    }


def feedback(counts: list[FeedbackCount]) -> dict[str, Any]:
    departments = _grouped(counts, lambda c: c.department, lambda c: c.n)
    topics = _grouped(counts, lambda c: c.topic, lambda c: c.n)
    return {
        "received": sum(c.n for c in counts),
        "by_department": [{"department": k, "count": departments[k]} for k in sorted(departments)],
        "by_topic": [{"topic": k, "count": topics[k]} for k in sorted(topics)],
    }


def improvements(items: list[dict[str, Any]], today: date) -> dict[str, Any]:
    listed = [
        dict(
            i,
            id=str(i["id"]),
            due_on=i["due_on"].isoformat() if i.get("due_on") else None,
            overdue=bool(i.get("due_on") and i["due_on"] < today),
        )
        for i in sorted(items, key=lambda i: (i.get("due_on") or date.max, str(i["id"])))
    ]
    return {
        "open": len(listed),
        "overdue": sum(1 for i in listed if i["overdue"]),
        "items": listed,
    }


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat() if moment else None


def incidents(case_counts: list[IncidentCaseCount], rows: list[IncidentRow]) -> dict[str, Any]:
    """Incident cases counted apart from the complaints, and the quarter's incidents."""
    listed = sorted(rows, key=lambda r: (r.started_at is None, r.started_at, r.incident_id))
    return {
        "basis": "cases linked to a network incident, received in the quarter: counted here,"
        " not under complaints",
        "cases": sum(c.n for c in case_counts),
        "complaints": sum(c.n for c in case_counts if c.kind == "complaint"),
        "consultations": sum(c.n for c in case_counts if c.kind == "consultation"),
        "count": len(listed),
        "items": [
            {
                "incident_id": r.incident_id,
                "regions": list(r.regions),
                "categories": list(r.categories),
                "started_at": _local(r.started_at),
                "resolved_at": _local(r.resolved_at),
                "cause": r.cause,
                "linked_cases": r.linked_cases,
                "followups_sampled": r.followups_sampled,
                "followups_not_sampled": r.followups_not_sampled,
            }
            for r in listed
        ],
    }


def build(data: QuarterData, today: date) -> dict[str, Any]:
    q = data.quarter
    return {
        "period": str(q),
        "from": q.first_day.isoformat(),
        "to": q.last_day.isoformat(),
        "timezone": "Asia/Shanghai",
        "satisfaction": satisfaction(data.satisfaction),
        "complaints": complaints(q, data.cases),
        "time_limits": time_limits(data.sla),
        "followups": followups(data.tasks),
        "inspections": inspections(data.inspections),
        "feedback": feedback(data.feedback),
        "improvements": improvements(data.improvements, today),
        "incidents": incidents(data.incident_cases, data.incidents),
    }
