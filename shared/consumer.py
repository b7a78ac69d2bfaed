"""The consumer: events from allowed producers only, applied once each, in order per key.

Order. A service's events arrive on N partition queues (shared/broker.py), a key's events all in
one of them, each queue with a single active consumer. Every consumer process subscribes to
every partition, each on a connection of its own; the broker makes each process the active
consumer of some and keeps the others waiting, and hands a partition over when its consumer
goes. Within a partition deliveries are applied in the order they came. A process lets go of a
partition only by dropping that connection (`shared.broker.drop`): the broker then puts what
it had not acknowledged back at the head before the next consumer starts.

Trust. Before anything else, the producer: the broker-checked `user_id` must be one the
catalogue allows for the type, and the routing key must be the type the body carries; anything
else is dead-lettered ("unauthorized producer", "invalid event") and never acted on.

Exactly once. Valid events are applied in one database transaction per batch, its inbox rows
written by one statement (an id already there means it was handled before and nothing changes);
if any handler fails, each is applied on its own. Within the batch a key's events keep their
order and the rest are grouped by type, so a handler made `shared.service.batched` takes all of
its type at once (a burst's thousands of cases cost a statement per batch, not one per case).
Acks go out after the commit. A handler that keeps failing is
retried with backoff, then published to the dead-letter queue with its error (with confirms),
and only then acked.

Waiting. A handler that needs an event it has not seen yet raises `NotYet`: that delivery is
held, with what comes after it in its partition, and tried again with backoff until it
applies, at most `CS_CONSUMER_WAIT_S` (an event already that old waits a few seconds only: a
restart does not start its wait again), then dead-lettered saying what never came. The held
ones that do not wait are applied meanwhile, a key's in their order; when one of a key applies,
that key's waiting ones are tried again at once (what they wait for may have come behind them).

Sharing. Every `CS_CONSUMER_REBALANCE_S` a process compares the partitions it received events
from lately (in the last few rounds) with its fair share (partitions / live consumer processes,
from their heartbeats) and hands the surplus over: it drops that partition's connection and
subscribes again at the back of the queue's line, where another replica waits to take it.
Stopping drops them all the same way.

Between two reads of its queues the consumer keeps its heartbeat fresh (shared/heartbeat.py):
alive, connected to the broker, and able to write to its database.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import math
import os
import random
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import pika
import pika.exceptions
import psycopg
from pika.adapters.blocking_connection import BlockingChannel
from psycopg_pool import PoolTimeout

from shared import clock, metrics
from shared.broker import (
    connect,
    dead_letter_queue,
    declare_service_queues,
    drop,
    partition_queues,
)
from shared.config import Settings
from shared.db import Database, Transaction
from shared.errors import NotYet
from shared.events.catalogue import CATALOGUE, InvalidEvent
from shared.events.envelope import Event, parse_event
from shared.heartbeat import Heartbeat, beats
from shared.logs import correlated, scrub
from shared.service import Handler

log = logging.getLogger(__name__)
_RETRYABLE_CONNECTION = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.ChannelClosed,
    OSError,
)
# a replayed dead letter is republished by the service itself and names its first producer
REPLAYED, PRODUCER = "x-replayed", "x-producer"
# an event older than CS_CONSUMER_WAIT_S whose predecessor is still missing waits this long more
_GRACE_S = 10.0


class _Outcome(enum.Enum):
    DONE = "done"
    WAITING = "waiting"
    STOPPED = "stopped"


@dataclass
class _Waiting:
    """A key whose next event waits for one of another key (`NotYet`)."""

    what: str
    since: float
    next_try: float
    tries: int = 0


@dataclass
class _Delivery:
    tag: int
    queue: str
    routing_key: str
    props: pika.BasicProperties
    body: bytes
    # the channel it came on: a tag means something on that channel only
    channel: BlockingChannel | None = None
    event: Event | None = None
    handler: Handler | None = None
    waiting: _Waiting | None = None  # set while it waits for an event it needs (NotYet)


# rounds of CS_CONSUMER_REBALANCE_S a partition counts as this process's after its last event
ACTIVE_ROUNDS = 5


@dataclass
class _Partition:
    queue: str
    connection: pika.BlockingConnection | None = None
    channel: BlockingChannel | None = None
    # when this process last received from it (monotonic): recently means it is the active one
    delivered_at: float | None = None
    # deliveries not applied yet because something of the partition waits, in arrival order
    held: deque[_Delivery] = field(default_factory=deque)


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
        self.dead_queue = dead_letter_queue(settings, service)
        self.ready = threading.Event()
        self.heartbeat = Heartbeat("consumer")
        self._dead_connection: pika.BlockingConnection | None = None
        self._dead_channel: BlockingChannel | None = None
        self._partitions: dict[str, _Partition] = {}
        self._arrived: list[_Delivery] = []

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
        """Subscribes to every partition, each on a connection of its own, and applies what
        arrives until stopped; on the way out every partition is released (`_release`)."""
        dead = connect(self.settings, name=f"{self.service}-consumer", user=self.service)
        self._dead_connection = dead
        try:
            self._dead_channel = dead.channel()
            declare_service_queues(self._dead_channel, self.settings, self.service, self.handlers)
            self._dead_channel.confirm_delivery()
            self._partitions = {
                q: _Partition(q) for q in partition_queues(self.settings, self.service)
            }
            # replicas that start together each come first in the line of different partitions
            order = list(self._partitions.values())
            random.shuffle(order)
            for partition in order:
                self._subscribe(partition)
            self.ready.set()
            rebalance_at = time.monotonic() + self.settings.consumer_rebalance_s
            while not self.stop.is_set():
                self._beat()
                before = len(self._arrived)
                self._poll()
                full = len(self._arrived) >= self.settings.consumer_batch
                if self._arrived and (full or len(self._arrived) == before):
                    arrived, self._arrived = self._arrived, []
                    if not self._handle(arrived):
                        break
                elif not self._arrived:
                    self.stop.wait(0.005)
                if not self._retry_held():
                    break
                if not self._arrived and time.monotonic() >= rebalance_at:
                    self._rebalance()
                    rebalance_at = time.monotonic() + self.settings.consumer_rebalance_s
        finally:
            self.ready.clear()
            for partition in self._partitions.values():
                if partition.connection is not None:
                    drop(partition.connection)
            self._partitions, self._arrived = {}, []
            self._dead_channel = self._dead_connection = None
            with contextlib.suppress(Exception):  # the connection may already be broken
                if dead.is_open:
                    dead.close()

    def _poll(self) -> None:
        """What each partition's connection has received (and its heartbeats)."""
        for partition in self._partitions.values():
            partition.connection.process_data_events(time_limit=0)
        self._dead_connection.process_data_events(time_limit=0)

    def _beat(self) -> None:
        """The heartbeat, when due; a database that does not answer just leaves it stale."""
        if not self.heartbeat.due("consuming"):
            return
        try:
            with self.db.transaction() as tx:
                self.heartbeat.beat(tx.conn, "consuming")
        except (psycopg.Error, PoolTimeout) as e:
            log.warning("cannot write the heartbeat: %s", type(e).__name__)

    def _subscribe(self, partition: _Partition) -> None:
        """A connection of the partition's own, consuming its queue: active at once, or in
        line behind other replicas."""
        connection = connect(
            self.settings, name=f"{self.service}-consumer-{os.getpid()}", user=self.service
        )
        channel = connection.channel()
        channel.basic_qos(prefetch_count=self.settings.consumer_prefetch)

        def arrived(_ch, method, props, body, queue=partition.queue) -> None:  # type: ignore[no-untyped-def]
            self._arrived.append(
                _Delivery(method.delivery_tag, queue, method.routing_key, props, body, channel)
            )

        channel.basic_consume(partition.queue, arrived)
        partition.connection, partition.channel = connection, channel

    def _release(self, partition: _Partition) -> None:
        """Hands the partition to the next replica in line, then gets in line again.

        What its connection delivered while being dropped is forgotten, unapplied: the broker
        gives it, in order, to the replica that takes over."""
        old = partition.channel
        drop(partition.connection)
        self._arrived = [d for d in self._arrived if d.channel is not old]
        partition.connection = partition.channel = None
        partition.delivered_at = None
        self._subscribe(partition)
        log.info("handed %s over to another consumer", partition.queue)

    # -- applying ------------------------------------------------------------------------

    def _handle(self, arrived: list[_Delivery]) -> bool:
        """Applies what arrived together, then acks it. False when the rest must stay
        unacknowledged (stopped while the database was away)."""
        metrics.CONSUMER_BATCH.labels(self.service).observe(len(arrived))
        ready: list[_Delivery] = []
        for d in arrived:
            partition = self._partitions[d.queue]
            partition.delivered_at = time.monotonic()
            if partition.held:
                partition.held.append(d)
            elif self._prepare(d):
                ready.append(d)
            else:
                self._ack(d)
        if len(ready) > 1 and self._apply_together(ready):
            self._ack_all(ready)
            return True
        for d in ready:  # one by one; what follows an event that waits is held behind it
            partition = self._partitions[d.queue]
            if partition.held:
                partition.held.append(d)
                continue
            outcome = self._apply_with_retries(d)
            if outcome is _Outcome.STOPPED:
                return False
            if outcome is _Outcome.WAITING:
                partition.held.append(d)
            else:
                self._ack(d)
        return self._retry_held()

    def _retry_held(self) -> bool:
        """Goes through each partition's held deliveries in order, applying those whose time
        has come. One that waits steps aside; the later ones of its key are tried too (one of
        them may be what it waits for, come around another way), and once any event of a key
        applies, that key's waiting ones are tried again at once, in order."""
        for partition in self._partitions.values():
            progress = True
            while partition.held and progress:
                progress = False
                now = time.monotonic()
                left: deque[_Delivery] = deque()
                while partition.held:
                    d = partition.held.popleft()
                    if d.event is None and not self._prepare(d):
                        self._ack(d)
                        continue
                    if d.waiting and now < d.waiting.next_try:
                        left.append(d)
                        continue
                    if d.waiting and self._waited_too_long(d.waiting, d.event, now):
                        waited = f"{now - d.waiting.since:.0f} s for {d.waiting.what}"
                        self._dead_letter(d, "waited too long", waited, 0)
                        self._ack(d)
                        continue
                    outcome = self._apply_with_retries(d)
                    if outcome is _Outcome.STOPPED:
                        partition.held = deque([*left, d, *partition.held])
                        return False
                    if outcome is _Outcome.WAITING:
                        left.append(d)
                        continue
                    self._ack(d)
                    for other in (*left, *partition.held):  # its key's waiting ones: again
                        if other.waiting and other.event.subject == d.event.subject:
                            other.waiting.next_try = now
                            progress = True
                partition.held = left
        return True

    def _waited_too_long(self, waiting: _Waiting, event: Event, now: float) -> bool:
        """`CS_CONSUMER_WAIT_S` of waiting here, or an event that old which has waited a little
        (it waited before this process started: a restart does not start its wait again)."""
        limit = self.settings.consumer_wait_s
        if now - waiting.since > limit:
            return True
        age = (clock.now() - event.time).total_seconds()
        return age > limit and now - waiting.since > min(limit, _GRACE_S)

    def _prepare(self, d: _Delivery) -> bool:
        """Checks the producer, then parses; False once a refused message is dead-lettered."""
        kind = CATALOGUE.get(d.routing_key)
        handler = self.handlers.get(d.routing_key)
        if kind is None:
            self._dead_letter(d, "invalid event", f"unknown type {d.routing_key[:100]!r}", 0)
            return False
        if handler is None:
            self._dead_letter(d, "no handler", d.routing_key, 0)
            return False
        producer = d.props.user_id
        headers = d.props.headers or {}
        if producer == self.service and headers.get(REPLAYED):
            producer = headers.get(PRODUCER)
        if producer not in kind.producers or producer == self.service:
            who = f"{producer!r}" if producer else "no user_id"
            self._dead_letter(d, "unauthorized producer", f"{who} may not publish {kind.name}", 0)
            return False
        try:
            event = parse_event(d.body)
        except InvalidEvent as e:
            self._dead_letter(d, "invalid event", str(e), 0)
            return False
        if event.type != d.routing_key:
            detail = f"routing key {d.routing_key} carries a {event.type[:100]}"
            self._dead_letter(d, "invalid event", detail, 0)
            return False
        d.event, d.handler = event, handler
        return True

    def _apply_together(self, items: list[_Delivery]) -> bool:
        """All in one transaction; False (nothing written) when any of them fails or waits.

        The inbox takes the batch's ids in one statement; the fresh events then go to their
        handlers in rounds (`_rounds`), a handler made `batched` taking its type's events of a
        round at once."""
        try:
            with self.db.transaction() as tx:
                fresh = _record_received(tx, [d.event for d in items])
                for handler, events in _rounds([d for d in items if d.event.id in fresh]):
                    many = getattr(handler, "many", None)
                    if many is not None:
                        many(tx, events)
                        continue
                    for event in events:
                        with correlated(event.correlationid):
                            handler(tx, event)
        except Exception:  # one by one now: the failing event retries and dead-letters alone
            log.info("a batch of %d failed; applying its events one by one", len(items))
            return False
        counted: set[str] = set()
        for d in items:
            self._count_applied(d.event, d.event.id in fresh and d.event.id not in counted)
            counted.add(d.event.id)
        return True

    def _count_applied(self, event: Event, fresh: bool) -> None:
        kind = metrics.type_label(event.type)
        metrics.CONSUMED.labels(self.service, kind).inc()
        if not fresh:
            metrics.DUPLICATES.labels(self.service, kind).inc()
        lag = (clock.now() - event.time).total_seconds()
        metrics.CONSUMER_LAG.labels(self.service).observe(max(lag, 0.0))

    def _apply_with_retries(self, d: _Delivery) -> _Outcome:
        """Applies one event: done (applied, or dead-lettered after its last attempt), waiting
        for a predecessor, or stopped during a database outage (leave it unacked)."""
        attempts = max(1, self.settings.consumer_max_attempts)
        attempt, outage_delay = 0, 0.2
        with correlated(d.event.correlationid):
            while True:
                try:
                    self._count_applied(d.event, self.apply(d.event, d.handler))
                    return _Outcome.DONE
                except NotYet as e:
                    self._wait(d, str(e))
                    return _Outcome.WAITING
                except Exception as e:
                    if _database_unavailable(e):
                        # not the event's fault: wait for the database without spending an attempt
                        log.warning(
                            "database unavailable (%s); waiting %.1fs",
                            type(e).__name__,
                            outage_delay,
                        )
                        if self._pause(outage_delay):
                            return _Outcome.STOPPED
                        outage_delay = min(outage_delay * 2, 5.0)
                        continue
                    attempt += 1
                    metrics.FAILED.labels(self.service, metrics.type_label(d.routing_key)).inc()
                    log.warning(
                        "handler for %s failed (attempt %d/%d): %s",
                        d.routing_key,
                        attempt,
                        attempts,
                        type(e).__name__,
                        extra={"event_id": d.event.id, "event_type": d.routing_key},
                    )
                    if attempt >= attempts:
                        reason = f"{type(e).__name__}: {e}"
                        self._dead_letter(d, "handler failed", reason, attempt)
                        return _Outcome.DONE
                    self._pause(self.settings.consumer_retry_base_s * 2 ** (attempt - 1))

    def _wait(self, d: _Delivery, what: str) -> None:
        now = time.monotonic()
        if d.waiting is None:
            d.waiting = _Waiting(what, since=now, next_try=now)
            log.info("a %s event waits for %s", self.service, scrub(what)[:200])
        d.waiting.what = what
        d.waiting.tries += 1
        d.waiting.next_try = now + min(0.02 * 2**d.waiting.tries, 1.0)

    def _pause(self, seconds: float) -> bool:
        """Waits, keeping the broker connections' heartbeats going; True when asked to stop."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0 and not self.stop.is_set():
            self.stop.wait(min(left, 0.2))
            if self._partitions:
                with contextlib.suppress(*_RETRYABLE_CONNECTION):
                    self._poll()
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

    # -- acknowledging, dead-lettering, sharing -----------------------------------------

    def _ack(self, d: _Delivery, multiple: bool = False) -> None:
        """Acks on the channel the delivery came on, while it is the partition's: after a
        handover the broker has put it back already (applied again, the inbox skips it), and
        its tag would name another message on the new channel."""
        if d.channel is self._partitions[d.queue].channel and d.channel.is_open:
            d.channel.basic_ack(d.tag, multiple=multiple)

    def _ack_all(self, items: list[_Delivery]) -> None:
        """Per partition, one ack for all when nothing earlier of it is held, else one each."""
        last: dict[str, _Delivery] = {}
        for d in items:
            if self._partitions[d.queue].held:
                self._ack(d)
            elif d.queue not in last or d.tag > last[d.queue].tag:
                last[d.queue] = d
        for d in last.values():
            self._ack(d, multiple=True)

    def _dead_letter(self, d: _Delivery, why: str, detail: str, attempts: int) -> None:
        detail = scrub(detail)[:2000]
        headers = dict(d.props.headers or {})
        headers.update(
            {
                "x-error": f"{why}: {detail}",
                "x-failed-at": clock.now().isoformat(),
                "x-attempts": attempts,
                "x-original-routing-key": d.routing_key[:255],
                "x-service": self.service,
            }
        )
        if not headers.get(REPLAYED):
            headers[PRODUCER] = d.props.user_id
        self._dead_channel.basic_publish(
            "",
            self.dead_queue,
            d.body,
            pika.BasicProperties(
                content_type=d.props.content_type,
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=d.props.message_id,
                type=d.routing_key[:255],
                headers=headers,
            ),
        )
        kind = metrics.type_label(d.routing_key)
        metrics.DEAD_LETTERED.labels(self.service, kind, metrics.reason_label(why)).inc()
        log.error("dead-lettered a %s message: %s", kind, why)

    def _rebalance(self) -> None:
        """Hands over the partitions beyond this process's fair share (see the module doc)."""
        partitions = list(self._partitions.values())
        # a partition that was quiet for one round may still be ours (a busy consumer reads
        # its queues in turn): those heard from in the last few rounds count
        recent = time.monotonic() - ACTIVE_ROUNDS * self.settings.consumer_rebalance_s
        active = [
            p for p in partitions if p.delivered_at and p.delivered_at >= recent and not p.held
        ]
        if len(active) <= 1:
            return
        try:  # the broker counts only a queue's active consumer: the live replicas say more
            with self.db.transaction() as tx:
                alive = [b for b in beats(tx.conn) if b.process == "consumer" and b.alive]
        except (psycopg.Error, PoolTimeout):
            return
        surplus = len(active) - math.ceil(len(partitions) / max(1, len(alive)))
        for partition in active[: max(0, surplus)]:
            self._release(partition)


