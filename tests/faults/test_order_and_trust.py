"""Order with any number of consumers, and trust in who sent an event.

Three replicas of routing's and of intake's consumer (real `cs consume` processes) share the
partitions while cases live their commonest lives at once — opened and resolved at first
contact; opened, transferred and handled by a department; resolved, reopened and resolved again
— and one routing consumer is SIGKILLed in the middle. Every case must end in its right state,
with its clocks stopped, each event applied once and a case's events in the order they were
published.
"""

from __future__ import annotations

import signal
import threading
import uuid
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest

from shared.broker_admin import BrokerAdmin, vhost_of
from shared.testing.factories import case_opened
from shared.testing.waiting import publish, wait_until
from tests.faults.conftest import cs_process

REPLICAS = 3


def _case(intake, agent, kind: str, region: str) -> str:
    body = {
        "kind": kind,
        "channel": "hotline",
        "category": "signal",
        "region": region,
        "customer_ref": f"ACC-O-{uuid.uuid4().hex[:6]}",
        "content": "No signal on the cable box since this morning",
        "identity_verified": True,
    }
    r = intake.post("/cases", json=body, headers=agent)
    assert r.status_code == 201, r.json
    return r.json["id"]


def _post(client, path: str, body: dict[str, Any], headers) -> None:
    r = client.post(path, json=body, headers=headers)
    assert r.status_code in (200, 201, 202), (path, r.json)


