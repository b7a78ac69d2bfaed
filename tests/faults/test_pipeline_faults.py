"""Faults during a stream of cases: broker connections dropped, a consumer killed, database
connections terminated, poison and malformed events. The end state is checked each time."""

from __future__ import annotations

import signal
import threading
import time

import orjson
import psycopg
import pytest

from shared import cli
from shared.dead_letters import list_dead_letters
from shared.events import new_event
from shared.testing.factories import case_opened
from shared.testing.waiting import publish, wait_handled, wait_until
from tests.faults.conftest import assert_each_case_has_one_clock, cs_process, region, through


@pytest.mark.slow
@pytest.mark.parametrize("replicas", [1, 2])
def test_broker_connections_force_closed_during_the_stream(
    cs_settings, service_db, run_service, open_cases, broker_proxy, replicas
):
    """A connection drop of every relay and consumer, four times (as a broker restart does)."""
    proxied = cs_settings.with_(
        amqp_url=through(broker_proxy, cs_settings.amqp_url), relay_batch=20
    )
    for n in range(replicas):
        run_service("intake", consumer=False, settings=proxied)
        run_service("routing", settings=proxied, purge=n == 0)
    stream = region()
    ids: list[str] = []
    for _ in range(4):
        ids += open_cases(40, stream)
        wait_until(lambda: broker_proxy.cut() > 0, 10, "connections to drop")
    assert_each_case_has_one_clock(service_db, ids)
    assert broker_proxy.connections > 4 * replicas, "relays and consumers reconnected"


@pytest.mark.slow
def test_a_consumer_killed_with_sigkill_mid_batch_then_restarted(
    cs_system, service_db, run_service, open_cases, monkeypatch
):
    run_service("intake", consumer=False)
    ids = open_cases(300, region())
    # small batches, few in flight: it dies mid-stream, not after it
    monkeypatch.setenv("CS_CONSUMER_BATCH", "10")
    monkeypatch.setenv("CS_CONSUMER_PREFETCH", "10")
    consumer = cs_process(cs_system, "consume", "routing")
    db = service_db("routing")

    def clocked() -> int:
        with db.transaction() as tx:
            return tx.execute(
                "SELECT count(*) FROM sla_clocks WHERE case_id = ANY(%s)", (ids,)
            ).fetchone()[0]

    try:
        deadline = time.monotonic() + 60
        while clocked() < 20:  # a tight watch: the stream takes well under a second
            assert time.monotonic() < deadline, "the consumer never got going"
            time.sleep(0.002)
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(10)
        assert clocked() < len(ids), "killed in the middle, not after the end"
        consumer = cs_process(cs_system, "consume", "routing")
        assert_each_case_has_one_clock(service_db, ids)
    finally:
        consumer.terminate()
        consumer.wait(15)


@pytest.mark.slow
@pytest.mark.parametrize("replicas", [1, 2])
def test_database_connections_terminated_during_the_stream(
    cs_settings, service_db, run_service, open_cases, replicas
):
    """pg_terminate_backend on every connection of intake and routing, again and again."""
    for n in range(replicas):
        run_service("intake", consumer=False)
        run_service("routing", purge=n == 0)
    stop = threading.Event()
    terminated = []

    def terminate() -> None:
        with psycopg.connect(cs_settings.database_url, autocommit=True) as admin:
            while not stop.wait(0.4):
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND usename IN ('cs_intake', 'cs_routing')"
                ).fetchall()
                terminated.append(len(rows))

    killer = threading.Thread(target=terminate, daemon=True)
    killer.start()
    try:
        ids = open_cases(200, region())
        time.sleep(1.0)
    finally:
        stop.set()
        killer.join(10)
    assert sum(terminated) > 0
    assert_each_case_has_one_clock(service_db, ids)


@pytest.mark.slow
def test_a_poison_event_is_dead_lettered_then_replayed_with_the_cli_and_applied_once(
    cs_settings, service_db, run_service, monkeypatch, capsys
):
    healthy = {"on": False}
    from services.routing.handlers import EVENT_HANDLERS

    def flaky(tx, event):
        if not healthy["on"]:
            raise RuntimeError("routing rules table is being migrated")
        EVENT_HANDLERS["case.opened"](tx, event)

    run_service("routing", relay=False, handlers={"case.opened": flaky})
    event = case_opened()
    publish(cs_settings, event)
    letters = wait_until(lambda: list_dead_letters(cs_settings, "routing"), 10, "a dead letter")
    assert "being migrated" in letters[0].error
    healthy["on"] = True  # the cause is fixed
    monkeypatch.setenv("AMQP_URL", cs_settings.amqp_url)
    monkeypatch.setenv("CS_BROKER_PREFIX", cs_settings.broker_prefix)
    assert cli.main(["dead-letters", "list", "routing"]) == 0
    assert event.id in capsys.readouterr().out
    assert cli.main(["dead-letters", "replay", "routing"]) == 0
    wait_handled(service_db("routing"), event.id)
    publish(cs_settings, event)  # and once more, as a redelivery would
    time.sleep(0.5)
    assert_each_case_has_one_clock(service_db, [event.data["case_id"]], through_intake=False)


def _requested(**data):
    body = {
        "channel": "online",
        "kind": "consultation",
        "category": "billing",
        "region": "Chaoyang",
        "customer_ref": "ACC-PORTAL-1",
        "content": "Why two charges?",
    }
    body.update(data)
    return new_event("case.requested", "portal-1", body, source="/portal")


@pytest.mark.parametrize(
    "fault, change",
    [
        ("wrong_schema", lambda env: env["data"].update(kind=42)),
        ("missing_field", lambda env: env["data"].pop("channel")),
        ("unknown_type", lambda env: env.update(type="case.wished")),
        (
            "unknown_dataschema",
            lambda env: env.update(dataschema="urn:cs:schema:case.requested:v9"),
        ),
        ("not_an_envelope", lambda env: env.clear()),
    ],
)
def test_a_malformed_event_from_another_system_is_dead_lettered_and_the_queue_keeps_flowing(
    cs_settings, service_db, run_service, fault, change
):
    run_service("intake", relay=False)
    bad = _requested()
    envelope = orjson.loads(bad.to_json())
    change(envelope)
    publish(cs_settings, bad, body=orjson.dumps(envelope))
    good = _requested(region=f"R-{fault}")
    publish(cs_settings, good)
    wait_handled(service_db("intake"), good.id)
    letters = list_dead_letters(cs_settings, "intake")
    assert [d.message_id for d in letters] == [bad.id]
    assert letters[0].error.startswith("invalid event")
    with service_db("intake").transaction() as tx:
        assert (
            tx.execute("SELECT count(*) FROM cases WHERE region = %s", (f"R-{fault}",)).fetchone()[
                0
            ]
            == 1
        )
