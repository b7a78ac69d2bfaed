"""JSON logs with the correlation id of the request or event being handled, and no personal data.

`correlation_id` is a context variable: the web layer sets it from `X-Correlation-ID` (or a new
one), the consumer from the event it handles, and every event emitted meanwhile carries it on.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

import orjson

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)

# mainland mobile numbers, 18-character resident ID numbers, e-mail addresses
_PII_PATTERNS = (
    (
        re.compile(r"(?<![0-9A-Za-z])(?:\+?86|0086)?(1[3-9]\d)\d{4}(\d{4})(?![0-9A-Za-z])"),
        r"\1****\2",
    ),
    (re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])"), r"\1********\2"),
    (re.compile(r"[\w.+-]+@([\w-]+\.)+[\w-]+"), "***@***"),
)


def scrub(text: str) -> str:
    """Masks phone numbers, ID numbers and e-mail addresses that slipped into a message."""
    for pattern, replacement in _PII_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def new_correlation_id() -> str:
    return str(uuid.uuid4())


# what a record may carry besides its message (`extra=`), copied into the line when present
_FIELDS = ("event_id", "event_type", "case_id", "method", "path", "status", "ms")


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        # an access line names its request's id itself: the request's context is over by then
        cid = getattr(record, "correlation_id", None) or correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        for key in _FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def json_handler(service: str) -> logging.Handler:
    """A handler writing one JSON line per record to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    return handler


def configure_logging(service: str, level: str = "INFO") -> None:
    """One JSON line per record on stderr; idempotent."""
    root = logging.getLogger()
    root.handlers[:] = [json_handler(service)]
    root.setLevel(level)
    logging.getLogger("pika").setLevel(logging.WARNING)
