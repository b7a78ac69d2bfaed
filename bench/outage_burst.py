"""A burst of `case.requested` on cs.inbound: time until every one is a case with a clock."""

from __future__ import annotations

import argparse
import time

from common import RssSampler, admin_conn, fresh_setup, spawn, stop, write_results

from shared.broker import connect, publish_properties
from shared.events.envelope import new_event


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args()
    n = args.count
    s = fresh_setup(["intake", "routing"])
    procs = {
        "intake-consumer": spawn("consume", "intake", log="burst-intake-consumer"),
        "intake-relay": spawn("relay", "intake", log="burst-intake-relay"),
        "routing-consumer": spawn("consume", "routing", log="burst-routing-consumer"),
    }
    sampler = RssSampler(procs)
    sampler.start()
    try:
        time.sleep(4)
        amqp = connect(s, name="bench-burst", user="portal")
        ch = amqp.channel()
        ch.tx_select()
        started = time.time()
        for i in range(n):
            e = new_event(
                "case.requested",
                f"burst-{i}",
                {
                    "channel": "online",
                    "kind": "complaint",
                    "category": "broadband",
                    "region": "Haidian",
                    "customer_ref": f"ACC-{i:06d}",
                    "content": f"No broadband since the outage (burst {i})",
                },
                source="/bench-portal",
            )
            ch.basic_publish(
                s.exchange("cs.inbound"),
                "case.requested",
                e.to_json(),
                publish_properties(e.id, e.type, e.subject, "portal"),
            )
            if i % 500 == 499:
                ch.tx_commit()
        ch.tx_commit()
        published_s = time.time() - started
        amqp.close()
        cases_at = clocks_at = None
        with admin_conn() as c:
            while time.time() - started < args.timeout:
                cases, clocks = c.execute(
                    "SELECT (SELECT count(*) FROM intake.cases),"
                    " (SELECT count(*) FROM routing.sla_clocks WHERE clock = 'customer')"
                ).fetchone()
                now = time.time() - started
                if cases >= n and cases_at is None:
                    cases_at = now
                if clocks >= n and clocks_at is None:
                    clocks_at = now
                    break
                time.sleep(0.5)
            time.sleep(2)
            counts = c.execute(
                "SELECT (SELECT count(*) FROM intake.cases),"
                " (SELECT count(DISTINCT id) FROM intake.cases),"
                " (SELECT count(DISTINCT event_id) FROM intake.inbox"
                " WHERE type = 'case.requested'),"
                " (SELECT count(*) FROM routing.sla_clocks WHERE clock = 'customer'),"
                " (SELECT count(DISTINCT case_id) FROM routing.sla_clocks WHERE clock = 'customer')"
            ).fetchone()
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
            "publish_s": round(published_s, 1),
            "all_cases_s": round(cases_at, 1) if cases_at else None,
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
            "target": "every process < 150 MB, zero lost, zero duplicated",
            "met": max(peak.values()) < 150
            and got["distinct_clocks"] == n == got["clocks"]
            and got["cases"] == n,
        },
    )


if __name__ == "__main__":
    main()
