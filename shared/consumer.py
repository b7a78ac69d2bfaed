"""The idempotent consumer: one handler per event type, exactly-once effects on top of
at-least-once delivery.

For each message: parse and validate the envelope and data (an invalid event goes straight to
the dead-letter queue with its reason); then, in one database transaction, record the event id
in the inbox and run the handler — an id already there means the event was handled before, and
nothing changes. The ack goes out after the commit. A handler that fails is retried with
exponential backoff; after the last attempt the event is published to the service's dead-letter
queue with the error (with publisher confirms) and only then acked.

Between two reads of its queue the consumer keeps its heartbeat fresh (shared/heartbeat.py):
alive, connected to the broker, and able to write to its database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import pika
import pika.exceptions
import psycopg
from psycopg_pool import PoolTimeout

from shared import clock, metrics
from shared.broker import connect, dead_letter_queue, declare_service_queues, events_queue
from shared.config import Settings
from shared.db import Database, Transaction
from shared.events.catalogue import InvalidEvent
from shared.events.envelope import Event, parse_event
from shared.heartbeat import Heartbeat
from shared.logs import correlation_id, scrub
from shared.service import Handler

log = logging.getLogger(__name__)
_RETRYABLE_CONNECTION = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.ChannelClosed,
    OSError,
)


class Consumer:
    def __init__(
        self,
        settings: Settings,
        service: str,
        handlers: Mapping[str, Handler],
        *,
        db: Database | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        self.handlers = dict(handlers)
        self.db = db or Database(settings, service)
        self.stop = stop or threading.Event()
        self.queue = events_queue(settings, service)
        self.dead_queue = dead_letter_queue(settings, service)
        self.ready = threading.Event()
        self.heartbeat = Heartbeat("consumer")
        self._connection: pika.BlockingConnection | None = None

    def run(self) -> None:
        """Consumes until `stop` is set; reconnects to the broker with backoff."""
        delay = 0.2
        while not self.stop.is_set():
            try:
                self._consume()
                delay = 0.2
            except _RETRYABLE_CONNECTION as e:
                log.warning(
                    "consumer connection lost (%s); retrying in %.1fs", type(e).__name__, delay
                )
                self.stop.wait(delay)
                delay = min(delay * 2, 5.0)
        self.heartbeat.forget(self.db)

    def _consume(self) -> None:
        conn = connect(self.settings, name=f"{self.service}-consumer")
        self._connection = conn
        try:
            channel = conn.channel()
            declare_service_queues(channel, self.settings, self.service, self.handlers)
            channel.basic_qos(prefetch_count=self.settings.consumer_prefetch)
            dead_channel = conn.channel()
            dead_channel.confirm_delivery()
            self.ready.set()
            pending: list[tuple[Any, pika.BasicProperties, bytes]] = []
            # a short idle timeout: what has arrived is handled as soon as the queue pauses
            for method, props, body in channel.consume(self.queue, inactivity_timeout=0.01):
                if self.stop.is_set():
                    break
                self._beat()
                if method is not None:
                    pending.append((method, props, body))
                    if len(pending) < self.settings.consumer_batch:
                        continue
                if pending:
                    done = self._handle_batch(channel, dead_channel, pending)
                    pending = []
                    if not done:
                        break
        finally:
            self.ready.clear()
            self._connection = None
            try:
                if conn.is_open:
                    conn.close()
            except Exception:  # the connection may already be broken
                pass

    def _beat(self) -> None:
        """The heartbeat, when due; a database that does not answer just leaves it stale."""
        if not self.heartbeat.due("consuming"):
            return
        try:
            with self.db.transaction() as tx:
                self.heartbeat.beat(tx.conn, "consuming")
        except (psycopg.Error, PoolTimeout) as e:
            log.warning("cannot write the heartbeat: %s", type(e).__name__)

    def _handle_batch(self, channel, dead_channel, pending) -> bool:  # type: ignore[no-untyped-def]
        """Handles the messages that arrived together, then acks them.

        The valid ones are applied in one transaction (each with its inbox row), which is what
        makes a backlog drain fast; if any handler fails, that transaction is rolled back and
        each event is applied on its own, with retries and dead-lettering as usual. Returns
        False when the rest must stay unacknowledged (stopped while the database was away).
        """
        metrics.CONSUMER_BATCH.labels(self.service).observe(len(pending))
        ready = []
        for method, props, body in pending:
            prepared = self._prepare(body, props, method.routing_key, dead_channel)
            if prepared is not None:
                ready.append((method, props, body, *prepared))
        if len(ready) > 1 and self._apply_together([(e, h) for _, _, _, e, h in ready]):
            ready = []
        for method, props, body, event, handler in ready:
            token = correlation_id.set(event.correlationid)
            try:
                if not self._apply_with_retries(
                    event, handler, body, props, method.routing_key, dead_channel
                ):
                    return False
            finally:
                correlation_id.reset(token)
        channel.basic_ack(pending[-1][0].delivery_tag, multiple=True)
        return True

    def _prepare(
        self, body: bytes, props: pika.BasicProperties, routing_key: str, dead_channel
    ) -> tuple[Event, Handler] | None:  # type: ignore[no-untyped-def]
        """The event and its handler, or None once an invalid or unhandled one is dead-lettered."""
        try:
            event = parse_event(body)
        except InvalidEvent as e:
            self._dead_letter(dead_channel, body, props, routing_key, "invalid event", str(e), 0)
            return None
        handler = self.handlers.get(event.type)
        if handler is None:
            self._dead_letter(dead_channel, body, props, routing_key, "no handler", event.type, 0)
            return None
        return event, handler

    def _apply_together(self, items: list[tuple[Event, Handler]]) -> bool:
        """All in one transaction; False (nothing written) when any of them fails."""
        fresh = []
        try:
            with self.db.transaction() as tx:
                for event, handler in items:
                    token = correlation_id.set(event.correlationid)
                    try:
                        fresh.append(self._apply_in(tx, event, handler))
                    finally:
                        correlation_id.reset(token)
        except Exception:  # one by one now: the failing event retries and dead-letters alone
            log.info("a batch of %d failed; applying its events one by one", len(items))
            return False
        for (event, _), was_fresh in zip(items, fresh, strict=True):
            self._count_applied(event, was_fresh)
        return True

    def _count_applied(self, event: Event, fresh: bool) -> None:
        kind = metrics.type_label(event.type)
        metrics.CONSUMED.labels(self.service, kind).inc()
        if not fresh:
            metrics.DUPLICATES.labels(self.service, kind).inc()
        lag = (clock.now() - event.time).total_seconds()
        metrics.CONSUMER_LAG.labels(self.service).observe(max(lag, 0.0))

    def _apply_with_retries(self, event, handler, body, props, routing_key, dead_channel) -> bool:  # type: ignore[no-untyped-def]
        """Applies the event; False when stopped during a database outage (leave it unacked)."""
        attempts = max(1, self.settings.consumer_max_attempts)
        attempt, outage_delay = 0, 0.2
        while True:
            try:
                self._count_applied(event, self.apply(event, handler))
                return True
            except Exception as e:
                if _database_unavailable(e):
                    # not the event's fault: wait for the database without spending an attempt
                    log.warning(
                        "database unavailable (%s); waiting %.1fs", type(e).__name__, outage_delay
                    )
                    if self._pause(outage_delay):
                        return False
                    outage_delay = min(outage_delay * 2, 5.0)
                    continue
                attempt += 1
                metrics.FAILED.labels(self.service, metrics.type_label(event.type)).inc()
                log.warning(
                    "handler for %s failed (attempt %d/%d): %s",
                    event.type,
                    attempt,
                    attempts,
                    type(e).__name__,
                    extra={"event_id": event.id, "event_type": event.type},
                )
                if attempt >= attempts:
                    reason = f"{type(e).__name__}: {e}"
                    self._dead_letter(
                        dead_channel, body, props, routing_key, "handler failed", reason, attempt
                    )
                    return True
                self._pause(self.settings.consumer_retry_base_s * 2 ** (attempt - 1))

    def _pause(self, seconds: float) -> bool:
        """Waits, keeping the broker connection's heartbeats going; True when asked to stop."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0 and not self.stop.is_set():
            if self._connection is not None and self._connection.is_open:
                self._connection.sleep(min(left, 0.2))
            else:
                self.stop.wait(min(left, 0.2))
        return self.stop.is_set()

    def apply(self, event: Event, handler: Handler) -> bool:
        """Inbox row and handler in one transaction; False when the event was already handled."""
        with self.db.transaction() as tx:
            return self._apply_in(tx, event, handler)

    @staticmethod
    def _apply_in(tx: Transaction, event: Event, handler: Handler) -> bool:
        fresh = tx.execute(
            "INSERT INTO inbox (event_id, type) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (event.id, event.type),
        ).rowcount
        if fresh:
            handler(tx, event)
        return bool(fresh)

    def _dead_letter(
        self,
        channel,  # type: ignore[no-untyped-def]
        body: bytes,
        props: pika.BasicProperties,
        routing_key: str,
        why: str,
        detail: str,
        attempts: int,
    ) -> None:
        detail = scrub(detail)[:2000]
        headers = dict(props.headers or {})
        headers.update(
            {
                "x-error": f"{why}: {detail}",
                "x-failed-at": clock.now().isoformat(),
                "x-attempts": attempts,
                "x-original-routing-key": routing_key,
                "x-service": self.service,
            }
        )
        channel.basic_publish(
            "",
            self.dead_queue,
            body,
            pika.BasicProperties(
                content_type=props.content_type,
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=props.message_id,
                type=props.type or routing_key,
                headers=headers,
            ),
        )
        metrics.DEAD_LETTERED.labels(
            self.service, metrics.type_label(props.type or routing_key), metrics.reason_label(why)
        ).inc()
        log.error("dead-lettered a %s message: %s", routing_key, why)


def _database_unavailable(error: Exception) -> bool:
    """A lost or refused connection, or no pooled connection in time: an outage, not a bug."""
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError)):
        state = error.sqlstate or ""
        return state == "" or state.startswith(("08", "57P"))
    return False
