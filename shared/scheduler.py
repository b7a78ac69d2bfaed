"""Periodic work of a service (clocks that pass their warning or deadline, follow-ups falling
due, daily checks), run by `cs schedule SERVICE` in its own process.

One scheduler per service is active at a time (a session advisory lock; others wait as
standbys). Each tick calls the service's job with the current time; the job does one batch in
its own transaction and marks what it did in the same transaction as the events it emits, so
nothing is done twice across restarts. A full batch means more is waiting: tick again at once.
Active or standby, it keeps its heartbeat (shared/heartbeat.py) fresh on its lock connection,
also while it waits between rounds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

import psycopg

from shared import clock, metrics
from shared.config import Settings
from shared.db import Database
from shared.heartbeat import Heartbeat

log = logging.getLogger(__name__)
Job = Callable[[Database, datetime], int]
BATCH = 500


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        service: str,
        job: Job,
        *,
        stop: threading.Event | None = None,
        interval_s: float | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        self.job = job
        self.db = Database(settings, service)
        self.stop = stop or threading.Event()
        self.interval_s = interval_s if interval_s is not None else settings.scheduler_interval_s
        self.ticks = 0
        self.heartbeat = Heartbeat("scheduler")

    def run(self) -> None:
        delay = 0.2
        while not self.stop.is_set():
            try:
                self._run_active()
                delay = 0.2
            except (psycopg.OperationalError, psycopg.InterfaceError) as e:
                log.warning(
                    "scheduler lost the database (%s); retrying in %.1fs", type(e).__name__, delay
                )
                self.db.close()
                self.stop.wait(delay)
                delay = min(delay * 2, 5.0)
        self.heartbeat.forget(self.db)
        self.db.close()

    def _run_active(self) -> None:
        with self.db.connect(autocommit=True) as lock_conn:
            key = f"cs-scheduler:{self.service}"
            while not lock_conn.execute(
                "SELECT pg_try_advisory_lock(hashtext(%s))", (key,)
            ).fetchone()[0]:
                if self._wait(lock_conn, "standby"):
                    return
            log.info("scheduler for %s is active", self.service)
            while not self.stop.is_set():
                self.heartbeat.beat(lock_conn, "active")
                started = time.perf_counter()
                done = self.job(self.db, clock.now())
                self.ticks += 1
                metrics.SCHEDULER_TICKS.labels(self.service).inc()
                metrics.SCHEDULER_DONE.labels(self.service).inc(done)
                metrics.SCHEDULER_TICK_SECONDS.labels(self.service).observe(
                    time.perf_counter() - started
                )
                if done < BATCH:
                    self._wait(lock_conn, "active")
                lock_conn.execute("SELECT 1")  # notice a lost lock connection early

    def _wait(self, lock_conn: psycopg.Connection, state: str) -> bool:
        """Waits one interval, beating meanwhile; True when asked to stop."""
        end = time.monotonic() + self.interval_s
        while (left := end - time.monotonic()) > 0:
            self.heartbeat.beat(lock_conn, state)
            if self.stop.wait(min(left, self.heartbeat.interval_s)):
                return True
        return self.stop.is_set()
