"""JSON logs with the correlation id of the request or event being handled, and no personal data.

`correlation_id` is a context variable: the web layer sets it from `X-Correlation-ID` (or a new
one), the consumer from the event it handles, and every event emitted meanwhile carries it on.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson

from shared.personal_data import holds_personal_data, mask_text

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)

# the longest text a log line carries in one field: cut first, so masking stays cheap
MAX_LOGGED_CHARS = 16_384


def scrub(text: str, limit: int = MAX_LOGGED_CHARS) -> str:
    """`text` cut to `limit` characters, then with phone numbers, ID numbers and e-mail
    addresses masked (`shared.personal_data`); linear in `limit`, whatever the text."""
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text) - limit} more characters cut)"
    return mask_text(text)


@contextlib.contextmanager
def correlated(cid: str | None) -> Iterator[None]:
    """Within it, logs and emitted events carry `cid` (the event being handled's); None
    keeps the one of the work at hand."""
    token = correlation_id.set(cid or correlation_id.get())
    try:
        yield
    finally:
        correlation_id.reset(token)


def new_correlation_id() -> str:
    return str(uuid.uuid4())


# a UUID, or another system's request id of the same kind
_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def correlation_id_or_new(given: object) -> str:
    """`given` when it is a correlation id (1-64 letters, digits, `.`, `_`, `:` or `-`, and no
    phone or ID number), else a new one: what a client sends in `X-Correlation-ID`, or a
    producer in an event, is carried into logs and events only when it is no more than that."""
    if not isinstance(given, str) or not _CORRELATION_ID.fullmatch(given):
        return new_correlation_id()
    return new_correlation_id() if holds_personal_data(given) else given


# what a record may carry besides its message (`extra=`), copied into the line when present
_FIELDS = ("event_id", "event_type", "case_id", "method", "path", "status", "ms")


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        fields = {key: getattr(record, key, None) for key in _FIELDS}
        return self.line(
            record.created,
            record.levelname.lower(),
            record.name,
            record.getMessage(),
            # an access line names its request's id itself: the request's context is over
            getattr(record, "correlation_id", None),
            fields,
            self.formatException(record.exc_info) if record.exc_info else None,
        )

    def line(
        self,
        created: float,
        level: str,
        logger: str,
        msg: str,
        cid: str | None,
        fields: dict[str, object],
        error: str | None = None,
    ) -> str:
        """The JSON line of a record: `fields` (those of `_FIELDS`, in that order) where not
        None, every text masked; the correlation id `cid`, else the context's."""
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "service": self.service,
            "logger": logger,
            "msg": scrub(msg),
        }
        cid = cid or correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        for key, value in fields.items():
            if value is not None:
                entry[key] = scrub(value) if isinstance(value, str) else value
        if error:
            entry["error"] = scrub(error)
        return orjson.dumps(entry, default=str).decode()


class JsonLineHandler(logging.StreamHandler):
    """One JSON line per record (`JsonFormatter`), and `write` for a line made without a
    record (gunicorn's access line: shared/gunicorn_conf.py)."""

    def __init__(self, service: str) -> None:
        super().__init__(sys.stderr)
        self.json = JsonFormatter(service)
        self.setFormatter(self.json)

    def write(self, line: str) -> None:
        """`line` written as `emit` writes a record's (a failure is not the caller's)."""
        try:
            with self.lock:  # type: ignore[union-attr]
                self.stream.write(line + self.terminator)
                self.flush()
        except Exception:  # as logging does: a line that cannot be written is not an error
            if logging.raiseExceptions:
                sys.stderr.write(f"--- logging error: {line[:200]!r} not written\n")


def json_handler(service: str) -> JsonLineHandler:
    """A handler writing one JSON line per record to stderr."""
    return JsonLineHandler(service)


def configure_logging(service: str, level: str = "INFO") -> None:
    """One JSON line per record on stderr; idempotent."""
    root = logging.getLogger()
    root.handlers[:] = [json_handler(service)]
    root.setLevel(level)
    logging.getLogger("pika").setLevel(logging.WARNING)
