"""The outbox relay publishes everything, in write order, across broker connection drops."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import orjson
import pytest

from shared.broker import connect
from shared.events import new_event
from shared.events.catalogue import EVENTS_EXCHANGE
from shared.outbox import insert_events
from shared.testing.factories import case_opened
from shared.testing.proxy import TcpProxy
from shared.testing.waiting import outbox_backlog, wait_until


def _through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    auth = parts.netloc.rpartition("@")[0]
    return urlunsplit((parts.scheme, f"{auth}@127.0.0.1:{proxy.port}", parts.path, "", ""))


class Tap:
    """Collects every message of one type from the session's events exchange."""

    def __init__(self, settings, routing_key: str) -> None:
        self.conn = connect(settings, name="test-tap")
        self.channel = self.conn.channel()
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, settings.exchange(EVENTS_EXCHANGE), routing_key)
        self.ids: list[str] = []

    def drain(self) -> list[str]:
        while True:
            method, _props, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return self.ids
            self.ids.append(orjson.loads(body)["id"])

    def close(self) -> None:
        self.conn.close()


def _write_events(db, n: int, per_tx: int = 100) -> list[str]:
    """n acknowledgement events in transactions of per_tx, as intake would write them."""
    ids = []
    for start in range(0, n, per_tx):
        with db.transaction() as tx:
            for i in range(start, min(n, start + per_tx)):
                case_id = str(uuid.uuid4())
                event = new_event(
                    "case.acknowledged",
                    case_id,
                    {
                        "case_id": case_id,
                        "case_no": f"ZX20260101-{i:06d}",
                        "kind": "consultation",
                        "template": "ack-sms",
                    },
                    source="/intake",
                )
                tx.emit(event)
                ids.append(event.id)
    return ids


@pytest.mark.slow
def test_relay_loses_nothing_and_keeps_order_across_connection_drops(
    cs_settings, service_db, run_service
):
    db = service_db("intake")
    tap = Tap(cs_settings, "case.acknowledged")
    proxy = TcpProxy(
        urlsplit(cs_settings.amqp_url).hostname, urlsplit(cs_settings.amqp_url).port or 5672
    )
    try:
        ids = _write_events(db, 3000)
        svc = run_service(
            "intake",
            consumer=False,
            settings=cs_settings.with_(
                amqp_url=_through(proxy, cs_settings.amqp_url), relay_batch=100
            ),
        )
        cuts = 0
        for threshold in (600, 1400, 2200):
            wait_until(lambda t=threshold: svc.relay.published >= t, 30, f"{threshold} published")
            wait_until(lambda: proxy.cut() > 0, 10, "a connection to cut")
            cuts += 1
        wait_until(lambda: outbox_backlog(db) == 0, 30, "the outbox to drain")
        wait_until(lambda: set(ids) <= set(tap.drain()), 10, "every event to arrive")
        wait_until(lambda: proxy.connections > cuts, 10, "the relay to reconnect after each drop")
        seen = tap.drain()
        first_seen = list(dict.fromkeys(i for i in seen if i in set(ids)))
        assert first_seen == ids, "events left in the order they were written"
    finally:
        proxy.close()
        tap.close()


def test_relay_publishes_rows_that_commit_late(cs_settings, service_db, run_service):
    """A row with a lower seq that commits after a higher one is published, not skipped."""
    db = service_db("intake")
    tap = Tap(cs_settings, "case.acknowledged")
    try:
        run_service("intake", consumer=False)
        late = db.pool.getconn()
        try:
            case_id = str(uuid.uuid4())
            late_event = new_event(
                "case.acknowledged",
                case_id,
                {
                    "case_id": case_id,
                    "case_no": "ZX20260101-9999",
                    "kind": "consultation",
                    "template": "ack-sms",
                },
                source="/intake",
            )
            insert_events(late, [late_event])  # seq issued now, commit later
            early = _write_events(db, 5)
            wait_until(lambda: set(early) <= set(tap.drain()), 10, "the early events")
            time.sleep(0.3)
            late.commit()
        finally:
            db.pool.putconn(late)
        wait_until(lambda: late_event.id in tap.drain(), 10, "the late-committing event")
    finally:
        tap.close()


def test_events_written_together_keep_their_order_and_their_bodies_byte_for_byte(service_db):
    events = [case_opened(region=f'Haidian "{i}" \\ 海淀 \u2028') for i in range(120)]
    with service_db("intake").transaction() as tx:
        before = tx.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0]
        insert_events(tx.conn, events)
        rows = tx.execute(
            "SELECT event_id::text, body FROM outbox WHERE seq > %s ORDER BY seq", (before,)
        ).fetchall()
    assert rows == [(e.id, e.to_json().decode()) for e in events]
