"""50,000 outbox rows published by shared.relay.Relay vs raw pika in tx batches (the floor)."""

from __future__ import annotations

import argparse
import time
import uuid

import relay_floor
from common import fresh_setup, pct, write_results

from shared.broker import connect
from shared.db import Database
from shared.events.envelope import new_event
from shared.outbox import insert_events
from shared.relay import Relay

TYPE = "case.acknowledged"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=50_000)
    args = ap.parse_args()
    s = fresh_setup(["intake"])
    sink, exchange = s.queue("relay-sink"), s.exchange("cs.events")
    amqp = connect(s, name="bench-sink")
    ch = amqp.channel()
    ch.queue_delete(sink)
    ch.queue_declare(sink, durable=True, arguments={"x-queue-type": "quorum"})
    ch.queue_bind(sink, exchange, routing_key=TYPE)

    db = Database(s, "intake", max_size=1)
    with db.connect() as conn:
        for start in range(0, args.count, 1000):
            with conn.transaction():
                insert_events(
                    conn,
                    [
                        new_event(
                            TYPE,
                            str(i),
                            {
                                "case_id": str(uuid.uuid4()),
                                "case_no": f"TS{i}",
                                "kind": "complaint",
                                "template": "ack",
                            },
                            source="/intake",
                        )
                        for i in range(start, min(start + 1000, args.count))
                    ],
                )
        messages = [
            (str(eid), body.encode())
            for eid, body in conn.execute(
                "SELECT event_id, body FROM outbox ORDER BY seq"
            ).fetchall()
        ]

    floor_s = relay_floor.publish(s.amqp_url, exchange, TYPE, messages, batch=500)
    ch.queue_purge(sink)

    relay = Relay(s, "intake")
    with db.connect(autocommit=True) as conn:
        started = time.perf_counter()
        while relay.drain_once(conn):
            pass
        relay_s = time.perf_counter() - started
        left = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]
    relay._close_broker()
    time.sleep(1)
    in_queue = ch.queue_declare(sink, passive=True).method.message_count
    ch.queue_delete(sink)
    amqp.close()
    db.close()
    floor_rate, relay_rate = args.count / floor_s, args.count / relay_s
    ratio = relay_rate / floor_rate
    write_results(
        "relay_throughput",
        {
            "count": args.count,
            "floor_events_per_s": round(floor_rate),
            "relay_events_per_s": round(relay_rate),
            "ratio": round(ratio, 3),
            "ratio_pct": pct(ratio, 1),
            "unpublished_left": left,
            "in_sink_queue": in_queue,
            "target": ">= 70 % and >= 4,000/s",
            "met": ratio >= 0.7 and relay_rate >= 4000,
        },
    )


if __name__ == "__main__":
    main()
