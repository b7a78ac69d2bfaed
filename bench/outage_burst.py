"""A burst of `case.requested` on cs.inbound during a declared network incident: time until
every one is a case with a clock, linked to the incident (none assigned one by one); then the
incident's resolution: time until every linked case is resolved in intake and its
`case.resolved` is out (and routing has stopped every clock).

Network operations declare the incident over routing's API (`POST /incidents`, as a
supervisor) before the burst and resolve it (`POST /incidents/{id}/resolve`) after it.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from common import (
    CpuMeter,
    RssSampler,
    admin_conn,
    bench_backends,
    broker_pids,
    descendants,
    fresh_setup,
    spawn,
    stop,
    wait_port,
    write_results,
)

from shared import clock
from shared.auth import mint_token
from shared.broker import Message, connect, publish_in_transaction, publish_properties
from shared.events.envelope import new_event

REGION, CATEGORY = "Haidian", "broadband"
ROUTING_PORT = 9183


class Api:
    """Routing's HTTP API as network operations use it (a connection per request: the burst
    lasts longer than the server keeps an idle one)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any], expect: int) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request("POST", path, json.dumps(body), self.headers)
            response = conn.getresponse()
            answer = json.loads(response.read() or b"{}")
        finally:
            conn.close()
        if response.status != expect:
            raise RuntimeError(f"POST {path}: {response.status} {answer}")
        return answer


def wait_for(
    check: Callable[[], bool], since: float, timeout: float, what: str, poll: float = 0.5
) -> float | None:
    """Seconds from `since` until `check()` holds; None (and a line saying so) on timeout."""
    while time.time() - since < timeout:
        if check():
            return time.time() - since
        time.sleep(poll)
    print(f"timed out after {timeout:.0f} s waiting for {what}", flush=True)
    return None


def scalar(c: Any, sql: str, *args: Any) -> int:
    return c.execute(sql, args).fetchone()[0]


def declare(api: Api) -> str:
    """A department with a member and a rule for the region, so the incident gets its single
    work item; then the incident itself."""
    api.post("/departments", {"code": "NET", "name": "Network field team"}, 201)
    staff = {
        "staff_id": "S-NET-1",
        "display_name": "Field engineer 1",
        "role": "department_staff",
        "department": "NET",
        "skills": [CATEGORY],
    }
    api.post("/staff", staff, 201)
    api.post("/routing-rules", {"position": 1, "department": "NET", "regions": [REGION]}, 201)
    now = clock.now()
    incident = api.post(
        "/incidents",
        {
            "regions": [REGION],
            "categories": [CATEGORY],
            "started_at": (now - timedelta(hours=1)).isoformat(),
            "eta": (now + timedelta(hours=4)).isoformat(),
            "message": "A fibre cut in your area; engineers are on site.",
        },
        201,
    )
    return incident["id"]


def publish_burst(s: Any, n: int) -> None:
    amqp = connect(s, name="bench-burst", user="portal")
    ch = amqp.channel()
    ch.tx_select()
    for first in range(0, n, 500):
        publish_in_transaction(ch, (_requested(s, i) for i in range(first, min(n, first + 500))))
    amqp.close()


