"""The fault suite: a stream of cases through intake → routing while something breaks, then the
same check every time: each case has exactly one clock, each event was applied exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from shared.config import Settings
from shared.testing.plugin import System
from shared.testing.proxy import TcpProxy
from shared.testing.waiting import wait_until

COMPLAINT = {
    "kind": "complaint",
    "channel": "hotline",
    "category": "broadband",
    "region": "Haidian",
    "customer_ref": "ACC-FAULT",
    "content": "Outage in the whole building",
    "identity_verified": True,
    "received_at": "2026-11-23T10:00:00+08:00",
}


def through(proxy: TcpProxy, url: str) -> str:
    """The same URL, through the proxy."""
    parts = urlsplit(url)
    auth = parts.netloc.rpartition("@")[0]
    netloc = f"{auth}@127.0.0.1:{proxy.port}" if auth else f"127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@pytest.fixture
def broker_proxy(cs_settings: Settings) -> Iterator[TcpProxy]:
    url = urlsplit(cs_settings.amqp_url)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 5672)
    yield proxy
    proxy.close()


@pytest.fixture
def open_cases(client, auth) -> Callable[[int, str], list[str]]:
    """`open_cases(n, region)`: n complaints through intake's HTTP API; returns their ids.

    A request answered 503 while the database is being cut is tried again, as a client would.
    """

    def open_(n: int, region: str) -> list[str]:
        ids = []
        headers = auth("agent")
        for _ in range(n):
            for _attempt in range(20):
                r = client("intake").post(
                    "/cases", json=dict(COMPLAINT, region=region), headers=headers
                )
                if r.status_code == 201:
                    ids.append(r.json["id"])
                    break
                assert r.status_code == 503, r.json
            else:
                raise AssertionError(f"intake kept failing: {r.status_code} {r.json}")
        return ids

    return open_


def region() -> str:
    return f"F-{uuid.uuid4().hex[:8]}"


def assert_each_case_has_one_clock(
    service_db, case_ids: list[str], timeout: float = 60, through_intake: bool = True
) -> None:
    """Waits until routing has a clock for every case, then checks nothing happened twice."""
    db = service_db("routing")
    for service in ("intake", "routing"):
        service_db(service).discard_broken()  # the test's own connections may have been cut

    def clocked() -> int:
        with db.transaction() as tx:
            return tx.execute(
                "SELECT count(DISTINCT case_id) FROM sla_clocks WHERE case_id = ANY(%s)",
                (case_ids,),
            ).fetchone()[0]

    wait_until(
        lambda: clocked() == len(case_ids), timeout, f"routing to clock all {len(case_ids)} cases"
    )
    with db.transaction() as tx:
        clocks = dict(
            tx.execute(
                "SELECT case_id, count(*) FROM sla_clocks WHERE case_id = ANY(%s) GROUP BY case_id",
                (case_ids,),
            ).fetchall()
        )
        started = dict(
            tx.execute(
                "SELECT subject, count(*) FROM outbox"
                " WHERE type = 'sla.started' AND subject = ANY(%s) GROUP BY subject",
                (case_ids,),
            ).fetchall()
        )
        facts = tx.execute(
            "SELECT count(*) FROM case_facts WHERE case_id = ANY(%s)", (case_ids,)
        ).fetchone()[0]
    assert set(clocks.values()) == {1}, "a case got more than one clock"
    assert set(started.values()) == {1} and len(started) == len(case_ids)
    assert facts == len(case_ids)
    if not through_intake:
        return
    with service_db("intake").transaction() as tx:
        opened_ids = [
            r[0]
            for r in tx.execute(
                "SELECT event_id::text FROM outbox"
                " WHERE type = 'case.opened' AND subject = ANY(%s)",
                (case_ids,),
            )
        ]
    with db.transaction() as tx:
        applied = tx.execute(
            "SELECT count(*) FROM inbox WHERE event_id = ANY(%s)", (opened_ids,)
        ).fetchone()[0]
    assert len(opened_ids) == len(case_ids)
    assert applied == len(case_ids), "every case.opened recorded once in routing's inbox"


def cs_process(system: System, *args: str) -> subprocess.Popen:
    """A real `cs` process (consumer, relay) on a test system's database and broker."""
    env = system.env(
        CS_CONSUMER_RETRY_BASE_S="0.01",
        CS_METRICS_DIR=os.path.join(
            os.environ.get("TMPDIR", "/tmp"), f"cs-metrics-faults-{os.getpid()}"
        ),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
