"""pytest plugin: real PostgreSQL and RabbitMQ for every test session, isolated from everything.

The servers come from DATABASE_URL and AMQP_URL when set (the local ones, on CI), else from
testcontainers. Each session creates its own database and uses its own broker name prefix, and
removes both at the end, so a running local system is never touched.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from shared.auth import mint_token
from shared.config import SERVICES, Settings
from shared.consumer import Consumer
from shared.db import Database
from shared.relay import Relay
from shared.service import load_service


def _servers(request: pytest.FixtureRequest) -> tuple[str, str]:
    database_url, amqp_url = os.environ.get("DATABASE_URL"), os.environ.get("AMQP_URL")
    if not database_url:
        from testcontainers.community.postgres import PostgresContainer

        pg = PostgresContainer("postgres:15", driver=None).start()
        request.addfinalizer(pg.stop)
        database_url = pg.get_connection_url()
    if not amqp_url:
        from testcontainers.community.rabbitmq import RabbitMqContainer

        mq = RabbitMqContainer("rabbitmq:3.13").start()
        request.addfinalizer(mq.stop)
        amqp_url = f"amqp://guest:guest@{mq.get_container_host_ip()}:{mq.get_exposed_port(5672)}/"
    return database_url, amqp_url


@pytest.fixture(scope="session")
def cs_settings(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings pointing at this session's own database and broker names, fully migrated."""
    import psycopg

    database_url, amqp_url = _servers(request)
    run = uuid.uuid4().hex[:8]
    dbname = f"cs_test_{run}"
    settings = Settings.from_env().with_(
        database_url=_url_with_database(database_url, dbname),
        amqp_url=amqp_url,
        broker_prefix=f"test-{run}.",
        consumer_max_attempts=3,
        consumer_retry_base_s=0.01,
        relay_poll_s=0.2,
        db_pool_max=4,
    )
    _migrate_all(settings)
    yield settings
    _remove_broker_names(settings)
    with psycopg.connect(make_conninfo(database_url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


def _url_with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, ""))


def _migrate_all(settings: Settings) -> None:
    from shared.broker import connect, declare_service_queues
    from shared.migrate import migrate

    conn = connect(settings, name="test-migrate")
    try:
        channel = conn.channel()
        for name in SERVICES:
            spec = load_service(name)
            migrate(settings, spec)
            declare_service_queues(channel, settings, name, spec.handlers)
    finally:
        conn.close()


def _remove_broker_names(settings: Settings) -> None:
    from shared.broker import connect, dead_letter_queue, events_queue
    from shared.events.catalogue import EVENTS_EXCHANGE, INBOUND_EXCHANGE

    conn = connect(settings, name="test-cleanup")
    try:
        channel = conn.channel()
        for name in SERVICES:
            channel.queue_delete(events_queue(settings, name))
            channel.queue_delete(dead_letter_queue(settings, name))
        for exchange in (EVENTS_EXCHANGE, INBOUND_EXCHANGE):
            channel.exchange_delete(settings.exchange(exchange))
    finally:
        conn.close()


@pytest.fixture(scope="session")
def service_db(cs_settings: Settings) -> Iterator[Callable[[str], Database]]:
    """`service_db("routing")`: that service's pooled database, as its own role."""
    dbs: dict[str, Database] = {}

    def get(service: str) -> Database:
        if service not in dbs:
            dbs[service] = Database(cs_settings, service)
        return dbs[service]

    yield get
    for db in dbs.values():
        db.close()


@pytest.fixture(scope="session")
def make_token(cs_settings: Settings) -> Callable[..., str]:
    """`make_token("agent", subject="a-7")`: a bearer token signed like `cs token`'s."""

    def make(*roles: str, subject: str = "tester", scopes: tuple[str, ...] = ()) -> str:
        return mint_token(cs_settings.jwt_secret, subject, roles or ("admin",), scopes)

    return make


@pytest.fixture
def auth(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """`auth("agent")`: request headers carrying a token."""

    def headers(*roles: str, subject: str = "tester") -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(*roles, subject=subject)}"}

    return headers


@pytest.fixture(scope="session")
def client(cs_settings: Settings, service_db: Callable[[str], Database]) -> Callable[[str], Any]:
    """`client("intake")`: a Flask test client of that service, on the session's database."""
    clients: dict[str, Any] = {}

    def get(service: str) -> Any:
        if service not in clients:
            app = load_service(service).create_app(cs_settings, service_db(service))
            app.testing = True
            clients[service] = app.test_client()
        return clients[service]

    return get


@dataclass
class RunningService:
    """A service's relay and consumer running in threads, as their processes would."""

    name: str
    relay: Relay | None
    consumer: Consumer | None
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)


@pytest.fixture
def run_service(
    cs_settings: Settings, service_db: Callable[[str], Database]
) -> Iterator[Callable[..., RunningService]]:
    """`run_service("routing")` starts its relay and consumer; they stop after the test.

    `handlers=` replaces the service's handler table (for poison tests), `settings=` its
    settings (for a proxy in front of the broker), `purge=True` empties its queue first.
    """
    started: list[RunningService] = []

    def start(
        name: str,
        *,
        relay: bool = True,
        consumer: bool = True,
        handlers: dict | None = None,
        settings: Settings | None = None,
        purge: bool = True,
    ) -> RunningService:
        settings = settings or cs_settings
        stop = threading.Event()
        spec = load_service(name)
        svc = RunningService(
            name,
            Relay(settings, name, stop=stop) if relay else None,
            Consumer(
                settings,
                name,
                spec.handlers if handlers is None else handlers,
                db=service_db(name) if settings is cs_settings else None,
                stop=stop,
            )
            if consumer
            else None,
            stop=stop,
        )
        if purge and consumer:
            _purge(settings, name)
        for worker in (svc.relay, svc.consumer):
            if worker is not None:
                t = threading.Thread(
                    target=worker.run, name=f"{name}-{type(worker).__name__}", daemon=True
                )
                t.start()
                svc.threads.append(t)
        if svc.consumer is not None and not svc.consumer.ready.wait(10):
            raise AssertionError(f"{name} consumer did not start")
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.stop.set()
    for svc in started:
        for t in svc.threads:
            t.join(timeout=10)
        if svc.relay is not None:
            svc.relay.db.close()


def _purge(settings: Settings, service: str) -> None:
    from shared.broker import connect, dead_letter_queue, events_queue

    conn = connect(settings, name="test-purge")
    try:
        channel = conn.channel()
        for queue in (events_queue(settings, service), dead_letter_queue(settings, service)):
            with contextlib.suppress(Exception):
                channel.queue_purge(queue)
    finally:
        conn.close()
