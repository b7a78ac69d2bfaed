"""The CloudEvents 1.0 envelope, structured JSON mode, with a `correlationid` extension."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from shared import clock
from shared.events.catalogue import InvalidEvent, event_type
from shared.logs import correlation_id, new_correlation_id

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
_REQUIRED = ("specversion", "id", "source", "type", "subject", "time", "data")


@dataclass(frozen=True)
class Event:
    """One event. `data` holds JSON values when built, Python values once parsed by a consumer."""

    type: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: clock.now())
    correlationid: str | None = None
    dataschema: str | None = None

    @property
    def version(self) -> int:
        return event_type(self.type).version_of(self.dataschema)

    def to_json(self) -> bytes:
        envelope: dict[str, Any] = {
            "specversion": SPECVERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "datacontenttype": CONTENT_TYPE,
            "dataschema": self.dataschema or event_type(self.type).schema_id(),
            "data": self.data,
        }
        if self.correlationid:
            envelope["correlationid"] = self.correlationid
        return orjson.dumps(envelope, default=str)


def new_event(type: str, subject: str, data: dict[str, Any], *, source: str) -> Event:
    """An event of the current schema version, validated so a bad one never reaches the outbox."""
    kind = event_type(type)
    if not str(subject).strip() or not source.strip():
        raise InvalidEvent("an event needs a subject and a source")
    return Event(
        type=type,
        source=source,
        subject=str(subject),
        data=kind.dump(data),
        dataschema=kind.schema_id(),
        correlationid=correlation_id.get() or new_correlation_id(),
    )


def parse_event(body: bytes) -> Event:
    """Parses and validates an envelope and its data; raises InvalidEvent saying what is wrong."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidEvent(f"not JSON: {e}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("the envelope is not a JSON object")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise InvalidEvent(f"envelope lacks {', '.join(missing)}")
    if raw["specversion"] != SPECVERSION:
        raise InvalidEvent(f"specversion {raw['specversion']!r} is not {SPECVERSION}")
    for key in ("id", "source", "type", "subject"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise InvalidEvent(f"envelope field {key} must be a non-empty string")
    try:
        when = datetime.fromisoformat(str(raw["time"]).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent(f"envelope time {raw['time']!r} is not RFC 3339") from None
    if when.tzinfo is None:
        raise InvalidEvent("envelope time has no offset")
    kind = event_type(raw["type"])
    version = kind.version_of(raw.get("dataschema"))
    return Event(
        type=raw["type"],
        source=raw["source"],
        subject=raw["subject"],
        data=kind.load(raw["data"], version),
        id=raw["id"],
        time=when,
        correlationid=raw.get("correlationid"),
        dataschema=kind.schema_id(version),
    )
