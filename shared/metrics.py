"""Prometheus metrics of every process of a service, exported by its web process's `/metrics`.

Two kinds, each where it is true:

- What processes count (HTTP requests, events published, consumed, failed, dead-lettered,
  consumer batches and lag, scheduler ticks) goes to files in the service's multiprocess
  directory, `$CS_METRICS_DIR/<service>`, shared by its web workers, relay, consumer and
  scheduler (one volume per service in compose); `/metrics` adds them all up.
- What is a fact of the database (outbox backlog and the age of its oldest row, SLA clocks,
  which processes are alive) is read from the service's own schema when `/metrics` is asked,
  kept a few seconds (`ServiceFacts`), so it is right whichever process or container asks.

prometheus_client decides once, when it is first imported, whether to write files: a process
sets `PROMETHEUS_MULTIPROC_DIR` before anything imports this module (`cs` does it first).
Label values never come from a message: an event type outside the catalogue is `unknown`.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _mp
from prometheus_client.core import GaugeMetricFamily, Metric

from shared.events.catalogue import CATALOGUE

if TYPE_CHECKING:
    from shared.db import Database, Transaction

log = logging.getLogger(__name__)
UNKNOWN_TYPE = "unknown"

REQUESTS = Counter(
    "cs_http_requests_total", "HTTP requests", ["service", "endpoint", "method", "status"]
)
LATENCY = Histogram(
    "cs_http_request_seconds",
    "HTTP request latency",
    ["service", "endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PUBLISHED = Counter(
    "cs_outbox_published_total",
    "Outbox rows the relay published (a batch published again after a crash counts again)",
    ["service", "type"],
)
CONSUMED = Counter(
    "cs_events_consumed_total",
    "Events the consumer handled and acknowledged (redeliveries included)",
    ["service", "type"],
)
DUPLICATES = Counter(
    "cs_events_duplicate_total",
    "Events already in the inbox when they arrived again (handled once, changed nothing)",
    ["service", "type"],
)
FAILED = Counter("cs_events_failed_total", "Handler attempts that failed", ["service", "type"])
DEAD_LETTERED = Counter(
    "cs_events_dead_lettered_total",
    "Events the consumer moved to the dead-letter queue",
    ["service", "type", "reason"],
)
CONSUMER_BATCH = Histogram(
    "cs_consumer_batch_size",
    "Messages handled together (one transaction when they all succeed)",
    ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
CONSUMER_LAG = Histogram(
    "cs_consumer_lag_seconds",
    "From an event's time to its handler's commit",
    ["service"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
SCHEDULER_TICKS = Counter("cs_scheduler_ticks_total", "Rounds of the active scheduler", ["service"])
SCHEDULER_DONE = Counter(
    "cs_scheduler_done_total",
    "Items the scheduler's rounds did (warnings, breaches, ...)",
    ["service"],
)
SCHEDULER_TICK_SECONDS = Histogram(
    "cs_scheduler_tick_seconds",
    "Duration of one scheduler round",
    ["service"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# why an event was dead-lettered (shared/consumer.py) -> a fixed label value
DEAD_LETTER_REASONS = {
    "invalid event": "invalid",
    "no handler": "no_handler",
    "handler failed": "handler_failed",
    "unauthorized producer": "unauthorized_producer",
    "waited too long": "waited_too_long",
}


@functools.lru_cache(maxsize=4096)
def _requests(service: str, endpoint: str, method: str, status: int) -> Counter:
    return REQUESTS.labels(service, endpoint, method, status)


@functools.lru_cache(maxsize=4096)
def _latency(service: str, endpoint: str, method: str) -> Histogram:
    return LATENCY.labels(service, endpoint, method)


def http_request(
    service: str, endpoint: str, method: str, status: int, seconds: float | None
) -> None:
    """One HTTP request answered (`endpoint` is its URL rule, never its path), and how long it
    took when known. The labelled series are looked up once per process, not per request."""
    if seconds is not None:
        _latency(service, endpoint, method).observe(seconds)
    _requests(service, endpoint, method, status).inc()


def type_label(event_type: str | None) -> str:
    """The event type as a label value: the catalogue's names only, anything else `unknown`."""
    return event_type if event_type in CATALOGUE else UNKNOWN_TYPE


