"""Liveness of a service's long-running processes: the relay, the consumer and the scheduler.

Each process keeps a row in its service's `process_heartbeats` table fresh from its main loop,
and only while it is connected: the relay and the scheduler write on the connection that holds
(or waits for) their lock, the relay once it also has its broker channel; the consumer between
two reads of its queue. A fresh row therefore means "running and connected"; a hung process, or
one cut off from the database or the broker, goes stale. `cs health` reads the rows (compose's
health checks) and the web process turns them into `cs_processes_alive` on /metrics.

Times are the database server's (`clock_timestamp()`), see migration 0003.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass

import psycopg

from shared.db import Database

log = logging.getLogger(__name__)

PROCESSES = ("relay", "consumer", "scheduler")
# a process writes at most this often; a row older than STALE_S means the process is not alive
BEAT_S = 5.0
STALE_S = 30.0
# rows of processes gone for longer than this are removed by the next process that starts
FORGET_AFTER = "1 day"

_UPSERT = """
INSERT INTO process_heartbeats (process, host, pid, state, started_at, beat_at)
VALUES (%s, %s, %s, %s, clock_timestamp(), clock_timestamp())
ON CONFLICT (process, host, pid) DO UPDATE SET state = excluded.state, beat_at = excluded.beat_at,
    started_at = CASE WHEN %s THEN excluded.started_at ELSE process_heartbeats.started_at END
"""


class Heartbeat:
    """This process's row: `beat(conn, state)` from the main loop, `forget(db)` on a clean stop."""

    def __init__(self, process: str, *, interval_s: float = BEAT_S) -> None:
        if process not in PROCESSES:
            raise ValueError(f"unknown process {process!r}; one of {', '.join(PROCESSES)}")
        self.process = process
        self.host = socket.gethostname()
        self.interval_s = interval_s
        self._last = float("-inf")
        self._state: str | None = None
        self._started = False

    def due(self, state: str) -> bool:
        """True when the row should be written now (interval passed, or the state changed)."""
        return state != self._state or time.monotonic() - self._last >= self.interval_s

    def beat(self, conn: psycopg.Connection, state: str) -> None:
        """Writes the row if due. Errors are the caller's (its connection is in trouble); a
        failed attempt waits for the next interval like a successful one."""
        if not self.due(state):
            return
        self._state, self._last = state, time.monotonic()
        first = not self._started
        if first:
            conn.execute(
                f"DELETE FROM process_heartbeats WHERE beat_at < clock_timestamp()"
                f" - interval '{FORGET_AFTER}'"
            )
        conn.execute(_UPSERT, (self.process, self.host, os.getpid(), state, first))
        self._started = True

    def forget(self, db: Database) -> None:
        """Removes the row on a clean stop, so that a stopped process is not taken for a hung one.
        Best effort: on the way out, a database that does not answer changes nothing."""
        if not self._started:
            return
        try:
            with db.connect(autocommit=True, connect_timeout=3) as conn:
                conn.execute(
                    "DELETE FROM process_heartbeats WHERE process = %s AND host = %s AND pid = %s",
                    (self.process, self.host, os.getpid()),
                )
        except psycopg.Error as e:
            log.info("could not remove the %s heartbeat: %s", self.process, type(e).__name__)
        self._started = False
        self._state = None


@dataclass(frozen=True)
class Beat:
    """One process's row as read, with its age by the database's clock."""

    process: str
    host: str
    pid: int
    state: str
    age_s: float
    up_s: float

    @property
    def alive(self) -> bool:
        return self.age_s <= STALE_S


def beats(conn: psycopg.Connection) -> list[Beat]:
    """Every row of the service (connected to its schema), freshest first."""
    rows = conn.execute(
        "SELECT process, host, pid, state,"
        " extract(epoch FROM clock_timestamp() - beat_at)::float8,"
        " extract(epoch FROM beat_at - started_at)::float8"
        " FROM process_heartbeats ORDER BY beat_at DESC"
    ).fetchall()
    return [Beat(*row) for row in rows]
