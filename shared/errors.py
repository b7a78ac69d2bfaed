"""What use cases refuse, in the service's own terms, and how every service says it.

The exceptions below are answered by `shared.web` (404, 409, 403, 422), so every service maps
them the same way. Every error answer is an RFC 9457 problem (`application/problem+json`),
built by `problem()`: `type`, `title`, `status`, `detail`, and for invalid input `errors`, one
entry per field (`pointer` into the JSON body, or the query `parameter` or `header` it is in).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

PROBLEM_JSON = "application/problem+json"

# problem types (RFC 9457 §3.1.1): `about:blank` when the status code says it all; the others
# are listed, with what a client does about each, in docs/integration.md
BLANK = "about:blank"
INVALID = "urn:cs:problem:invalid-request"
IDEMPOTENCY_KEY_REUSED = "urn:cs:problem:idempotency-key-reused"

TITLES = {
    INVALID: "The request is not valid",
    IDEMPOTENCY_KEY_REUSED: "The Idempotency-Key was used for another request",
}

# where webargs found a value -> the member of an `errors` entry that names it
_MEMBERS = {
    "json": "pointer",
    "form": "pointer",
    "files": "pointer",
    "query": "parameter",
    "querystring": "parameter",
    "view_args": "parameter",
    "path": "parameter",
    "headers": "header",
    "cookies": "parameter",
}


class NotFound(LookupError):
    """404."""


class Conflict(Exception):
    """409: exists already, or not in a state that allows this."""


class Forbidden(Exception):
    """403: this caller may not do this to this one."""


class Invalid(ValueError):
    """422 naming the fields: `Invalid("field", "why")` or `Invalid({"field": ["why", ...]})`."""

    def __init__(self, field: str | dict[str, list[str]], message: str = "") -> None:
        self.errors = dict(field) if isinstance(field, dict) else {field: [message]}
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))


class NotYet(Exception):
    """An event arrived before one it depends on (another key's, so another partition's): the
    consumer holds it, and the rest of its partition, and tries again until that one is applied
    (bounded by CS_CONSUMER_WAIT_S). Say what it waits for: `NotYet("case.opened of C-1")`."""


def reason(status: int) -> str:
    """The status code's reason phrase: `about:blank` problems use it as their title."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(
    status: int, detail: str, errors: Any = None, *, type_: str | None = None
) -> dict[str, Any]:
    """The body of an RFC 9457 problem. `errors` comes as marshmallow and webargs give it,
    `{location: {field: [message, ...]}}` (nested for nested fields), and leaves as a list of
    `{"detail", "pointer" | "parameter" | "header"}`; errors make the type `INVALID`."""
    entries = field_errors(errors) if errors else []
    kind = type_ or (INVALID if entries else BLANK)
    body: dict[str, Any] = {
        "type": kind,
        "title": TITLES.get(kind, reason(status)),
        "status": status,
        "detail": detail,
    }
    if entries:
        body["errors"] = entries
    return body


def field_errors(errors: Any) -> list[dict[str, str]]:
    """`{"json": {"items": {"0": {"name": ["Missing."]}}}}` ->
    `[{"detail": "Missing.", "pointer": "#/items/0/name"}]`."""
    entries: list[dict[str, str]] = []
    if not isinstance(errors, dict):
        return [{"detail": str(m), "pointer": "#"} for m in _messages(errors)]
    for location, found in errors.items():
        member = _MEMBERS.get(str(location))
        if member is None:  # not location-keyed: fields of the body
            _walk({location: found}, [], "pointer", entries)
        else:
            _walk(found, [], member, entries)
    return entries


def _walk(found: Any, path: list[str], member: str, entries: list[dict[str, str]]) -> None:
    if isinstance(found, dict):
        for key, inner in found.items():
            # marshmallow names errors about the object as a whole `_schema`
            _walk(inner, path if key == "_schema" else [*path, str(key)], member, entries)
        return
    for message in _messages(found):
        entries.append({"detail": message, member: _name(path, member)})


def _messages(found: Any) -> list[str]:
    if isinstance(found, list | tuple):
        return [m for item in found for m in _messages(item)]
    return [str(found)]


def _name(path: list[str], member: str) -> str:
    if member != "pointer":
        return ".".join(path)
    # a JSON Pointer (RFC 6901) as a URI fragment, as RFC 9457's own example writes it
    return "#" + "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)
