"""Shared helpers for the benchmarks: the bench database, `cs` subprocesses, RSS, results."""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg

from shared.broker import connect, declare_service_queues
from shared.broker_admin import BrokerAdmin, prepare_vhost
from shared.config import Settings
from shared.migrate import migrate
from shared.service import load_service

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
DB_URL = "postgresql://postgres@127.0.0.1:5432/cs_bench"
VHOST = "cs_bench"  # the benchmarks' own broker virtual host, emptied by each fresh setup


def settings() -> Settings:
    base = Settings.from_env()
    host = base.amqp_url.split(",")[0].rsplit("/", 1)[0]
    return base.with_(database_url=DB_URL, amqp_url=f"{host}/{VHOST}")


def fresh_setup(services: list[str]) -> Settings:
    """Drops and re-creates cs_bench and its broker vhost, migrates `services`, declares their
    (empty) queues as each service's broker user."""
    s = settings()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS cs_bench WITH (FORCE)")
        c.execute("CREATE DATABASE cs_bench")
    BrokerAdmin(s).delete_vhost(VHOST)
    prepare_vhost(s)
    for name in services:
        spec = load_service(name)
        migrate(s, spec)
        amqp = connect(s, name=f"{name}-bench-setup", user=name)
        try:
            declare_service_queues(amqp.channel(), s, name, spec.handlers)
        finally:
            amqp.close()
    return s


def admin_conn() -> psycopg.Connection:
    return psycopg.connect(DB_URL, autocommit=True)


def spawn(*args: str, port: int | None = None, log: str = "cs") -> subprocess.Popen:
    """`.venv/bin/cs ARGS` against the bench database and broker names."""
    env = dict(
        os.environ,
        DATABASE_URL=DB_URL,
        AMQP_URL=settings().amqp_url,
        CS_LOG_LEVEL="WARNING",
        CS_METRICS_DIR=f"/tmp/cs-metrics-bench-{os.getpid()}",
        # the bench runs on a development machine, with its public secrets
        CS_ENV=os.environ.get("CS_ENV") or "development",
    )
    argv = [str(VENV_BIN / "cs"), *args]
    if port:
        argv += ["--port", str(port)]
    out = open(f"/tmp/bench-{log}-{os.getpid()}.log", "ab")  # noqa: SIM115
    return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_port(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def broker_pids() -> list[int]:
    """The local RabbitMQ node's processes, when it runs on this machine."""
    out = subprocess.run(["pgrep", "-f", "beam.smp"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class CpuMeter:
    """CPU time spent by groups of processes between `start()` and `stop()`; processes that
    appear in between (a pool opening a connection) are counted from their start."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self._before: dict[str, dict[int, float]] = {}

    def start(self) -> None:
        self._before = {
            name: {pid: cpu_seconds(pid) for pid in pids()} for name, pids in self.groups.items()
        }

    def stop(self) -> dict[str, float]:
        return {
            name: sum(cpu_seconds(pid) - self._before[name].get(pid, 0.0) for pid in pids())
            for name, pids in self.groups.items()
        }


def bench_backends() -> list[int]:
    """The PostgreSQL server processes serving the bench database (pooled, so long-lived)."""
    with admin_conn() as c:
        rows = c.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = 'cs_bench'"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return [r[0] for r in rows]


class RssSampler(threading.Thread):
    """Samples VmRSS of every process (and its children) every `interval` s; keeps the peaks."""

    def __init__(self, procs: dict[str, subprocess.Popen], interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.procs, self.interval = procs, interval
        self.peak: dict[str, float] = {}
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            for label, proc in self.procs.items():
                for i, pid in enumerate(descendants(proc.pid)):
                    key = label if i == 0 else f"{label}[{pid}]"
                    mb = rss_mb(pid)
                    if mb:
                        self.peak[key] = max(self.peak.get(key, 0.0), mb)
                        self.first.setdefault(key, mb)
                        self.last[key] = mb


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def median(values: list[float | None]) -> float | None:
    """The median of the figures a run recorded; None (no figure) when none did. A run that
    recorded none (None, NaN) leaves it out rather than failing the whole benchmark."""
    known = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(known) if known else None


def pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "n/a"


def write_results(name: str, figures: dict) -> None:
    figures = {
        "benchmark": name,
        "date": date.today().isoformat(),
        "cores": os.cpu_count(),
        "argv": sys.argv[1:],
        **figures,
    }
    path = BENCH / "results" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print(json.dumps(figures, indent=2, default=str))
    print(f"written to {path.relative_to(ROOT)}")
