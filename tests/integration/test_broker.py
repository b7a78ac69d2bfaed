"""Broker connections (AMQP_URL may list a cluster's nodes; the first that answers is used)
and retiring queues no longer in use."""

from __future__ import annotations

from shared.broker import Message, connect, publish_in_transaction, publish_properties
from shared.broker_admin import BrokerAdmin, retire_queues, vhost_of
from shared.testing.factories import case_opened
from shared.testing.waiting import queued


def test_the_first_node_that_answers_is_used(cs_settings):
    dead_node = "amqp://guest:guest@127.0.0.1:1/%2F"
    settings = cs_settings.with_(amqp_url=f"{dead_node},{cs_settings.amqp_url}")
    conn = connect(settings, name="test-cluster")
    try:
        assert conn.is_open
        assert conn.channel().queue_declare("", exclusive=True).method.queue
    finally:
        conn.close()


def test_migrate_retires_a_queue_no_longer_in_use_and_keeps_what_it_holds(own_system):
    """The single `<service>.events` queue of earlier releases, and a partition beyond the
    number now set: unbound, their messages moved into the partitions, deleted."""
    settings = own_system.settings
    legacy, surplus = settings.queue("routing.events"), settings.queue("routing.events.9")
    event = case_opened()
    conn = connect(settings, name="test-legacy")
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        for queue in (legacy, surplus):
            channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(legacy, settings.exchange("cs.events"), "case.opened")
        channel.basic_publish(
            "",
            legacy,
            event.to_json(),
            publish_properties(event.id, event.type, event.subject, None),
        )
    finally:
        conn.close()
    retired = dict(retire_queues(settings))
    assert retired == {legacy: 1, surplus: 0}
    assert queued(settings, "routing") == 1, "moved into the partitions, not lost"
    assert not {legacy, surplus} & {
        q["name"] for q in BrokerAdmin(settings).queues(vhost_of(settings))
    }


def test_messages_published_in_a_transaction_arrive_all_in_order_and_only_at_commit(cs_settings):
    conn = connect(cs_settings, name="test-publish-many")
    try:
        channel = conn.channel()
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.tx_select()
        messages = [
            Message("", queue, f"m{i}".encode(), publish_properties(f"id-{i}", "t", "s", None))
            for i in range(300)
        ]
        publish_in_transaction(channel, messages[:100])
        assert channel.queue_declare(queue, passive=True).method.message_count == 100
        channel.basic_publish("", queue, b"uncommitted")  # a later transaction, not committed
        channel.tx_rollback()
        publish_in_transaction(channel, iter(messages[100:]))
        got = []
        for _ in range(300):
            _method, props, body = channel.basic_get(queue, auto_ack=True)
            got.append((props.message_id, body))
        assert got == [(f"id-{i}", f"m{i}".encode()) for i in range(300)]
        assert channel.basic_get(queue, auto_ack=True) == (None, None, None)
    finally:
        conn.close()
