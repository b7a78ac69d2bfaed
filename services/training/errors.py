"""What training's use cases refuse, answered by the API as JSON 404, 409, 403 and 422."""

from __future__ import annotations


class NotFound(LookupError):
    """404."""


class Conflict(Exception):
    """409: exists already, full, or already decided."""


class Forbidden(Exception):
    """403: this caller may not do this to this one (decide on their own nomination)."""


class Invalid(ValueError):
    """422 naming the field: the input refers to something that does not exist or fit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message
