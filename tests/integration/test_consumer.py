"""The idempotent consumer: applied once, poison to the dead-letter queue with its error, replay."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit, urlunsplit

from services.routing.handlers import EVENT_HANDLERS as ROUTING_HANDLERS
from shared.dead_letters import list_dead_letters, replay_dead_letters
from shared.events import new_event
from shared.testing.factories import case_opened
from shared.testing.proxy import TcpProxy
from shared.testing.waiting import handled, publish, queued, wait_handled, wait_until


def clocks_of(db, case_id: str) -> int:
    with db.transaction() as tx:
        return tx.execute(
            "SELECT count(*) FROM sla_clocks WHERE case_id = %s", (case_id,)
        ).fetchone()[0]


def started_events_of(db, case_id: str) -> int:
    with db.transaction() as tx:
        return tx.execute(
            "SELECT count(*) FROM outbox WHERE type = 'sla.started' AND subject = %s", (case_id,)
        ).fetchone()[0]


def test_a_redelivered_event_is_applied_once(cs_settings, service_db, run_service):
    db = service_db("routing")
    run_service("routing", relay=False)
    event = case_opened()
    publish(cs_settings, event, event)
    wait_handled(db, event.id)
    again = case_opened(case_id=event.data["case_id"])  # same case, another event id
    publish(cs_settings, again, event)
    wait_handled(db, again.id)
    wait_until(lambda: _queue_empty(cs_settings), 5, "the queue to empty")
    assert clocks_of(db, event.data["case_id"]) == 1
    assert started_events_of(db, event.data["case_id"]) == 1


def _queue_empty(settings) -> bool:
    return queued(settings, "routing") == 0


def test_a_poison_event_is_retried_then_dead_lettered_with_its_error_and_can_be_replayed(
    cs_settings, service_db, run_service
):
    db = service_db("routing")
    attempts = []

    def broken(tx, event):
        attempts.append(event.id)
        tx.execute(
            "INSERT INTO sla_policies (kind, priority, working_days, changed_at)"
            " VALUES ('x', 'y', 1, now())"
        )
        raise RuntimeError("calendar service misconfigured")

    svc = run_service("routing", relay=False, handlers={"case.opened": broken})
    event = case_opened()
    publish(cs_settings, event)
    letters = wait_until(lambda: list_dead_letters(cs_settings, "routing"), 10, "a dead letter")
    assert [d.message_id for d in letters] == [event.id]
    assert "calendar service misconfigured" in letters[0].error
    assert letters[0].attempts == cs_settings.consumer_max_attempts
    assert len(attempts) == cs_settings.consumer_max_attempts
    with db.transaction() as tx:  # every failed attempt rolled back, inbox included
        assert tx.execute("SELECT count(*) FROM sla_policies WHERE kind = 'x'").fetchone()[0] == 0
        assert tx.execute("SELECT 1 FROM inbox WHERE event_id = %s", (event.id,)).fetchone() is None
    # listing leaves the dead letters in place
    assert [d.message_id for d in list_dead_letters(cs_settings, "routing")] == [event.id]

    svc.stop.set()
    for t in svc.threads:
        t.join(10)
    run_service("routing", relay=False, handlers=ROUTING_HANDLERS, purge=False)
    assert replay_dead_letters(cs_settings, "routing") == 1
    wait_handled(db, event.id)
    assert clocks_of(db, event.data["case_id"]) == 1
    assert list_dead_letters(cs_settings, "routing") == []


def test_an_invalid_event_from_another_system_is_dead_lettered_with_the_reason(
    cs_settings, service_db, run_service
):
    run_service("routing", relay=False)
    event = case_opened()
    body = event.to_json().replace(b'"kind":"complaint"', b'"kind":"grumble"')
    publish(cs_settings, event, body=body)
    letters = wait_until(lambda: list_dead_letters(cs_settings, "routing"), 10, "a dead letter")
    assert letters[0].message_id == event.id
    assert "invalid event" in letters[0].error and "kind" in letters[0].error
    assert clocks_of(service_db("routing"), event.data["case_id"]) == 0


def test_an_event_with_a_40_kb_time_is_dead_lettered_at_once_and_the_next_one_goes_on(
    cs_settings, service_db, run_service
):
    """Once it stalled a consumer 5.4 s: its error went through a quadratic log scrubber."""
    run_service("routing", relay=False)
    bad, good = case_opened(), case_opened()
    huge_time = b'"time":"2026-11-24T10:00:00' + b"9" * 40_000 + b'Z"'
    body = re.sub(rb'"time":"[^"]*"', lambda _m: huge_time, bad.to_json(), count=1)
    started = time.monotonic()
    publish(cs_settings, bad, body=body)
    publish(cs_settings, good)
    letters = wait_until(lambda: list_dead_letters(cs_settings, "routing"), 10, "a dead letter")
    wait_handled(service_db("routing"), good.id)
    assert time.monotonic() - started < 3
    assert letters[0].message_id == bad.id
    assert "longer than 40 characters" in letters[0].error and len(letters[0].error) < 500


def test_a_message_that_is_not_json_is_dead_lettered_not_dropped(cs_settings, run_service):
    run_service("routing", relay=False)
    event = case_opened()
    publish(cs_settings, event, body=b"\x00 garbage")
    letters = wait_until(lambda: list_dead_letters(cs_settings, "routing"), 10, "a dead letter")
    assert "not JSON" in letters[0].error


def test_a_database_outage_delays_events_but_never_dead_letters_them(
    cs_settings, service_db, run_service
):
    url = urlsplit(cs_settings.database_url)
    proxy = TcpProxy(url.hostname, url.port or 5432)
    try:
        netloc = f"{url.netloc.rpartition('@')[0]}@127.0.0.1:{proxy.port}"
        proxied = cs_settings.with_(
            database_url=urlunsplit((url.scheme, netloc, url.path, url.query, ""))
        )
        run_service("routing", relay=False, settings=proxied)
        proxy.down()
        event = case_opened()
        publish(cs_settings, event)
        time.sleep(1.5)  # several retry rounds while the database is away
        assert list_dead_letters(cs_settings, "routing") == []
        assert clocks_of(service_db("routing"), event.data["case_id"]) == 0
        proxy.up()
        wait_handled(service_db("routing"), event.id, timeout=15)
        assert clocks_of(service_db("routing"), event.data["case_id"]) == 1
    finally:
        proxy.close()


def test_a_failing_event_in_a_batch_does_not_hold_back_the_others(
    cs_settings, service_db, run_service
):
    from services.routing.handlers import on_case_opened

    events = [case_opened() for _ in range(20)]
    poison_id = events[7].id

    def picky(tx, event):
        if event.id == poison_id:
            raise RuntimeError("this one is broken")
        on_case_opened(tx, event)

    from shared.testing.plugin import _purge

    _purge(cs_settings, "routing")
    publish(cs_settings, *events)  # queued before the consumer starts: they arrive together
    run_service("routing", relay=False, handlers={"case.opened": picky}, purge=False)
    db = service_db("routing")
    for e in events:
        if e.id != poison_id:
            wait_handled(db, e.id)
    letters = wait_until(lambda: list_dead_letters(cs_settings, "routing"), 10, "a dead letter")
    assert [d.message_id for d in letters] == [poison_id]
    assert sum(clocks_of(db, e.data["case_id"]) for e in events) == 19


def test_an_event_before_its_predecessor_waits_for_it_and_other_cases_go_on(
    cs_settings, service_db, run_service
):
    """A case's resolution published before its opening (as a replay, or a handover, could
    bring them): routing holds it, applies other cases meanwhile, and applies it once the
    opening came; the clock ends stopped, as if they had come in order."""
    db = service_db("routing")
    run_service("routing", relay=False)
    opened = case_opened()
    case_id = opened.data["case_id"]
    resolved = new_event(
        "case.resolved",
        case_id,
        {
            "case_id": case_id,
            "kind": "complaint",
            "category": "broadband",
            "department": None,
            "resolved_by": "agent-1",
            "first_contact": True,
            "opened_at": opened.data["opened_at"],
            "resolved_at": opened.data["opened_at"],
        },
        source="/intake",
    )
    other = case_opened()
    publish(cs_settings, resolved)
    publish(cs_settings, other)
    wait_handled(db, other.id)  # another case is not held up
    assert not handled(db, resolved.id)
    publish(cs_settings, opened)
    wait_handled(db, resolved.id)
    with db.transaction() as tx:
        states = tx.execute(
            "SELECT state FROM sla_clocks WHERE case_id = %s", (case_id,)
        ).fetchall()
    assert states == [("met",)]


def test_a_batch_goes_to_a_batched_handler_at_once_and_each_case_keeps_its_order(
    cs_settings, service_db, run_service
):
    """Twenty cases opened together reach routing's `case.opened` handler as one or a few
    batches, not twenty calls; five of them are closed in the same batch, after their
    opening; an event delivered twice is applied once; each `sla.started` carries the
    correlation id of the `case.opened` it answers."""
    from services.routing.handlers import on_case_opened
    from shared.service import batched
    from shared.testing.plugin import _purge

    sizes: list[int] = []

    @batched
    def counting(tx, events):
        sizes.append(len(events))
        on_case_opened.many(tx, events)

    opened = [case_opened() for _ in range(20)]
    closed = [
        new_event(
            "case.closed",
            e.subject,
            {"case_id": e.subject, "closed_at": e.data["opened_at"], "outcome": "resolved"},
            source="/intake",
        )
        for e in opened[:5]
    ]
    _purge(cs_settings, "routing")
    publish(cs_settings, *opened, opened[3], *closed)  # queued first: they arrive together
    handlers = dict(ROUTING_HANDLERS, **{"case.opened": counting})
    run_service("routing", relay=False, handlers=handlers, purge=False)
    db = service_db("routing")
    for e in [*opened, *closed]:
        wait_handled(db, e.id)
    assert sum(sizes) == 20 and max(sizes) > 1, sizes  # batches, none tried again one by one
    with db.transaction() as tx:
        clocks = tx.all(
            "SELECT case_id, stopped_at IS NOT NULL AS stopped FROM sla_clocks"
            " WHERE case_id = ANY(%s)",
            ([e.subject for e in opened],),
        )
        started = tx.all(
            "SELECT subject, body::jsonb->>'correlationid' AS cid FROM outbox"
            " WHERE type = 'sla.started' AND subject = ANY(%s)",
            ([e.subject for e in opened],),
        )
    assert sorted(c["case_id"] for c in clocks) == sorted(e.subject for e in opened)
    assert {c["case_id"] for c in clocks if c["stopped"]} == {e.subject for e in closed}
    assert {s["subject"]: s["cid"] for s in started} == {e.subject: e.correlationid for e in opened}


def test_a_handed_over_partition_is_not_applied_or_acked_from_its_old_channel(
    cs_settings, service_db
):
    """Handing a partition over drops its connection; what that connection had delivered is
    forgotten (the broker gives it to whoever takes over, in order), and an ack of an old
    delivery never reaches the new channel, where its tag names another message."""
    from shared.broker import connect, declare_service_queues, partition_queues
    from shared.consumer import Consumer, _Partition
    from shared.testing.plugin import _purge

    service_db("routing")  # the schema, so the consumer's database is there
    _purge(cs_settings, "routing")
    consumer = Consumer(cs_settings, "routing", ROUTING_HANDLERS)
    setup = connect(cs_settings, name="test-setup", user="routing")
    declare_service_queues(setup.channel(), cs_settings, "routing", ROUTING_HANDLERS)
    setup.close()
    consumer._partitions = {q: _Partition(q) for q in partition_queues(cs_settings, "routing")}
    for partition in consumer._partitions.values():
        consumer._subscribe(partition)

    def arrived(n: int) -> bool:
        for p in consumer._partitions.values():
            p.connection.process_data_events(time_limit=0)
        return len(consumer._arrived) == n

    try:
        case_id = case_opened().subject
        publish(cs_settings, *[case_opened(case_id=case_id) for _ in range(3)])
        wait_until(lambda: arrived(3), 10, "3 deliveries")
        old = list(consumer._arrived)
        partition = consumer._partitions[old[0].queue]

        consumer._release(partition)
        assert consumer._arrived == []
        wait_until(lambda: arrived(3), 10, "their redelivery on the new channel")
        consumer._ack(old[0], multiple=True)  # from the dropped channel: acks nothing
        consumer._arrived = []
    finally:
        for p in consumer._partitions.values():
            p.connection.close()
    check = connect(cs_settings, name="test-check")
    try:
        waiting = check.channel().queue_declare(partition.queue, passive=True)
        assert waiting.method.message_count == 3
    finally:
        check.close()
