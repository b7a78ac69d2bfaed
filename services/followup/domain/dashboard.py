"""The supervisors' dashboard (no I/O): where cases stand now, and how the quarter goes.

- A case's state follows its lifecycle events: open, transferred (the front line asked for a
  department), in_department (routed), resolved, closed, reopened. Open cases are those in
  open, transferred, in_department or reopened.
- Clocks: a case is **breached** when one of its clocks passed its deadline and has not stopped
  since; else **at risk** when one was warned and has not stopped. A clock stops with `sla.met`,
  with `case.handled` (the department clock), when the case is resolved or closed, and when it
  is reopened (routing starts a new customer clock, announced by `sla.started`). A clock's
  warning or breach counts only when it is later than the clock's last start.
- Today's intake: cases received on today's date in Asia/Shanghai, by channel and kind.
- Network incidents: cases linked to an incident are counted apart from the open cases and
  today's intake above (one outage is one piece of work), with the quarter's incidents listed.
- The quarter (Asia/Shanghai): per week (Monday to Sunday; the first week starts on the
  quarter's first day) the satisfaction of follow-up calls that reached the customer, and the
  customer clocks' compliance, met / (met + breached), from `sla.met` / `sla.breached`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.followup.domain.report import (
    FRONT_LINE,
    IncidentRow,
    percent,
    scores_summary,
)
from shared.clock import SHANGHAI
from shared.periods import Period

REFRESH_SECONDS = 30
OLDEST_BREACHED = 10
LATEST_INCIDENTS = 10
STATES = ("open", "transferred", "in_department", "resolved", "closed", "reopened")
OPEN_STATES = ("open", "transferred", "in_department", "reopened")
# ties between events of one instant are settled by the lifecycle's order
STATE_RANK = {state: rank for rank, state in enumerate(STATES)}
CHANNELS = ("hotline", "email", "online")
KINDS = ("complaint", "consultation")


# --- one case's clocks --------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """The latest generation of one clock of a case, as event times."""

    started_at: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    stopped_at: datetime | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class Flags:
    at_risk: bool = False
    breached: bool = False
    breached_since: datetime | None = None  # the earliest deadline of the breached clocks


def _after(moment: datetime | None, *bounds: datetime | None) -> bool:
    return moment is not None and all(b is None or moment > b for b in bounds)


def clock_flags(state: str | None, reopened_at: datetime | None, clocks: Iterable[Clock]) -> Flags:
    """At risk or breached now; neither once the case is resolved, closed or not known."""
    if state not in OPEN_STATES:
        return Flags()
    warned, breached_due = False, []
    for c in clocks:
        bounds = (c.started_at, c.stopped_at, reopened_at)
        if _after(c.breached_at, *bounds):
            breached_due.append(c.due_at)
        elif _after(c.warned_at, *bounds):
            warned = True
    if breached_due:
        known = [d for d in breached_due if d is not None]
        return Flags(False, True, min(known) if known else None)
    return Flags(warned, False, None)


# --- the figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateCount:
    state: str
    department: str | None
    n: int


@dataclass(frozen=True)
class Breached:
    case_id: str
    department: str | None
    kind: str | None
    since: datetime | None


@dataclass(frozen=True)
class IntakeCount:
    channel: str | None
    kind: str | None
    n: int


@dataclass(frozen=True)
class DayScore:
    day: date  # Asia/Shanghai
    score: int
    n: int


@dataclass(frozen=True)
class DaySla:
    day: date  # Asia/Shanghai
    met: bool
    n: int


@dataclass
class DashboardData:
    now: datetime
    open_cases: list[StateCount] = field(default_factory=list)
    at_risk: int = 0
    breached: int = 0
    oldest_breached: list[Breached] = field(default_factory=list)
    intake: list[IntakeCount] = field(default_factory=list)  # received today
    satisfaction: list[DayScore] = field(default_factory=list)  # this quarter
    sla: list[DaySla] = field(default_factory=list)  # this quarter, customer clocks
    # network incidents' cases, left out of open_cases and intake
    incident_open_cases: int = 0
    incident_received_today: int = 0
    incidents: list[IncidentRow] = field(default_factory=list)  # open at some time this quarter

    @property
    def today(self) -> date:
        return self.now.astimezone(SHANGHAI).date()

    @property
    def quarter(self) -> Period:
        return Period.of(self.now, "quarter")


def open_cases(counts: list[StateCount]) -> dict[str, Any]:
    """Open cases per department (front_line: none yet), split by state; largest first."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OPEN_STATES, 0))
    for c in counts:
        if c.state in OPEN_STATES:
            table[c.department or FRONT_LINE][c.state] += c.n
    rows = [{"department": d, **table[d], "total": sum(table[d].values())} for d in table]
    rows.sort(key=lambda r: (-r["total"], r["department"]))
    return {
        "total": sum(r["total"] for r in rows),
        "by_state": {s: sum(r[s] for r in rows) for s in OPEN_STATES},
        "by_department": rows,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat() if moment else None


def clocks(at_risk: int, breached: int, oldest: list[Breached]) -> dict[str, Any]:
    return {
        "at_risk": at_risk,
        "breached": breached,
        "oldest_breached": [
            {
                "case_id": b.case_id,
                "department": b.department or FRONT_LINE,
                "kind": b.kind,
                "due_at": _iso(b.since),
            }
            for b in oldest[:OLDEST_BREACHED]
        ],
    }


def intake_today(counts: list[IntakeCount], today: date) -> dict[str, Any]:
    table: dict[str, dict[str, int]] = {ch: dict.fromkeys(KINDS, 0) for ch in CHANNELS}
    for c in counts:
        row = table.setdefault(c.channel or "unknown", dict.fromkeys(KINDS, 0))
        row[c.kind or "unknown"] = row.get(c.kind or "unknown", 0) + c.n
    rows = [{"channel": ch, **row, "total": sum(row.values())} for ch, row in table.items()]
    return {"date": today.isoformat(), "total": sum(r["total"] for r in rows), "by_channel": rows}


def week_of(day: date, quarter: Period) -> date:
    """The first day of the day's week within the quarter (weeks start on Monday)."""
    return max(day - timedelta(days=day.weekday()), quarter.first_day)


def weeks(quarter: Period, today: date) -> list[date]:
    """The quarter's weeks up to today's (all of them for a past quarter)."""
    last = min(today, quarter.last_day)
    out, start = [], quarter.first_day
    while start <= last:
        out.append(start)
        start = start - timedelta(days=start.weekday()) + timedelta(days=7)
    return out


def _week_keys(quarter: Period, today: date, days: Iterable[date]) -> list[date]:
    inside = {week_of(d, quarter) for d in days if quarter.first_day <= d <= quarter.last_day}
    return sorted(set(weeks(quarter, today)) | inside)


def satisfaction_trend(counts: list[DayScore], quarter: Period, today: date) -> dict[str, Any]:
    per_week: dict[date, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    overall: dict[int, int] = defaultdict(int)
    for c in counts:
        per_week[week_of(c.day, quarter)][c.score] += c.n
        overall[c.score] += c.n
    return {
        "quarter": str(quarter),
        **scores_summary(overall),
        "weeks": [
            {"week": w.isoformat(), **scores_summary(per_week.get(w, {}))}
            for w in _week_keys(quarter, today, (c.day for c in counts))
        ],
    }


def _kept(met: int, breached: int) -> dict[str, Any]:
    return {"met": met, "breached": breached, "compliance_percent": percent(met, met + breached)}


def compliance_trend(counts: list[DaySla], quarter: Period, today: date) -> dict[str, Any]:
    met: dict[date, int] = defaultdict(int)
    breached: dict[date, int] = defaultdict(int)
    for c in counts:
        (met if c.met else breached)[week_of(c.day, quarter)] += c.n
    return {
        "quarter": str(quarter),
        "basis": "customer clock: the policy's time limits (1 working day, 2 for complaints)",
        **_kept(sum(met.values()), sum(breached.values())),
        "weeks": [
            {"week": w.isoformat(), **_kept(met.get(w, 0), breached.get(w, 0))}
            for w in _week_keys(quarter, today, (c.day for c in counts))
        ],
    }


def incidents(data: DashboardData) -> dict[str, Any]:
    """Incident cases apart from the rest, and the quarter's incidents, the latest first."""
    latest = sorted(
        data.incidents,
        key=lambda r: (r.started_at is not None, r.started_at, r.incident_id),
        reverse=True,
    )
    return {
        "quarter": str(data.quarter),
        "open_cases": data.incident_open_cases,
        "received_today": data.incident_received_today,
        "count": len(latest),
        "open": sum(1 for r in latest if r.resolved_at is None),
        "latest": [
            {
                "incident_id": r.incident_id,
                "regions": list(r.regions),
                "categories": list(r.categories),
                "started_at": _iso(r.started_at),
                "resolved_at": _iso(r.resolved_at),
                "cause": r.cause,
                "linked_cases": r.linked_cases,
            }
            for r in latest[:LATEST_INCIDENTS]
        ],
    }


def build(data: DashboardData) -> dict[str, Any]:
    quarter, today = data.quarter, data.today
    return {
        "generated_at": data.now.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "timezone": "Asia/Shanghai",
        "refresh_seconds": REFRESH_SECONDS,
        "open_cases": open_cases(data.open_cases),
        "clocks": clocks(data.at_risk, data.breached, data.oldest_breached),
        "intake_today": intake_today(data.intake, today),
        "satisfaction": satisfaction_trend(data.satisfaction, quarter, today),
        "time_limits": compliance_trend(data.sla, quarter, today),
        "incidents": incidents(data),
    }
