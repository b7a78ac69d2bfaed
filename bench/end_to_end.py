"""Cases opened at a fixed rate; time from the POST response to routing's clock (recorded_at)."""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import threading
import time

from common import (
    CpuMeter,
    admin_conn,
    bench_backends,
    broker_pids,
    descendants,
    fresh_setup,
    percentile,
    spawn,
    stop,
    wait_port,
    write_results,
)

from shared.auth import mint_token

BODY = json.dumps(
    {
        "kind": "complaint",
        "channel": "hotline",
        "category": "broadband",
        "region": "Haidian",
        "customer_ref": "ACC-1001",
        "content": "Broadband drops every evening",
        "identity_verified": True,
    }
)


def load(port: int, token: str, rate: float, seconds: float, threads: int) -> dict[str, float]:
    """Paced POSTs (slot i at t0 + i/rate) from keep-alive connections; {case_id: response time}."""
    total, lock, nxt = int(rate * seconds), threading.Lock(), [0]
    done: dict[str, float] = {}
    t0 = time.time() + 0.5
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= total:
                break
            delay = t0 + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            conn.request("POST", "/cases", BODY, headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status == 201:
                done[json.loads(data)["id"]] = time.time()
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return done


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=300)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--routing-consumers", type=int, default=2)
    args = ap.parse_args()
    s = fresh_setup(["intake", "routing"])
    token = mint_token(s.jwt_secret, "bench", ["agent"])
    procs = {
        "intake web": spawn("serve", "intake", port=9181, log="e2e-web"),
        "intake relay": spawn("relay", "intake", log="e2e-intake-relay"),
        **{
            f"routing consumer {i + 1}": spawn("consume", "routing", log="e2e-routing-consumer")
            for i in range(args.routing_consumers)
        },
        "routing relay": spawn("relay", "routing", log="e2e-routing-relay"),
    }
    try:
        wait_port(9181)
        time.sleep(3)
        meter = CpuMeter(
            {
                **{name: functools.partial(descendants, p.pid) for name, p in procs.items()},
                "postgresql": bench_backends,
                "rabbitmq": broker_pids,
            }
        )
        meter.start()
        load_cpu = time.process_time()
        started = time.time()
        done = load(9181, token, args.rate, args.duration, args.threads)
        elapsed = time.time() - started
        cpu = meter.stop()
        cpu["load generator"] = time.process_time() - load_cpu
        ids = list(done)
        with admin_conn() as c:
            deadline = time.time() + 120
            while True:
                rows = c.execute(
                    "SELECT case_id, extract(epoch FROM min(recorded_at)) FROM routing.sla_clocks"
                    " WHERE case_id = ANY(%s) AND clock = 'customer' GROUP BY case_id",
                    (ids,),
                ).fetchall()
                if len(rows) >= len(ids) or time.time() > deadline:
                    break
                time.sleep(1)
    finally:
        stop(list(procs.values()))
    lat = [(float(at) - done[cid]) * 1000 for cid, at in rows]
    p99 = percentile(lat, 99)
    write_results(
        "end_to_end",
        {
            "rate_target": args.rate,
            "duration_s": args.duration,
            "requested": int(args.rate * args.duration),
            "opened": len(ids),
            "achieved_rate": round(len(ids) / elapsed, 1),
            "with_clock": len(rows),
            "latency_ms": {
                "p50": round(percentile(lat, 50), 1),
                "p99": round(p99, 1),
                "max": round(max(lat), 1) if lat else None,
            },
            # CPU spent during the load (not the drain after it), per case opened
            "cpu_ms_per_case": {
                name: round(1000 * seconds / max(1, len(ids)), 2) for name, seconds in cpu.items()
            },
            "routing_consumers": args.routing_consumers,
            "target": "p99 < 200 ms",
            "met": p99 < 200 and len(rows) == len(ids),
        },
    )


if __name__ == "__main__":
    main()
