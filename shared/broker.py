"""RabbitMQ: connections and the idempotent topology every process declares before it works.

One durable topic exchange `cs.events` (routing key = event type) and `cs.inbound` for what
outside channels send in. Each consuming service has one quorum queue `<service>.events`, bound
only to the types it handles, and a quorum dead-letter queue `<service>.dead`. The broker itself
dead-letters a message redelivered too often (a handler that crashes its process); the consumer
dead-letters one that keeps failing, with the error in its headers.
"""

from __future__ import annotations

from collections.abc import Iterable

import pika
from pika.adapters.blocking_connection import BlockingChannel

from shared.config import Settings
from shared.events.catalogue import CATALOGUE, EVENTS_EXCHANGE, INBOUND_EXCHANGE

DELIVERY_LIMIT = 20


def connect(settings: Settings, *, name: str = "cs") -> pika.BlockingConnection:
    """A connection to the first node that answers: AMQP_URL may list a cluster's nodes,
    separated by commas."""
    nodes = []
    for url in settings.amqp_url.split(","):
        params = pika.URLParameters(url.strip())
        params.heartbeat = 30
        params.blocked_connection_timeout = 60
        params.socket_timeout = 5
        params.connection_attempts = 1
        params.client_properties = {"connection_name": name}
        nodes.append(params)
    return pika.BlockingConnection(nodes)


def events_queue(settings: Settings, service: str) -> str:
    return settings.queue(f"{service}.events")


def dead_letter_queue(settings: Settings, service: str) -> str:
    return settings.queue(f"{service}.dead")


def declare_exchanges(channel: BlockingChannel, settings: Settings) -> None:
    for name in (EVENTS_EXCHANGE, INBOUND_EXCHANGE):
        channel.exchange_declare(settings.exchange(name), exchange_type="topic", durable=True)


def declare_service_queues(
    channel: BlockingChannel, settings: Settings, service: str, types: Iterable[str]
) -> None:
    """The service's queue (bound to `types`) and its dead-letter queue."""
    declare_exchanges(channel, settings)
    queue, dead = events_queue(settings, service), dead_letter_queue(settings, service)
    channel.queue_declare(dead, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_declare(
        queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": dead,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )
    for type_ in types:
        exchange = settings.exchange(CATALOGUE[type_].exchange)
        channel.queue_bind(queue, exchange, routing_key=type_)


def exchange_for(settings: Settings, event_type: str) -> str:
    return settings.exchange(CATALOGUE[event_type].exchange)
