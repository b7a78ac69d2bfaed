"""Broker connections: AMQP_URL may list a cluster's nodes; the first that answers is used."""

from __future__ import annotations

from shared.broker import connect


def test_the_first_node_that_answers_is_used(cs_settings):
    dead_node = "amqp://guest:guest@127.0.0.1:1/%2F"
    settings = cs_settings.with_(amqp_url=f"{dead_node},{cs_settings.amqp_url}")
    conn = connect(settings, name="test-cluster")
    try:
        assert conn.is_open
        assert conn.channel().queue_declare("", exclusive=True).method.queue
    finally:
        conn.close()
