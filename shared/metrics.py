"""Prometheus metrics. Under gunicorn, and for the relay and consumer of the same service, every
process writes to the service's multiprocess directory (PROMETHEUS_MULTIPROC_DIR, set by the CLI
before this module is imported), and the web process's `/metrics` adds them all up.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _mp

REQUESTS = Counter(
    "cs_http_requests_total", "HTTP requests", ["service", "endpoint", "method", "status"]
)
LATENCY = Histogram(
    "cs_http_request_seconds",
    "HTTP request latency",
    ["service", "endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PUBLISHED = Counter("cs_outbox_published_total", "Events published", ["service"])
OUTBOX_BACKLOG = Gauge(
    "cs_outbox_backlog", "Unpublished outbox rows", ["service"], multiprocess_mode="livemax"
)
OUTBOX_LAG = Gauge(
    "cs_outbox_lag_seconds",
    "Age of the oldest unpublished outbox row",
    ["service"],
    multiprocess_mode="livemax",
)
CONSUMED = Counter(
    "cs_events_handled_total", "Events handled (duplicates included)", ["service", "type"]
)
FAILED = Counter("cs_events_failed_total", "Handler attempts that failed", ["service", "type"])
DEAD_LETTERED = Counter(
    "cs_events_dead_lettered_total", "Events moved to the dead-letter queue", ["service", "type"]
)


def prepare_multiprocess_dir(service: str, *, wipe: bool = False) -> Path:
    """Points this process (and its children) at the service's metrics directory."""
    base = Path(os.environ.get("CS_METRICS_DIR") or Path(tempfile.gettempdir()) / "cs-metrics")
    path = base / service
    if wipe and path.exists():
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _mp.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _mp.mark_process_dead(pid)
