"""What the shared machinery needs to know about one service: its manifest.

Each service declares one `SPEC` in `services/<name>/service.py`; the CLI, the gunicorn config,
the relay and the consumer find it by name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from shared.config import Settings
    from shared.db import Database, Transaction
    from shared.events.envelope import Event
    from shared.metrics import FactsReader

Handler = Callable[["Transaction", "Event"], None]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    migrations: Path
    create_app: Callable[..., Flask]
    # event type -> handler; the keys are also the service queue's bindings
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    # work after the schema is up to date (seed data that comes from Python, not SQL)
    after_migrate: Callable[[Database, Settings], Any] | None = None
    # periodic work for `cs schedule`: one batch per call, returns how much it did
    scheduled: Callable[[Database, datetime], int] | None = None
    # gauges read from its schema when /metrics is scraped (shared/metrics.py), besides the
    # outbox and heartbeat ones every service has
    facts: FactsReader | None = None

    @property
    def source(self) -> str:
        return f"/{self.name}"

    @property
    def processes(self) -> tuple[str, ...]:
        """Its long-running processes besides the web: the relay, a consumer if it handles
        events, a scheduler if it has scheduled work (the Procfile runs the same)."""
        return (
            "relay",
            *(("consumer",) if self.handlers else ()),
            *(("scheduler",) if self.scheduled is not None else ()),
        )


def load_service(name: str) -> ServiceSpec:
    from shared.config import SERVICES

    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.service").SPEC