def _requested(s: Any, i: int) -> Message:
    e = new_event(
        "case.requested",
        f"burst-{i}",
        {
            "channel": "online",
            "kind": "complaint",
            "category": CATEGORY,
            "region": REGION,
            "customer_ref": f"ACC-{i:06d}",
            "content": f"No broadband since the outage (burst {i})",
        },
        source="/bench-portal",
    )
    return Message(
        s.exchange("cs.inbound"),
        "case.requested",
        e.to_json(),
        publish_properties(e.id, e.type, e.subject, "portal"),
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--timeout", type=float, default=1800, help="per phase, seconds")
    args = ap.parse_args()
    n = args.count
    s = fresh_setup(["intake", "routing"])
    procs = {
        "intake-consumer": spawn("consume", "intake", log="burst-intake-consumer"),
        "intake-relay": spawn("relay", "intake", log="burst-intake-relay"),
        "routing-consumer": spawn("consume", "routing", log="burst-routing-consumer"),
        "routing-relay": spawn("relay", "routing", log="burst-routing-relay"),
        "routing-web": spawn("serve", "routing", port=ROUTING_PORT, log="burst-routing-web"),
    }
    sampler = RssSampler(procs)
    sampler.start()
    figures: dict[str, Any] = {}
    try:
        wait_port(ROUTING_PORT)
        time.sleep(4)
        api = Api(ROUTING_PORT, mint_token(s.jwt_secret, "bench-netops", ["supervisor"]))
        with admin_conn() as c:
            incident_id = declare(api)
            # intake links a new case at once when it knows the incident: wait until it does
            known = "SELECT count(*) FROM intake.incidents WHERE id = %s"
            heard = wait_for(
                lambda: scalar(c, known, incident_id) == 1,
                time.time(),
                60,
                "intake to hear of the incident",
                poll=0.1,
            )
            assert heard is not None, "intake never heard of the incident"

            groups = {k: functools.partial(descendants, p.pid) for k, p in procs.items()}
            groups |= {
                "postgresql": bench_backends,
                "rabbitmq": broker_pids,
                "publisher": lambda: [os.getpid()],
            }
            meter = CpuMeter(groups)
            meter.start()
            started = time.time()
            publish_burst(s, n)
            published_s = time.time() - started

            cases_at = clocks_at = linked_at = None
            while time.time() - started < args.timeout:
                cases, clocks, linked = c.execute(
                    "SELECT (SELECT count(*) FROM intake.cases),"
                    " (SELECT count(*) FROM routing.sla_clocks WHERE clock = 'customer'),"
                    " (SELECT count(*) FROM routing.incident_cases WHERE incident_id = %s)",
                    (incident_id,),
                ).fetchone()
                now = time.time() - started
                if cases >= n and cases_at is None:
                    cases_at = now
                if clocks >= n and clocks_at is None:
                    clocks_at = now
                    burst_cpu = meter.stop()
                if linked >= n and linked_at is None:
                    linked_at = now
                if clocks_at is not None and linked_at is not None:
                    break

                time.sleep(0.5)
            if clocks_at is None:
                burst_cpu = meter.stop()
            burst_cpu_ms = {k: round(1000 * v / n, 3) for k, v in burst_cpu.items()}
            burst_cpu_ms["total"] = round(sum(burst_cpu_ms.values()), 3)
            print(f"CPU ms per case until every clock: {burst_cpu_ms}", flush=True)
            time.sleep(2)
            counts = c.execute(
                "SELECT (SELECT count(*) FROM intake.cases),"
                " (SELECT count(DISTINCT id) FROM intake.cases),"
                " (SELECT count(DISTINCT event_id) FROM intake.inbox"
                " WHERE type = 'case.requested'),"
                " (SELECT count(*) FROM routing.sla_clocks WHERE clock = 'customer'),"
                " (SELECT count(DISTINCT case_id) FROM routing.sla_clocks WHERE clock = 'customer')"
            ).fetchone()
            linked = scalar(
                c, "SELECT count(*) FROM routing.incident_cases WHERE incident_id = %s", incident_id
            )
            linked_in_intake = scalar(
                c, "SELECT count(*) FROM intake.cases WHERE incident_id = %s", incident_id
            )
            # every case of this fresh database is the burst's
            one_by_one = scalar(
                c, "SELECT count(*) FROM routing.work_items WHERE case_id IS NOT NULL"
            )
            incident_items = scalar(
                c, "SELECT count(*) FROM routing.work_items WHERE incident_id = %s", incident_id
            )
            print(f"linked {linked} of {n}; work items of cases {one_by_one}", flush=True)
            assert linked == n, f"{linked} of {n} cases linked to the incident"
            assert one_by_one == 0, f"{one_by_one} cases assigned one by one"

            # an outage is repaired hours after its burst: the resolution is measured on a
            # system that has taken in the burst (intake has heard each case's sla.started;
            # it linked each case itself, so no case.linked comes back), not behind its queues
            caught_up = "SELECT count(*) FROM intake.inbox WHERE type = 'sla.started'"
            intake_caught_up_s = wait_for(
                lambda: scalar(c, caught_up) >= n,
                started,
                args.timeout,
                "intake to take in the burst's sla.started",
                poll=1.0,
            )

            # the resolution: every linked case resolved in intake, its case.resolved out
            resolve_started = time.time()
            api.post(
                f"/incidents/{incident_id}/resolve",
                {"cause": "FIBRE_CUT", "resolution": "The fibre was spliced; service is back."},
                200,
            )
            resolved_in_intake_s = wait_for(
                lambda: (
                    scalar(c, "SELECT count(*) FROM intake.cases WHERE state = 'resolved'") >= n
                ),
                resolve_started,
                args.timeout,
                "every case resolved in intake",
            )
            # the cases resolve in the transaction that writes their case.resolved to the
            # outbox: all of them are out once nothing there is unpublished (a cheap count, on
            # the relay's own index; the exact count of case.resolved is taken at the end)
            resolved_out_s = wait_for(
                lambda: (
                    scalar(c, "SELECT count(*) FROM intake.outbox WHERE published_at IS NULL") == 0
                ),
                resolve_started,
                args.timeout,
                "every case.resolved published",
            )
            clocks_stopped_s = wait_for(
                lambda: (
                    scalar(
                        c,
                        "SELECT count(*) FROM routing.sla_clocks"
                        " WHERE clock = 'customer' AND stopped_at IS NOT NULL",
                    )
                    >= n
                ),
                resolve_started,
                args.timeout,
                "routing to stop every customer clock",
            )
            time.sleep(2)
            resolved, resolved_events, distinct_resolved_events = c.execute(
                "SELECT (SELECT count(*) FROM intake.cases WHERE state = 'resolved'),"
                " (SELECT count(*) FROM intake.outbox WHERE type = 'case.resolved'"
                " AND published_at IS NOT NULL),"
                " (SELECT count(DISTINCT subject) FROM intake.outbox"
                " WHERE type = 'case.resolved')"
            ).fetchone()
            figures = {
                "publish_s": round(published_s, 1),
                "all_cases_s": round(cases_at, 1) if cases_at else None,
                "all_linked_s": round(linked_at, 1) if linked_at else None,
                "intake_caught_up_s": _round(intake_caught_up_s),
                "resolved_in_intake_s": _round(resolved_in_intake_s),
                "resolved_published_s": _round(resolved_out_s),
                "resolution_s": _round(
                    max(resolved_in_intake_s, resolved_out_s)
                    if resolved_in_intake_s is not None and resolved_out_s is not None
                    else None
                ),
                "clocks_stopped_s": _round(clocks_stopped_s),
                "burst_cpu_ms_per_case": burst_cpu_ms,
                "linked": linked,
                "linked_in_intake": linked_in_intake,
                "assigned_one_by_one": one_by_one,
                "incident_work_items": incident_items,
                "resolved": resolved,
                "case_resolved_events": resolved_events,
                "case_resolved_duplicated": resolved_events - distinct_resolved_events,
            }
    finally:
        sampler.done.set()
        stop(list(procs.values()))
    total = clocks_at or (time.time() - started)
    keys = ("cases", "distinct_cases", "requested_events_applied", "clocks", "distinct_clocks")
    got = dict(zip(keys, counts, strict=True))
    peak = {k: round(v, 1) for k, v in sampler.peak.items()}
    write_results(
        "outage_burst",
        {
            "count": n,
            **figures,
            "all_clocks_s": round(total, 1),
            "rate_per_s": round(n / total, 1),
            "extrapolated_100k_s": round(100_000 / (n / total)),
            "counts": got,
            "lost": n - got["distinct_clocks"],
            "duplicated": got["clocks"]
            - got["distinct_clocks"]
            + got["cases"]
            - got["distinct_cases"],
            "rss_peak_mb": peak,
            "rss_first_mb": {k: round(v, 1) for k, v in sampler.first.items()},
            "rss_last_mb": {k: round(v, 1) for k, v in sampler.last.items()},
            "target": "every process < 150 MB, zero lost, zero duplicated, every case linked,"
            " none assigned one by one, every case resolved once",
            "met": max(peak.values()) < 150
            and got["distinct_clocks"] == n == got["clocks"]
            and got["cases"] == n
            and figures["linked"] == n
            and figures["assigned_one_by_one"] == 0
            and figures["resolved"] == n == figures["case_resolved_events"]
            and figures["resolution_s"] is not None,
        },
    )


def _round(seconds: float | None) -> float | None:
    return round(seconds, 1) if seconds is not None else None


if __name__ == "__main__":
    main()
