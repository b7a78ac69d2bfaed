"""Events intake consumes: one function per type. The consumer records each in the inbox."""

from __future__ import annotations

from shared.service import Handler

EVENT_HANDLERS: dict[str, Handler] = {}
