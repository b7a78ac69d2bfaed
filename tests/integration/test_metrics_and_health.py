"""What an operator watches, with the relay, consumer and scheduler in threads: heartbeats and
`cs health`, the gauges `/metrics` reads from the schema (outbox, SLA clocks, processes alive),
the consumer's and scheduler's counters, and label values that never come from a message.

tests/e2e/test_operability.py runs the same as separate processes, as `./dev up` does.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pika
import pytest

from services.routing.scheduler import tick
from shared import cli, clock, metrics
from shared.broker import connect, partition_queues
from shared.heartbeat import STALE_S
from shared.scheduler import Scheduler
from shared.testing.factories import case_opened
from shared.testing.scrape import label_values, metric_value
from shared.testing.waiting import publish, wait_handled, wait_until


def scrape(system, service: str) -> str:
    app_client = system.client(service)
    app_client.application.extensions["cs"]["facts"].ttl = 0  # no caching between two asks
    response = app_client.get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def heartbeats(system, service: str) -> list[tuple[str, str]]:
    with system.db(service).transaction() as tx:
        return [
            tuple(r)
            for r in tx.execute("SELECT process, state FROM process_heartbeats ORDER BY process")
        ]


@pytest.fixture
def health(own_system, monkeypatch, capsys):
    """`health("routing-relay")`: runs `cs health` against the test's system; (exit code, out)."""
    monkeypatch.setenv("DATABASE_URL", own_system.settings.database_url)

    def run(*processes: str) -> tuple[int, str]:
        capsys.readouterr()
        code = cli.main(["health", *processes])
        return code, capsys.readouterr().out

    return run


def test_a_relay_and_a_consumer_beat_while_they_run_and_leave_when_stopped(own_system, health):
    code, out = health("routing-relay", "routing-consumer")
    assert code == 1 and out.count("NOT ALIVE") == 2 and "no heartbeat" in out

    own_system.run("routing")
    wait_until(
        lambda: (
            heartbeats(own_system, "routing") == [("consumer", "consuming"), ("relay", "active")]
        ),
        10,
        "routing's relay and consumer to beat",
    )
    text = scrape(own_system, "routing")
    assert metric_value(text, "cs_processes_alive", service="routing", process="relay") == 1
    assert metric_value(text, "cs_processes_alive", service="routing", process="consumer") == 1
    assert metric_value(text, "cs_processes_alive", service="routing", process="scheduler") == 0
    assert metric_value(text, "cs_process_heartbeat_age_seconds", process="relay") < STALE_S
    code, out = health("routing-relay", "routing-consumer")
    assert code == 0, out
    assert "routing-relay\tok\tactive" in out and "routing-consumer\tok\tconsuming" in out

    own_system.stop()
    assert heartbeats(own_system, "routing") == []  # a clean stop is not a hung process
    assert metric_value(scrape(own_system, "routing"), "cs_processes_alive", process="relay") == 0


def test_a_heartbeat_older_than_the_limit_is_not_alive(own_system, health):
    with own_system.db("training").transaction() as tx:
        tx.execute(
            "INSERT INTO process_heartbeats (process, host, pid, state, started_at, beat_at)"
            " VALUES ('consumer', 'hung-host', 4242, 'consuming',"
            " clock_timestamp() - interval '1 hour', clock_timestamp() - %s * interval '1 s')",
            (STALE_S + 30,),
        )
    code, out = health("training-consumer")
    assert code == 1
    assert "training-consumer\tNOT ALIVE\tlast beat" in out
    text = scrape(own_system, "training")
    assert metric_value(text, "cs_processes_alive", service="training", process="consumer") == 0
    age = metric_value(text, "cs_process_heartbeat_age_seconds", process="consumer")
    assert STALE_S + 30 <= age < STALE_S + 90
    assert health("intake-scheduler")[0] == 2  # intake has no scheduler to ask about


def test_outbox_gauges_count_what_waits_and_the_relay_counts_what_it_published(own_system):
    db = own_system.db("routing")
    with db.transaction() as tx:
        tx.execute("UPDATE outbox SET published_at = created_at WHERE published_at IS NULL")
    event = case_opened()
    own_system.run("routing", relay=False)
    publish(own_system.settings, event)
    wait_handled(db, event.id)  # routing wrote sla.started; no relay publishes it
    text = scrape(own_system, "routing")
    assert metric_value(text, "cs_outbox_backlog", service="routing") == 1
    assert metric_value(text, "cs_outbox_oldest_unpublished_seconds", service="routing") >= 0
    assert metric_value(text, "cs_database_up", service="routing") == 1
    published = {"service": "routing", "type": "sla.started"}
    before = metric_value(text, "cs_outbox_published_total", **published) or 0

    own_system.stop()
    own_system.run("routing", consumer=False)
    wait_until(
        lambda: metric_value(scrape(own_system, "routing"), "cs_outbox_backlog") == 0, 10, "drain"
    )
    text = scrape(own_system, "routing")
    assert metric_value(text, "cs_outbox_published_total", **published) == before + 1
    assert metric_value(text, "cs_outbox_oldest_unpublished_seconds", service="routing") == 0


