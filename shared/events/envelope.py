"""The CloudEvents 1.0 envelope, structured JSON mode, with a `correlationid` extension."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from shared import clock
from shared.events.catalogue import InvalidEvent, event_type
from shared.limits import EARLIEST, LATEST_STORABLE
from shared.logs import correlation_id, correlation_id_or_new, new_correlation_id

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
_REQUIRED = ("specversion", "id", "source", "type", "subject", "time", "data")
# the largest envelope a consumer reads (case.requested's 20,000 characters of content fit)
MAX_EVENT_BYTES = 256 * 1024
# every string of the envelope has a bound: nothing a producer sends costs a consumer much
FIELD_LIMITS = {
    "specversion": 8,
    "id": 64,
    "source": 64,
    "type": 64,
    "subject": 128,
    "time": 40,
    "datacontenttype": 64,
    "dataschema": 128,
}


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
        # set by the web layer or the consumer, already checked (shared.logs)
        correlationid=correlation_id.get() or new_correlation_id(),
    )


def _shown(value: Any) -> str:
    """A value for an error message: its start only."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}…"


def parse_event(body: bytes) -> Event:
    """Parses and validates an envelope and its data; raises InvalidEvent saying what is wrong.

    Each envelope field has a length bound and the time lies between 2000 and 2100; a
    `correlationid` that is not one (shared.logs.correlation_id_or_new) is replaced."""
    if len(body) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"the envelope is larger than {MAX_EVENT_BYTES} bytes")
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidEvent(f"not JSON: {e}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("the envelope is not a JSON object")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise InvalidEvent(f"envelope lacks {', '.join(missing)}")
    for key, limit in FIELD_LIMITS.items():
        value = raw.get(key)
        if isinstance(value, str) and len(value) > limit:
            raise InvalidEvent(f"envelope field {key} is longer than {limit} characters")
    if raw["specversion"] != SPECVERSION:
        raise InvalidEvent(f"specversion {_shown(raw['specversion'])} is not {SPECVERSION}")
    for key in ("id", "source", "type", "subject"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise InvalidEvent(f"envelope field {key} must be a non-empty string")
    try:
        when = datetime.fromisoformat(str(raw["time"]).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent(f"envelope time {_shown(raw['time'])} is not RFC 3339") from None
    if when.tzinfo is None:
        raise InvalidEvent("envelope time has no offset")
    if not EARLIEST <= when < LATEST_STORABLE:
        raise InvalidEvent(f"envelope time {_shown(raw['time'])} is not between 2000 and 2100")
    kind = event_type(raw["type"])
    version = kind.version_of(raw.get("dataschema"))
    given_cid = raw.get("correlationid")
    return Event(
        type=raw["type"],
        source=raw["source"],
        subject=raw["subject"],
        data=kind.load(raw["data"], version),
        id=raw["id"],
        time=when,
        correlationid=None if given_cid is None else correlation_id_or_new(given_cid),
        dataschema=kind.schema_id(version),
    )