@pytest.mark.slow
def test_three_consumers_of_each_service_apply_every_case_in_order_across_a_sigkill(
    own_system, auth, monkeypatch
):
    system = own_system
    monkeypatch.setenv("CS_CONSUMER_REBALANCE_S", "1")  # partitions change hands in the stream
    intake, routing = system.client("intake"), system.client("routing")
    agent, boss = auth("agent", subject="agent-order"), auth("supervisor", subject="sup-order")
    region = f"R-{uuid.uuid4().hex[:6]}"
    department = f"FIELD-{uuid.uuid4().hex[:4].upper()}"
    member = f"S-{uuid.uuid4().hex[:6]}"
    _post(routing, "/departments", {"code": department, "name": "Field service"}, boss)
    _post(
        routing,
        "/staff",
        {
            "staff_id": member,
            "display_name": "Field tech",
            "role": "department_staff",
            "department": department,
        },
        boss,
    )
    _post(
        routing, "/routing-rules", {"position": 1, "department": department, "region": region}, boss
    )
    system.run("intake", consumer=False)
    system.run("routing", consumer=False)
    consumers = {
        "routing": [cs_process(system, "consume", "routing") for _ in range(REPLICAS)],
        "intake": [cs_process(system, "consume", "intake") for _ in range(REPLICAS)],
    }
    first_contact, transferred, reopened = [], [], []
    try:

        def quick(n: int) -> None:
            for _ in range(n):
                case_id = _case(intake, agent, "consultation", region)
                _post(
                    intake,
                    f"/cases/{case_id}/resolve",
                    {"resolution": "explained", "first_contact": True},
                    agent,
                )
                first_contact.append(case_id)

        def again(n: int) -> None:
            for _ in range(n):
                case_id = _case(intake, agent, "complaint", region)
                _post(
                    intake,
                    f"/cases/{case_id}/resolve",
                    {"resolution": "reset the box", "first_contact": True},
                    agent,
                )
                _post(intake, f"/cases/{case_id}/reopen", {"reason": "dropped_again"}, agent)
                _post(
                    intake,
                    f"/cases/{case_id}/resolve",
                    {"resolution": "replaced the splitter"},
                    agent,
                )
                reopened.append(case_id)

        def handed_on(n: int) -> None:
            for _ in range(n):
                case_id = _case(intake, agent, "complaint", region)
                _post(intake, f"/cases/{case_id}/transfer", {"reason": "needs_field_visit"}, agent)
                transferred.append(case_id)

        quick(40)
        again(20)
        handed_on(20)
        # in the middle of the stream: one routing consumer dies without a word
        victim = consumers["routing"][0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        consumers["routing"][0] = cs_process(system, "consume", "routing")
        workers = [threading.Thread(target=f, args=(20,)) for f in (quick, again, handed_on)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

        # the department handles each transferred case; intake resolves it on case.handled
        staff = auth("department_staff", subject=member)

        def items() -> dict[str, int]:
            found = routing.get(
                "/work-items",
                query_string={"department": department, "per_page": 500},
                headers=boss,
            ).json["items"]
            return {i["case_id"]: i["id"] for i in found}

        wait_until(lambda: set(transferred) <= set(items()), 90, "every transfer routed")
        for item in items().values():
            _post(routing, f"/work-items/{item}/handled", {"resolution_code": "fixed"}, staff)

        every = first_contact + reopened + transferred
        wait_until(lambda: _settled(system, every), 120, "every case resolved, every clock stopped")
    finally:
        for procs in consumers.values():
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(15)
                except Exception:
                    p.kill()

    with system.db("routing").transaction() as tx:
        clocks = {
            (r[0], r[1]): r[2]
            for r in tx.execute(
                "SELECT case_id, clock, count(*) FROM sla_clocks WHERE case_id = ANY(%s)"
                " GROUP BY case_id, clock",
                (every,),
            )
        }
    assert all(clocks[(c, "customer")] == 1 for c in first_contact + transferred)
    assert all(clocks[(c, "customer")] == 2 for c in reopened), "a new clock after reopening"
    assert all(clocks.get((c, "department")) == 1 for c in transferred)
    _assert_applied_once_in_order(system, every)


def _settled(system, case_ids: list[str]) -> bool:
    with system.db("intake").transaction() as tx:
        states = {
            r[0]
            for r in tx.execute(
                "SELECT DISTINCT state FROM cases WHERE id::text = ANY(%s)", (case_ids,)
            )
        }
    with system.db("routing").transaction() as tx:
        running = tx.execute(
            "SELECT count(*) FROM sla_clocks WHERE case_id = ANY(%s) AND stopped_at IS NULL",
            (case_ids,),
        ).fetchone()[0]
    return states == {"resolved"} and running == 0


def _assert_applied_once_in_order(system, case_ids: list[str]) -> None:
    """Each of intake's events for these cases is in routing's inbox once, and a case's events
    were applied in the order intake published them (a later one never in an earlier
    transaction)."""
    with system.db("intake").transaction() as tx:
        published = tx.execute(
            "SELECT subject, event_id::text, type FROM outbox"
            " WHERE subject = ANY(%s) AND type IN ('case.opened', 'case.transferred',"
            " 'case.resolved', 'case.reopened') ORDER BY seq",
            (case_ids,),
        ).fetchall()
    with system.db("routing").transaction() as tx:
        applied = dict(
            tx.execute(
                "SELECT event_id, handled_at FROM inbox WHERE event_id = ANY(%s)",
                ([e for _, e, _ in published],),
            ).fetchall()
        )
    missing = [(s, t) for s, e, t in published if e not in applied]
    assert not missing, f"{len(missing)} events never applied, e.g. {missing[:3]}"
    last: dict[str, Any] = {}
    for subject, event_id, type_ in published:
        at = applied[event_id]
        assert subject not in last or at >= last[subject][0], (
            f"case {subject}: {type_} applied before {last[subject][1]}"
        )
        last[subject] = (at, type_)


@pytest.mark.slow
def test_a_replica_started_later_takes_its_share_of_the_partitions(own_system, monkeypatch):
    """The first consumer holds every partition; a second one started later gets about half
    of those with traffic within a few rebalance rounds (the broker says which is active)."""
    system = own_system
    monkeypatch.setenv("CS_CONSUMER_REBALANCE_S", "1")
    first = cs_process(system, "consume", "routing")
    second = None
    stop = threading.Event()

    def stream() -> None:  # cases on every partition, until told to stop
        while not stop.is_set():
            publish(system.settings, *(case_opened() for _ in range(20)))
            stop.wait(0.2)

    feeder = threading.Thread(target=stream)
    try:
        wait_until(lambda: len(_active(system)) == system.settings.partitions, 30, "first active")
        assert len(set(_active(system).values())) == 1
        second = cs_process(system, "consume", "routing")
        feeder.start()
        # partitions move one at a time: a look between two moves sees 3 and 1
        wait_until(
            lambda: sorted(Counter(_active(system).values()).values()) == [2, 2],
            60,
            "the partitions shared two and two",
        )
    finally:
        stop.set()
        if feeder.is_alive():
            feeder.join()
        for p in (first, second):
            if p is not None:
                p.terminate()
                p.wait(15)


def _active(system) -> dict[str, str]:
    """Partition queue -> the process (connection name) of its active consumer.

    The management API shows details it has not collected yet (a connection's properties, a
    consumer's channel) as empty lists; those entries are left out until the next look."""
    admin = BrokerAdmin(system.settings)
    vhost = quote(vhost_of(system.settings), safe="")
    named = {
        c["name"]: _details(c.get("client_properties")).get("connection_name", "")
        for c in admin.call("GET", f"/vhosts/{vhost}/connections") or []
    }
    active = {}
    for c in admin.call("GET", f"/consumers/{vhost}") or []:
        queue = _details(c.get("queue")).get("name", "")
        connection = _details(c.get("channel_details")).get("connection_name")
        if c.get("active") and ".events." in queue and connection in named:
            active[queue] = named[connection]
    return active


def _details(value: object) -> dict:
    return value if isinstance(value, dict) else {}
