"""Waiting for asynchronous work to finish, without sleeping longer than needed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from shared.broker import connect, partition_queues, publish_properties
from shared.config import SERVICES, Settings
from shared.db import Database
from shared.events import Event
from shared.events.catalogue import CATALOGUE, exchange_of

T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """Calls `check` until it returns something truthy; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def outbox_backlog(db: Database) -> int:
    with db.transaction() as tx:
        return tx.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]


def wait_outbox_drained(db: Database, timeout: float = 10.0) -> None:
    wait_until(lambda: outbox_backlog(db) == 0, timeout, f"{db.service}'s outbox to drain")


def handled(db: Database, event_id: str) -> bool:
    with db.transaction() as tx:
        return (
            tx.execute("SELECT 1 FROM inbox WHERE event_id = %s", (event_id,)).fetchone()
            is not None
        )


def wait_handled(db: Database, event_id: str, timeout: float = 10.0) -> None:
    """Until the service's consumer has committed its handler for this event."""
    wait_until(lambda: handled(db, event_id), timeout, f"{db.service} to handle event {event_id}")


def queued(settings: Settings, service: str) -> int:
    """Messages waiting in the service's partition queues."""
    conn = connect(settings, name="test-queued")
    try:
        channel = conn.channel()
        return sum(
            channel.queue_declare(q, passive=True).method.message_count
            for q in partition_queues(settings, service)
        )
    finally:
        conn.close()


def producer_of(event: Event) -> str:
    """The broker user an event's source stands for: the service it names, else the outside
    system that sends that type."""
    producers = CATALOGUE[event.type].producers
    name = event.source.strip("/")
    if name in producers:
        return name
    outside = [p for p in producers if p not in SERVICES]
    return outside[0] if outside else producers[0]


def publish(
    settings: Settings, *events: Event, body: bytes | None = None, as_user: str | None = None
) -> None:
    """Publishes events as their producers would (each as its own broker user, to its
    exchange, with confirms); `as_user` publishes them the same way as someone else (a forger;
    `as_user=""`: AMQP_URL's own user)."""
    by_user: dict[str, list[Event]] = {}
    for event in events:
        by_user.setdefault(producer_of(event) if as_user is None else as_user, []).append(event)
    for user, mine in by_user.items():
        conn = connect(settings, name="test-publisher", user=user or None)
        try:
            channel = conn.channel()
            channel.confirm_delivery()
            stamp = user or unquote(urlsplit(settings.amqp_url.split(",")[0]).username or "")
            for event in mine:
                channel.basic_publish(
                    settings.exchange(exchange_of(producer_of(event))),
                    event.type,
                    body if body is not None else event.to_json(),
                    publish_properties(event.id, event.type, event.subject, stamp),
                )
        finally:
            conn.close()


def publish_and_wait(settings: Settings, db: Database, event: Event, timeout: float = 10.0) -> None:
    """Publish this event and wait until the consuming service's handler has committed it."""
    publish(settings, event)
    wait_handled(db, event.id, timeout)
