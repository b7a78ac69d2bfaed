"""Network incidents as intake sees them (no I/O): which open incident a new case belongs to,
and what a linked case's customer is told.

Routing owns incidents and announces them; intake keeps the open ones so that `POST /cases`
links a case at once and the agent can tell the caller the incident's message and ETA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.clock import SHANGHAI

# cases changed per statement when an incident is told or resolved: memory stays bounded
BATCH = 500
# the incident's resolution becomes each linked case's; its resolver is the incident
RESOLVER = "incident"


@dataclass(frozen=True)
class Notice:
    """What a linked case's customer is told: the incident's public message and ETA."""

    incident_id: str
    message: str
    eta: datetime | None

    def as_detail(self) -> dict[str, str | None]:
        """The timeline entry's detail; the ETA in the operator's zone, as customers read it."""
        return {
            "incident_id": self.incident_id,
            "message": self.message,
            "eta": self.eta.astimezone(SHANGHAI).isoformat() if self.eta else None,
        }
