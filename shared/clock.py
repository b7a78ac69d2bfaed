"""The one clock: every command, handler, view, job and the demo ask here for "now".

Business time is an input (architecture, "Time is an input"): nothing stamps a business fact
with `datetime.now()` or PostgreSQL's `now()`. In production the clock is the system's. Tests
and replays move it: `set_now(at)` makes it read `at` and run on from there, `freeze(at)` makes
it stand still. A process inherits a moved clock from `CS_CLOCK_OFFSET_S` (seconds to add to
the system time), which is how the test suite's clock reaches the processes it starts.

Token lifetimes are not business time: they keep to `system_now()`, the machine's own clock,
which is also the one place the system time is read.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFSET_ENV = "CS_CLOCK_OFFSET_S"

_lock = threading.Lock()
_offset = timedelta(seconds=float(os.environ.get(OFFSET_ENV) or 0))
_frozen: datetime | None = None


def system_now() -> datetime:
    """The machine's time, never moved: for what is not business time (token lifetimes)."""
    return datetime.now(UTC)


def now() -> datetime:
    """The current business time, timezone-aware, in UTC."""
    frozen = _frozen
    if frozen is not None:
        return frozen
    return system_now() + _offset


def today(tz: ZoneInfo = SHANGHAI) -> date:
    """Today's date where the operator works (Asia/Shanghai unless told otherwise)."""
    return now().astimezone(tz).date()


def offset() -> timedelta:
    """How far the clock is from the system time (zero in production)."""
    return (_frozen - system_now()) if _frozen is not None else _offset


def set_now(at: datetime) -> None:
    """From now on the clock reads `at` and runs on at the normal pace."""
    global _offset, _frozen
    _require_aware(at)
    with _lock:
        _frozen = None
        _offset = at - system_now()


def freeze(at: datetime) -> None:
    """The clock reads `at` until moved again."""
    global _frozen
    _require_aware(at)
    with _lock:
        _frozen = at.astimezone(UTC)


def advance(by: timedelta) -> None:
    """Moves the clock on by `by` (frozen or running)."""
    global _offset, _frozen
    with _lock:
        if _frozen is not None:
            _frozen = _frozen + by
        else:
            _offset = _offset + by


Snapshot = tuple[timedelta, datetime | None]


def snapshot() -> Snapshot:
    """How the clock is set now, for `restore`."""
    return _offset, _frozen


def restore(saved: Snapshot) -> None:
    global _offset, _frozen
    with _lock:
        _offset, _frozen = saved


@contextmanager
def frozen_at(at: datetime) -> Iterator[None]:
    """`with frozen_at(t):` the clock reads `t` inside, and what it read before afterwards."""
    saved = snapshot()
    freeze(at)
    try:
        yield
    finally:
        restore(saved)


def process_env() -> dict[str, str]:
    """Environment entries that give a child process this clock (running on from here)."""
    return {OFFSET_ENV: f"{offset().total_seconds():.6f}"}


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the clock needs a timezone-aware time")
