"""Network incidents: one outage, one piece of work, one message, one resolution (pure, no I/O).

Life of an incident:

    suspected --confirm--> open --update*--> open --resolve--> resolved
    suspected --dismiss--> dismissed
    (declare) -----------> open          by network operations or an outside system

Detection suspects a burst (`incident_detection`); network operations confirm or dismiss it.
Every move returns the new value and the `IncidentChange` to append to the incident's history
(nothing is overwritten there); a move its state does not allow raises `IllegalTransition`
(shared/statemachine.py, a 409).

While open, an incident covers the cases of its regions and categories opened since it
started: they are linked to it instead of being assigned one by one. Each customer's own time
limit keeps running (policy ch.5 §2.2 holds per customer), so an ETA past a linked case's
deadline is flagged before that deadline breaches.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.routing.domain.incident_detection import BurstEvidence
from shared.errors import Invalid
from shared.statemachine import machine

# four concatenated SMS segments of 67 Chinese characters: the SMS gateway sends it whole
MESSAGE_MAX = 268
CAUSE_MAX = 64
RESOLUTION_MAX = 2000
DETECTOR = "routing"


class IncidentState(StrEnum):
    SUSPECTED = "suspected"
    OPEN = "open"
    DISMISSED = "dismissed"
    RESOLVED = "resolved"


# a suspicion or an incident that still stands: no second suspicion for the same burst
ACTIVE = frozenset({IncidentState.SUSPECTED, IncidentState.OPEN})


class InvalidIncident(Invalid):
    """The values cannot make an incident (empty regions, an ETA before the start, …): a 422
    wherever it is raised (shared/errors.py)."""

    def __init__(self, message: str) -> None:
        super().__init__("incident", message)


# the moves of an incident's life (see the module doc); `update` keeps it open
LIFE = machine(
    "incident",
    [state.value for state in IncidentState],
    {
        "confirm": ({IncidentState.SUSPECTED}, IncidentState.OPEN),
        "dismiss": ({IncidentState.SUSPECTED}, IncidentState.DISMISSED),
        "update": ({IncidentState.OPEN}, None),
        "resolve": ({IncidentState.OPEN}, IncidentState.RESOLVED),
    },
)


@dataclass(frozen=True)
class IncidentChange:
    """One entry of an incident's append-only history; `fields` are JSON-ready."""

    incident_id: str
    kind: str
    at: datetime
    by: str
    fields: dict[str, Any] = field(default_factory=dict)


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise InvalidIncident(f"{name} must be timezone-aware")


def _codes(values: Iterable[str], name: str) -> frozenset[str]:
    codes = frozenset(v.strip() for v in values)
    if not codes or "" in codes:
        raise InvalidIncident(f"{name} must be a non-empty set of non-empty codes")
    return codes


def _text(value: str, name: str, limit: int) -> str:
    text = value.strip()
    if not text or len(text) > limit:
        raise InvalidIncident(f"{name} must be 1 to {limit} characters, got {len(text)}")
    return text


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _same(code: str, codes: Collection[str]) -> bool:
    folded = code.strip().casefold()
    return any(folded == c.casefold() for c in codes)


