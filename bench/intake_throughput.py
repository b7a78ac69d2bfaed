"""POST /cases under wrk (16 connections) against the floor app; alternates floor/intake."""

from __future__ import annotations

import argparse
import functools
import os
import re
import subprocess

from common import (
    BENCH,
    DB_URL,
    VENV_BIN,
    CpuMeter,
    admin_conn,
    bench_backends,
    descendants,
    fresh_setup,
    median,
    pct,
    spawn,
    stop,
    wait_port,
    write_results,
)
from floor_app import DDL
from wrk_output import latency_percentiles

from shared.auth import mint_token


def wrk(port: int, seconds: int, connections: int, token: str, server: subprocess.Popen) -> dict:
    """wrk's figures, and the CPU the server and its PostgreSQL backends spent per request
    (steadier than requests per second on a machine whose speed drifts)."""
    env = dict(os.environ, BENCH_TOKEN=token)
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(BENCH / "post_case.lua"),
        f"http://127.0.0.1:{port}/cases",
    ]
    meter = CpuMeter({"web": functools.partial(descendants, server.pid), "db": bench_backends})
    meter.start()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    cpu = meter.stop()
    lat = latency_percentiles(out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    done = int(re.search(r"(\d+) requests in", out).group(1)) or 1
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "web_cpu_ms": round(1000 * cpu["web"] / done, 3),
        "db_cpu_ms": round(1000 * cpu["db"] / done, 3),
        "p50_ms": lat.get("50"),
        "p99_ms": lat.get("99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    s = fresh_setup(["intake"])
    with admin_conn() as c:
        c.execute(DDL)
    token = mint_token(s.jwt_secret, "bench", ["agent"])
    intake = spawn("serve", "intake", port=9181, log="intake-web")
    floor = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "-k",
            "gthread",
            "-w",
            "2",
            "--threads",
            "4",
            "-b",
            "127.0.0.1:9182",
            "--chdir",
            str(BENCH),
            "floor_app:app",
        ],
        env=dict(os.environ, FLOOR_DATABASE_URL=DB_URL),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runs: dict[str, list[dict]] = {"floor": [], "intake": []}
    try:
        wait_port(9181)
        wait_port(9182)
        for _ in range(args.rounds):
            for name, port, server in (("floor", 9182, floor), ("intake", 9181, intake)):
                wrk(port, args.warmup, args.connections, token, server)
                r = wrk(port, args.duration, args.connections, token, server)
                print(name, r, flush=True)
                runs[name].append(r)
    finally:
        stop([intake, floor])
    fig = {
        k: {
            "rps": median([r["rps"] for r in v]),
            "p50_ms": median([r["p50_ms"] for r in v]),
            "p99_ms": median([r["p99_ms"] for r in v]),
            "cpu_ms_per_request": median([r["web_cpu_ms"] + r["db_cpu_ms"] for r in v]),
        }
        for k, v in runs.items()
    }
    ratio = fig["intake"]["rps"] / fig["floor"]["rps"]
    write_results(
        "intake_throughput",
        {
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "runs": runs,
            "median": fig,
            "ratio": round(ratio, 3),
            "ratio_pct": pct(ratio, 1),
            # what the ratio would be if both were bound by CPU alone
            "cpu_ratio_pct": pct(
                fig["floor"]["cpu_ms_per_request"], fig["intake"]["cpu_ms_per_request"]
            ),
            "target": ">= 75 %",
            "met": ratio >= 0.75,
        },
    )


if __name__ == "__main__":
    main()
