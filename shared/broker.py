"""RabbitMQ: connections and the idempotent topology every process declares before it works.

Two durable topic exchanges: `cs.events` between services (routing key = event type) and
`cs.inbound` for what outside systems send in. Each consuming service has its own partitions:
a consistent-hash exchange `<service>.partitions` bound to the types it consumes, hashing each
message's `partition-key` header (the event's subject: a case id, a staff id) into one of N
quorum queues `<service>.events.<i>`, each with a single active consumer. So every event of one
key lands in the same queue, in publish order, and is applied by one process at a time however
many replicas run (docs/architecture.md, "Order"). A quorum dead-letter queue `<service>.dead`
takes what the broker gives up on (redelivered too often) and what the consumer refuses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import NamedTuple

import pika
from pika.adapters.blocking_connection import BlockingChannel

from shared.config import SERVICES, Settings
from shared.events.catalogue import CATALOGUE, EVENTS_EXCHANGE, INBOUND_EXCHANGE

DELIVERY_LIMIT = 20
PARTITION_KEY = "partition-key"


def connect(settings: Settings, *, name: str, user: str | None = None) -> pika.BlockingConnection:
    """A connection to the first node that answers (AMQP_URL may list a cluster's nodes,
    separated by commas), as broker user `user` when given, else with AMQP_URL's credentials
    (development tools and tests)."""
    url = settings.broker_url(user) if user else settings.amqp_url
    nodes = []
    for node in url.split(","):
        params = pika.URLParameters(node.strip())
        params.heartbeat = 30
        params.blocked_connection_timeout = 60
        params.socket_timeout = 5
        params.connection_attempts = 1
        params.client_properties = {"connection_name": name}
        nodes.append(params)
    return pika.BlockingConnection(nodes)


def drop(connection: pika.BlockingConnection) -> None:
    """Ends a connection the way a crash would, without the closing handshake.

    This is how a consumer lets go of a partition. RabbitMQ (3.10) treats a consumer whose
    connection went away as gone at once: it returns the messages the consumer had not
    acknowledged to the head of the queue and only then makes the next consumer in line
    active, so the partition's order survives. After a clean cancel or close the next consumer
    starts after those messages, and they come back behind later ones (measured).
    """
    transport = getattr(connection._impl, "_transport", None)  # pika has no public abort
    if transport is not None:
        transport.abort()
    with contextlib.suppress(Exception):  # pika notices the abort on its next I/O
        connection.process_data_events(time_limit=0)


def partition_exchange(settings: Settings, service: str) -> str:
    return settings.queue(f"{service}.partitions")


def partition_queues(settings: Settings, service: str) -> list[str]:
    return [settings.queue(f"{service}.events.{i}") for i in range(settings.partitions)]


def dead_letter_queue(settings: Settings, service: str) -> str:
    return settings.queue(f"{service}.dead")


def declare_exchanges(channel: BlockingChannel, settings: Settings) -> None:
    for name in (EVENTS_EXCHANGE, INBOUND_EXCHANGE):
        channel.exchange_declare(settings.exchange(name), exchange_type="topic", durable=True)


def subscriptions(service: str, types: Iterable[str]) -> list[tuple[str, str]]:
    """(exchange, type) pairs a service listens on: another service's events on `cs.events`;
    an outside system's on `cs.inbound` only where no service announces that type (HR's staff
    changes reach routing, which owns the directory; the others hear routing's announcement)."""
    pairs = []
    for type_ in types:
        producers = CATALOGUE[type_].producers
        if any(p in SERVICES and p != service for p in producers):
            pairs.append((EVENTS_EXCHANGE, type_))
        elif any(p not in SERVICES for p in producers):
            pairs.append((INBOUND_EXCHANGE, type_))
    return pairs


def declare_service_queues(
    channel: BlockingChannel, settings: Settings, service: str, types: Iterable[str]
) -> None:
    """The service's partition exchange (bound to `types`), its N partition queues and its
    dead-letter queue."""
    declare_exchanges(channel, settings)
    dead = dead_letter_queue(settings, service)
    channel.queue_declare(dead, durable=True, arguments={"x-queue-type": "quorum"})
    partitions = partition_exchange(settings, service)
    channel.exchange_declare(
        partitions,
        exchange_type="x-consistent-hash",
        durable=True,
        arguments={"hash-header": PARTITION_KEY},
    )
    for queue in partition_queues(settings, service):
        channel.queue_declare(
            queue,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-single-active-consumer": True,
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": dead,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        channel.queue_bind(queue, partitions, routing_key="1")  # the weight: equal shares
    for exchange, type_ in subscriptions(service, types):
        channel.exchange_bind(partitions, settings.exchange(exchange), routing_key=type_)


def publish_properties(
    event_id: str, type_: str, subject: str, user: str | None, headers: dict | None = None
) -> pika.BasicProperties:
    """What every event carries on the wire: its id, type, partition key and the publisher's
    broker user (which the broker checks against the connection's)."""
    return pika.BasicProperties(
        content_type="application/cloudevents+json",
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=event_id,
        type=type_,
        user_id=user,
        headers={**(headers or {}), PARTITION_KEY: subject},
    )


class Message(NamedTuple):
    exchange: str
    routing_key: str
    body: bytes
    properties: pika.BasicProperties


def publish_in_transaction(channel: BlockingChannel, messages: Iterable[Message]) -> None:
    """Publishes `messages` on a channel in transaction mode (`tx_select`) and commits them:
    all are routed, or none. `BlockingChannel.basic_publish` polls the socket after each
    message (40 % of a relay's CPU in the outage burst); within a transaction the broker routes
    nothing before the commit, so the messages are queued on the channel underneath, in order,
    and the commit's own round trip sends them."""
    publish = channel._impl.basic_publish  # pika has no public way to publish many at once
    for m in messages:
        publish(m.exchange, m.routing_key, m.body, m.properties)
    channel.tx_commit()


def exchange_for(settings: Settings, event_type: str) -> str:
    """Where the services' own copies of this type travel."""
    return settings.exchange(CATALOGUE[event_type].exchange)