def test_consumed_events_batches_and_lag_are_counted_per_catalogue_type(own_system):
    text = scrape(own_system, "routing")
    opened = {"service": "routing", "type": "case.opened"}  # training consumes it too
    consumed = metric_value(text, "cs_events_consumed_total", **opened) or 0
    duplicates = metric_value(text, "cs_events_duplicate_total", **opened) or 0
    batches = metric_value(text, "cs_consumer_batch_size_count", service="routing") or 0
    lags = metric_value(text, "cs_consumer_lag_seconds_count", service="routing") or 0

    own_system.run("routing", relay=False)
    first, second = case_opened(), case_opened()
    publish(own_system.settings, first, second, first)  # the third is a redelivery
    wait_handled(own_system.db("routing"), second.id)
    wait_until(
        lambda: metric_value(scrape(own_system, "routing"), "cs_events_consumed_total",
                             **opened) == consumed + 3,
        10,
        "three case.opened consumed",
    )  # fmt: skip
    text = scrape(own_system, "routing")
    assert metric_value(text, "cs_events_duplicate_total", **opened) == duplicates + 1
    assert metric_value(text, "cs_consumer_batch_size_count", service="routing") > batches
    assert metric_value(text, "cs_consumer_batch_size_sum", service="routing") >= 3
    assert metric_value(text, "cs_consumer_lag_seconds_count", service="routing") == lags + 3


def test_an_event_of_a_type_outside_the_catalogue_is_counted_under_one_fixed_label(own_system):
    own_system.run("routing", relay=False)
    text = scrape(own_system, "routing")
    labels = {"service": "routing", "type": "unknown", "reason": "invalid"}
    before = metric_value(text, "cs_events_dead_lettered_total", **labels) or 0
    invented = f"made.up.{uuid.uuid4().hex}"
    body = case_opened().to_json().replace(b'"type":"case.opened"', f'"type":"{invented}"'.encode())
    conn = connect(own_system.settings, name="test-stranger")
    try:
        conn.channel().basic_publish(
            "",
            partition_queues(own_system.settings, "routing")[0],
            body,
            pika.BasicProperties(type=invented, message_id=str(uuid.uuid4())),
        )
    finally:
        conn.close()
    wait_until(
        lambda: metric_value(scrape(own_system, "routing"), "cs_events_dead_lettered_total",
                             **labels) == before + 1,
        10,
        "the invented type dead-lettered",
    )  # fmt: skip
    text = scrape(own_system, "routing")
    for name in ("cs_events_dead_lettered_total", "cs_events_consumed_total"):
        assert invented not in label_values(text, name, "type")
    assert label_values(text, "cs_events_dead_lettered_total", "reason") <= set(
        metrics.DEAD_LETTER_REASONS.values()
    )


def test_sla_gauges_count_open_clocks_by_department_clock_and_state(own_system):
    now = clock.now()
    fresh = case_opened(opened_at=now)
    late = case_opened(opened_at=now - timedelta(days=30))  # past its warning and its deadline
    own_system.run("routing", relay=False)
    publish(own_system.settings, fresh, late)
    db = own_system.db("routing")
    wait_handled(db, late.id)
    wait_handled(db, fresh.id)

    def clocks(text: str, state: str) -> float | None:
        return metric_value(
            text, "cs_sla_clocks", department="(none)", clock="customer", state=state
        )

    text = scrape(own_system, "routing")
    assert (clocks(text, "running"), clocks(text, "at_risk"), clocks(text, "breached")) == (1, 1, 0)
    assert clocks(text, "paused") == 0
    assert metric_value(text, "cs_sla_clocks", clock="department") == 0

    tick(db, clock.now())  # the scheduler's round: the late clock breaches
    text = scrape(own_system, "routing")
    assert (clocks(text, "running"), clocks(text, "at_risk"), clocks(text, "breached")) == (1, 0, 1)


def test_a_scheduler_counts_its_rounds_and_beats_active_or_standby(own_system, health):
    text = scrape(own_system, "routing")
    ticks = metric_value(text, "cs_scheduler_ticks_total", service="routing") or 0
    stop = threading.Event()
    active = Scheduler(own_system.settings, "routing", tick, stop=stop, interval_s=0.05)
    standby = Scheduler(own_system.settings, "routing", tick, stop=stop, interval_s=0.05)
    standby.heartbeat.host = "standby-host"  # a second machine, as compose's --scale gives
    threads = [threading.Thread(target=s.run, daemon=True) for s in (active, standby)]
    threads[0].start()
    wait_until(lambda: active.ticks >= 3, 10, "three rounds")
    threads[1].start()
    try:
        wait_until(
            lambda: sorted(heartbeats(own_system, "routing")) == [
                ("scheduler", "active"), ("scheduler", "standby")
            ],
            10,
            "an active and a standby scheduler",
        )  # fmt: skip
        text = scrape(own_system, "routing")
        assert metric_value(text, "cs_scheduler_ticks_total", service="routing") >= ticks + 3
        assert metric_value(text, "cs_scheduler_tick_seconds_count", service="routing") >= 3
        assert metric_value(text, "cs_processes_alive", process="scheduler") == 2
        code, out = health("routing-scheduler")
        assert code == 0 and "\tactive\t" in out and "\tstandby\t" in out
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert heartbeats(own_system, "routing") == []