def _record_received(tx: Transaction, events: list[Event]) -> set[str]:
    """Writes the inbox rows of a batch in one statement; the ids not there before (fresh)."""
    rows = tx.with_rows(
        "INSERT INTO inbox (event_id, type) SELECT * FROM {rows}"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        {"event_id": "text", "type": "text"},
        [{"event_id": e.id, "type": e.type} for e in events],
    )
    return {r[0] for r in rows}


def _rounds(items: list[_Delivery]) -> list[tuple[Handler, list[Event]]]:
    """A batch's events as (handler, events of one type) in an order that keeps each key's:
    round n holds every key's n-th event (keys are independent: only a key's own events are
    ordered), grouped by type in the order the types came. An id twice (a redelivery within
    the batch) is applied once."""
    seen: set[str] = set()
    position: dict[str, int] = {}
    rounds: list[dict[str, tuple[Handler, list[Event]]]] = []
    for d in items:
        if d.event.id in seen:
            continue
        seen.add(d.event.id)
        n = position.get(d.event.subject, 0)
        position[d.event.subject] = n + 1
        if n == len(rounds):
            rounds.append({})
        rounds[n].setdefault(d.event.type, (d.handler, []))[1].append(d.event)
    return [group for by_type in rounds for group in by_type.values()]


def _database_unavailable(error: Exception) -> bool:
    """A lost or refused connection, or no pooled connection in time: an outage, not a bug."""
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError)):
        state = error.sqlstate or ""
        return state == "" or state.startswith(("08", "57P"))
    return False