def reason_label(why: str) -> str:
    return DEAD_LETTER_REASONS.get(why, "other")


@dataclass(frozen=True)
class Fact:
    """A gauge a service reads from its own schema at scrape time: a value per label set."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    values: dict[tuple[str, ...], float] = field(default_factory=dict)

    def family(self) -> GaugeMetricFamily:
        gauge = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        for label_values, value in sorted(self.values.items()):
            gauge.add_metric(label_values, value)
        return gauge


# a service's own facts (routing: its SLA clocks), from its ServiceSpec
FactsReader = Callable[["Transaction"], Iterable[Fact]]


class ServiceFacts:
    """The database's facts about one service, read from its schema when scraped and kept `ttl`
    seconds (every gunicorn worker keeps its own copy): outbox backlog and oldest row, which of
    its processes beat recently, and what the service itself adds (`ServiceSpec.facts`)."""

    def __init__(self, service: str, db: Database, *, ttl: float = 5.0) -> None:
        self.service = service
        self.db = db
        self.ttl = ttl
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._families: list[Metric] = []

    def describe(self) -> list[Metric]:
        return []  # nothing to read at registration

    def collect(self) -> list[Metric]:
        with self._lock:
            if time.monotonic() - self._read_at >= self.ttl:
                self._families = [f.family() for f in self.read()]
                self._read_at = time.monotonic()
            return self._families

    def read(self) -> list[Fact]:
        from shared import heartbeat
        from shared.outbox import backlog
        from shared.service import load_service

        spec = load_service(self.service)
        svc = (self.service,)
        up = Fact(
            "cs_database_up",
            "1 when /metrics could read the service's schema just now",
            ("service",),
            {svc: 0.0},
        )
        try:
            with self.db.transaction() as tx:
                count, age = backlog(tx.conn)
                beats = heartbeat.beats(tx.conn)
                own = list(spec.facts_reader(tx)) if spec.facts else []
        except Exception as e:  # a scrape reports the outage, it does not fail
            log.warning("metrics: cannot read %s's schema: %s", self.service, type(e).__name__)
            return [up]
        up.values[svc] = 1.0
        expected = spec.processes
        alive = Fact(
            "cs_processes_alive",
            f"Processes whose heartbeat is younger than {heartbeat.STALE_S:.0f} s",
            ("service", "process"),
            {(self.service, p): 0.0 for p in expected},
        )
        freshest = Fact(
            "cs_process_heartbeat_age_seconds",
            "Age of the freshest heartbeat of each kind of process",
            ("service", "process"),
        )
        for b in beats:
            key = (self.service, b.process)
            alive.values[key] = alive.values.get(key, 0.0) + b.alive
            freshest.values[key] = min(freshest.values.get(key, b.age_s), b.age_s)
        return [
            up,
            Fact("cs_outbox_backlog", "Unpublished outbox rows", ("service",), {svc: count}),
            Fact(
                "cs_outbox_oldest_unpublished_seconds",
                "Age of the oldest unpublished outbox row (0 when there is none)",
                ("service",),
                {svc: age},
            ),
            alive,
            freshest,
            *own,
        ]


class _ThisProcess:
    """The in-memory metrics of this process, when there is no multiprocess directory (tests)."""

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition(*collectors: object) -> tuple[bytes, str]:
    """Every process's metrics (the directory's files, or this process's), then `collectors`."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _mp.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())  # type: ignore[arg-type]
    for collector in collectors:
        registry.register(collector)  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _mp.mark_process_dead(pid)
