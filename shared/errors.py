"""What use cases refuse, in the service's own terms; `shared.web` answers each as JSON
(404, 409, 403, 422), so every service maps them the same way."""

from __future__ import annotations


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