@dataclass(frozen=True)
class Incident:
    """A network incident. `declared_at` is when it opened, `ended_at` when it was dismissed
    or resolved; `evidence` is the burst a suspicion came from (None when declared)."""

    id: str
    regions: frozenset[str]
    categories: frozenset[str]
    started_at: datetime
    state: IncidentState
    eta: datetime | None = None
    message: str | None = None
    cause: str | None = None
    resolution: str | None = None
    declared_by: str | None = None
    declared_at: datetime | None = None
    ended_at: datetime | None = None
    evidence: BurstEvidence | None = None

    def __post_init__(self) -> None:
        _codes(self.regions, "regions")
        _codes(self.categories, "categories")
        for name in ("started_at", "eta", "declared_at", "ended_at"):
            _aware(getattr(self, name), name)
        if self.eta is not None and self.eta < self.started_at:
            raise InvalidIncident(f"eta {self.eta} lies before started_at {self.started_at}")
        if self.message is not None:
            _text(self.message, "message", MESSAGE_MAX)

    def _change(self, kind: str, at: datetime, by: str, **fields: Any) -> IncidentChange:
        _aware(at, "at")
        if not by.strip():
            raise InvalidIncident("a change needs who made it")
        return IncidentChange(self.id, kind, at, by, fields)

    def confirm(
        self, *, at: datetime, by: str, message: str, eta: datetime | None = None
    ) -> tuple[Incident, IncidentChange]:
        """Network operations confirm a suspicion: it opens, with its public message."""
        LIFE.check("confirm", self.state)
        text = _text(message, "message", MESSAGE_MAX)
        opened = replace(
            self, state=IncidentState.OPEN, eta=eta, message=text, declared_by=by, declared_at=at
        )
        return opened, self._change("confirmed", at, by, eta=_iso(eta), message=text)

    def dismiss(
        self, *, at: datetime, by: str, reason: str | None = None
    ) -> tuple[Incident, IncidentChange]:
        """Network operations find no outage behind the burst."""
        LIFE.check("dismiss", self.state)
        dismissed = replace(self, state=IncidentState.DISMISSED, ended_at=at)
        return dismissed, self._change("dismissed", at, by, reason=reason)

    def update(
        self, *, at: datetime, by: str, eta: datetime | None = None, message: str | None = None
    ) -> tuple[Incident, IncidentChange]:
        """A new ETA and/or public message, to be told to every linked customer."""
        LIFE.check("update", self.state)
        if eta is None and message is None:
            raise InvalidIncident("an update needs a new eta or a new message")
        fields: dict[str, Any] = {}
        if eta is not None:
            fields["eta"] = eta.isoformat()
        if message is not None:
            message = fields["message"] = _text(message, "message", MESSAGE_MAX)
        updated = replace(self, eta=eta or self.eta, message=message or self.message)
        return updated, self._change("updated", at, by, **fields)

    def resolve(
        self, *, at: datetime, by: str, cause: str, resolution: str
    ) -> tuple[Incident, IncidentChange]:
        """Once: the cause code and the resolution every linked case is resolved with."""
        LIFE.check("resolve", self.state)
        code = _text(cause, "cause", CAUSE_MAX)
        text = _text(resolution, "resolution", RESOLUTION_MAX)
        if at < self.started_at:
            raise InvalidIncident(f"resolved at {at}, before it started at {self.started_at}")
        resolved = replace(
            self, state=IncidentState.RESOLVED, cause=code, resolution=text, ended_at=at
        )
        return resolved, self._change("resolved", at, by, cause=code, resolution=text)

    def concerns(self, region: str, category: str) -> bool:
        """Whether a case of this region and category is of the incident's kind (any time)."""
        return _same(region, self.regions) and _same(category, self.categories)

    def covers(self, case_region: str, case_category: str, opened_at: datetime) -> bool:
        """Whether a case belongs to this incident: its region and category, opened since the
        incident started (a suspicion: inside the burst's window), the incident not ended."""
        if not self.concerns(case_region, case_category):
            return False
        if self.state == IncidentState.OPEN:
            return opened_at >= self.started_at
        if self.state == IncidentState.SUSPECTED:
            if self.evidence is not None:
                return self.evidence.contains(opened_at)
            return opened_at >= self.started_at
        return False


def declare(
    incident_id: str,
    *,
    regions: Iterable[str],
    categories: Iterable[str],
    started_at: datetime,
    message: str,
    at: datetime,
    by: str,
    eta: datetime | None = None,
) -> tuple[Incident, IncidentChange]:
    """Network operations (over the API) or an outside system (`incident.declared`) declare an
    outage: it is open at once."""
    incident = Incident(
        id=incident_id,
        regions=_codes(regions, "regions"),
        categories=_codes(categories, "categories"),
        started_at=started_at,
        state=IncidentState.OPEN,
        eta=eta,
        message=_text(message, "message", MESSAGE_MAX),
        declared_by=by,
        declared_at=at,
    )
    change = incident._change(
        "declared",
        at,
        by,
        regions=sorted(incident.regions),
        categories=sorted(incident.categories),
        started_at=started_at.isoformat(),
        eta=_iso(eta),
        message=incident.message,
    )
    return incident, change


def suspect(
    incident_id: str, evidence: BurstEvidence, *, at: datetime, by: str = DETECTOR
) -> tuple[Incident, IncidentChange]:
    """Detection raises a suspicion for network operations to confirm or dismiss; it started
    with the burst's window."""
    incident = Incident(
        id=incident_id,
        regions=_codes([evidence.region], "regions"),
        categories=_codes([evidence.category], "categories"),
        started_at=evidence.window_start,
        state=IncidentState.SUSPECTED,
        evidence=evidence,
    )
    change = incident._change("suspected", at, by, evidence=evidence.as_json())
    return incident, change


def should_suspect(
    incidents: Iterable[Incident], *, region: str, category: str, window_start: datetime
) -> bool:
    """Once per burst: no suspicion while one for this region and category is suspected or
    open, nor while the window still holds cases from before one was dismissed or resolved
    (the same burst's tail would raise it again at once)."""
    for incident in incidents:
        if not incident.concerns(region, category):
            continue
        if incident.state in ACTIVE:
            return False
        if incident.ended_at is not None and incident.ended_at > window_start:
            return False
    return True


def deadline_before_eta(
    eta: datetime | None, due_times: Iterable[datetime], *, now: datetime | None = None
) -> datetime | None:
    """The earliest linked case's deadline that the ETA lies past, or None: flag the incident
    before that deadline breaches. Deadlines at or before `now` have breached already; the
    clocks report those."""
    if eta is None:
        return None
    passed = [due for due in due_times if due < eta and (now is None or due > now)]
    return min(passed, default=None)
