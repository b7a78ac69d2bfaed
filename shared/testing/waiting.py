"""Waiting for asynchronous work to finish, without sleeping longer than needed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pika

from shared.broker import connect, exchange_for
from shared.config import Settings
from shared.db import Database
from shared.events import Event

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


def publish(settings: Settings, *events: Event, body: bytes | None = None) -> None:
    """Publishes events as another system would (with confirms), to their exchange."""
    conn = connect(settings, name="test-publisher")
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        for event in events:
            channel.basic_publish(
                exchange_for(settings, event.type),
                event.type,
                body if body is not None else event.to_json(),
                pika.BasicProperties(
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=event.id,
                    type=event.type,
                    content_type="application/cloudevents+json",
                ),
            )
    finally:
        conn.close()


def publish_and_wait(settings: Settings, db: Database, event: Event, timeout: float = 10.0) -> None:
    """Publish this event and wait until the consuming service's handler has committed it."""
    publish(settings, event)
    wait_handled(db, event.id, timeout)
