"""The relay floor: raw pika, one BlockingConnection, AMQP transactions (tx_select) of 500."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pika


def publish(
    amqp_url: str,
    exchange: str,
    routing_key: str,
    messages: Sequence[tuple[str, bytes]],
    batch: int = 500,
) -> float:
    """Publishes (message_id, body) pairs persistently, tx_commit every `batch`; returns seconds."""
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        ch.tx_select()
        started = time.perf_counter()
        for i, (message_id, body) in enumerate(messages, 1):
            ch.basic_publish(
                exchange,
                routing_key,
                body,
                pika.BasicProperties(
                    content_type="application/cloudevents+json",
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=message_id,
                    type=routing_key,
                ),
            )
            if i % batch == 0:
                ch.tx_commit()
        ch.tx_commit()
        return time.perf_counter() - started
    finally:
        conn.close()
