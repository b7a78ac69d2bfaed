"""What the shared machinery needs to know about one service: its manifest.

Each service declares one `SPEC` in `services/<name>/service.py`; the CLI, the gunicorn config,
the relay and the consumer find it by name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
BatchHandler = Callable[["Transaction", list["Event"]], None]


def batched(many: BatchHandler) -> Handler:
    """A handler that also takes many events of its type at once, to write them with one
    statement each instead of one per event (what a burst of thousands of cases needs).

    The consumer hands `many` the fresh events of the type that arrived together, no two of one
    key (shared/consumer.py); one event alone goes the same way, as a list of one. `many` sets
    each event's correlation id around what it emits for it (`shared.logs.correlated`)."""

    def one(tx: Transaction, event: Event) -> None:
        many(tx, [event])

    one.many = many  # type: ignore[attr-defined]
    one.__name__, one.__doc__ = many.__name__, many.__doc__
    return one


def resolve(ref: str) -> Any:
    """The object a manifest names as "package.module:attribute", imported on first use."""
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class ServiceSpec:
    """A service's manifest: plain data. Its code is named as "module:attribute" and imported
    only when a process needs it, so reading a manifest (the CLI's parser, the compose test)
    loads nothing of the service and nothing that imports prometheus_client."""

    name: str
    port: int
    migrations: Path
    # the web app's factory (settings, db) -> Flask, and gunicorn's module-level app
    app: str
    wsgi: str
    # event type -> handler; the keys are also the service queue's bindings
    event_handlers: str | None = None
    # work after the schema is up to date (seed data that comes from Python, not SQL)
    after_migrate: str | None = None
    # periodic work for `cs schedule`: (Database, now) -> how much it did, one batch per call
    job: str | None = None
    # gauges read from its schema when /metrics is scraped (shared/metrics.py), besides the
    # outbox and heartbeat ones every service has
    facts: str | None = None
    # its own `cs` subcommands: register(subparsers) adds them
    commands: str | None = None

    @property
    def source(self) -> str:
        """The `source` of every event it publishes."""
        return f"/{self.name}"

    def create_app(self, *args: Any, **kwargs: Any) -> Flask:
        return resolve(self.app)(*args, **kwargs)

    @property
    def handlers(self) -> Mapping[str, Handler]:
        return resolve(self.event_handlers) if self.event_handlers else {}

    @property
    def scheduled(self) -> Callable[[Database, datetime], int] | None:
        return resolve(self.job) if self.job else None

    @property
    def facts_reader(self) -> FactsReader | None:
        return resolve(self.facts) if self.facts else None

    def run_after_migrate(self, db: Database, settings: Settings) -> None:
        if self.after_migrate:
            resolve(self.after_migrate)(db, settings)

    @property
    def processes(self) -> tuple[str, ...]:
        """Its long-running processes besides the web: the relay, a consumer if it handles
        events, a scheduler if it has scheduled work (the Procfile runs the same)."""
        return (
            "relay",
            *(("consumer",) if self.event_handlers else ()),
            *(("scheduler",) if self.job else ()),
        )


def load_service(name: str) -> ServiceSpec:
    from shared.config import SERVICES

    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.service").SPEC
