"""Operators' view of a service's dead-letter queue: list what is there, replay it.

Replaying sends a message back to the service's own partitions only (its partition exchange),
never to `cs.events`, so other services do not see it twice. The service republishes it as
itself and names the first producer in `x-producer`, which its consumer checks as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pika

from shared.broker import PARTITION_KEY, connect, dead_letter_queue, partition_exchange
from shared.config import Settings
from shared.consumer import PRODUCER, REPLAYED

_DROP_ON_REPLAY = (
    "x-error",
    "x-failed-at",
    "x-attempts",
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
    "x-delivery-count",
)


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    type: str | None
    error: str
    failed_at: str | None
    attempts: int | None
    headers: dict[str, Any]


def _describe(props: pika.BasicProperties) -> DeadLetter:
    headers = dict(props.headers or {})
    error = headers.get("x-error")
    if error is None and headers.get("x-death"):
        # dead-lettered by the broker: redelivered past the queue's delivery limit
        error = f"broker: {headers.get('x-first-death-reason', 'delivery_limit')}"
    return DeadLetter(
        message_id=props.message_id,
        type=props.type,
        error=str(error or "unknown"),
        failed_at=headers.get("x-failed-at"),
        attempts=headers.get("x-attempts"),
        headers=headers,
    )


def list_dead_letters(settings: Settings, service: str, limit: int = 1000) -> list[DeadLetter]:
    """Reads without removing: the messages return to the queue when the channel closes."""
    conn = connect(settings, name=f"{service}-dead-letters", user=service)
    try:
        channel = conn.channel()
        found = []
        for _ in range(limit):
            method, props, _body = channel.basic_get(dead_letter_queue(settings, service))
            if method is None:
                break
            found.append(_describe(props))
        return found
    finally:
        conn.close()


def replay_dead_letters(
    settings: Settings, service: str, message_id: str | None = None, limit: int = 100000
) -> int:
    """Moves dead letters (all, or the one with `message_id`) back to the service's queues."""
    return move_to_partitions(
        settings, service, dead_letter_queue(settings, service), message_id, limit
    )


def move_to_partitions(
    settings: Settings,
    service: str,
    queue: str,
    message_id: str | None = None,
    limit: int = 100000,
) -> int:
    """Moves messages (all, or the one with `message_id`) from `queue` — the dead letters, or
    a queue `cs migrate` retires — into the service's partitions, republished by the service
    with the first producer named. Returns how many moved."""
    conn = connect(settings, name=f"{service}-dead-letters", user=service)
    moved = 0
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        for _ in range(limit):
            method, props, body = channel.basic_get(queue)
            if method is None:
                break
            if message_id and props.message_id != message_id:
                continue  # left unacked: back in the queue when the channel closes
            headers = {k: v for k, v in (props.headers or {}).items() if k not in _DROP_ON_REPLAY}
            headers[REPLAYED] = True
            headers.setdefault(PRODUCER, props.user_id)  # not dead-lettered by the consumer
            headers.setdefault(PARTITION_KEY, props.message_id)
            channel.basic_publish(
                partition_exchange(settings, service),
                props.type or "",
                body,
                pika.BasicProperties(
                    content_type=props.content_type,
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=props.message_id,
                    type=props.type,
                    user_id=service,
                    headers=headers,
                ),
            )
            channel.basic_ack(method.delivery_tag)
            moved += 1
        return moved
    finally:
        conn.close()
