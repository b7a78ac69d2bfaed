"""Events and requests as other systems would send them, with fictitious, non-personal values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.events import Event, new_event


def case_opened(**overrides: Any) -> Event:
    """A `case.opened` from intake for a new case; `overrides` change its data."""
    case_id = str(overrides.pop("case_id", None) or uuid.uuid4())
    data = {
        "case_id": case_id,
        "case_no": "TS20260213-0001",
        "kind": "complaint",
        "channel": "hotline",
        "category": "broadband",
        "region": "Haidian",
        "priority": "normal",
        "customer_id": None,
        "identity_verified": True,
        "agent_id": "agent-1",
        "opened_at": datetime(2026, 2, 13, 2, 0, tzinfo=UTC),
    }
    data.update(overrides)
    return new_event("case.opened", case_id, data, source="/intake")
