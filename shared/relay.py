"""The outbox relay: publishes a service's committed events, in write order, and marks them.

One relay per service is active at a time (a session advisory lock; others wait as standbys), so
events leave in `seq` order. It publishes each claimed batch inside one AMQP transaction and
marks the rows published only after the broker committed it: a crash in between publishes the
batch again (at least once; consumers are idempotent), never loses it. It sleeps on
LISTEN/NOTIFY, polls as a fallback, and reconnects to the broker and the database with backoff.
An active relay opens its broker channel at once, so a heartbeat (shared/heartbeat.py) means
"holding the lock and connected to both"; a standby beats as `standby`.
Woken, it waits `CS_RELAY_COALESCE_S` (10 ms) so that commits arriving together leave in one
AMQP transaction rather than one each.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

import pika
import pika.exceptions
import psycopg

from shared import metrics
from shared.broker import (
    Message,
    connect,
    declare_exchanges,
    exchange_for,
    publish_in_transaction,
    publish_properties,
)
from shared.config import Settings
from shared.db import Database
from shared.heartbeat import Heartbeat
from shared.outbox import claim_unpublished, mark_published, notify_channel

log = logging.getLogger(__name__)
_BROKER_ERRORS = (pika.exceptions.AMQPError, OSError)


class Relay:
    def __init__(
        self, settings: Settings, service: str, *, stop: threading.Event | None = None
    ) -> None:
        self.settings = settings
        self.service = service
        self.db = Database(settings, service)
        self.stop = stop or threading.Event()
        self.published = 0
        self._amqp: pika.BlockingConnection | None = None
        self._channel = None
        self.heartbeat = Heartbeat("relay")

    def run(self) -> None:
        """Runs until `stop` is set, surviving broker and database outages."""
        delay = 0.2
        while not self.stop.is_set():
            try:
                self._run_connected()
                delay = 0.2
            except (psycopg.OperationalError, psycopg.InterfaceError, *_BROKER_ERRORS) as e:
                log.warning(
                    "relay connection lost (%s); retrying in %.1fs", type(e).__name__, delay
                )
                self._close_broker()
                self.stop.wait(delay)
                delay = min(delay * 2, 5.0)
        self._close_broker()
        self.heartbeat.forget(self.db)

    def _run_connected(self) -> None:
        with self.db.connect(autocommit=True) as conn:
            if not self._become_active(conn):
                return
            conn.execute(f"LISTEN {notify_channel(self.db.schema)}")
            self._broker_channel()
            log.info("relay for %s is active", self.service)
            while not self.stop.is_set():
                self.heartbeat.beat(conn, "active")
                published = self.drain_once(conn)
                if published >= self.settings.relay_batch:
                    continue  # a backlog: the next full batch at once
                if published == 0:
                    for _ in conn.notifies(timeout=self.settings.relay_poll_s, stop_after=1):
                        pass
                    if self._amqp is not None:
                        self._amqp.process_data_events(time_limit=0)
                # events come in bursts of commits: a few ms lets the next ones join this batch
                self.stop.wait(self.settings.relay_coalesce_s)

    def _become_active(self, conn: psycopg.Connection) -> bool:
        """Waits, as a standby, until this relay holds the service's relay lock."""
        key = f"cs-relay:{self.db.schema}"
        while not self.stop.is_set():
            got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]
            if got:
                return True
            self.heartbeat.beat(conn, "standby")
            self.stop.wait(self.settings.relay_poll_s)
        return False

    def drain_once(self, conn: psycopg.Connection) -> int:
        """Publishes one batch of unpublished rows; returns how many."""
        rows = claim_unpublished(conn, self.settings.relay_batch)
        if not rows:
            return 0
        publish_in_transaction(
            self._broker_channel(),
            (
                Message(
                    exchange_for(self.settings, row.type),
                    row.type,
                    row.body,
                    publish_properties(row.event_id, row.type, row.subject, self.service),
                )
                for row in rows
            ),
        )
        mark_published(conn, [r.seq for r in rows])
        self.published += len(rows)
        for type_, n in Counter(r.type for r in rows).items():
            metrics.OUTBOX_PUBLISHED.labels(self.service, metrics.type_label(type_)).inc(n)
        return len(rows)

    def _broker_channel(self):  # type: ignore[no-untyped-def]
        if self._channel is None or self._channel.is_closed:
            self._close_broker()
            self._amqp = connect(self.settings, name=f"{self.service}-relay", user=self.service)
            self._channel = self._amqp.channel()
            declare_exchanges(self._channel, self.settings)
            self._channel.tx_select()
        return self._channel

    def _close_broker(self) -> None:
        if self._amqp is not None:
            try:
                if self._amqp.is_open:
                    self._amqp.close()
            except Exception:  # closing a broken connection may fail; it is gone either way
                pass
        self._amqp = None
        self._channel = None
