"""pytest plugin: real PostgreSQL and RabbitMQ for every test session, isolated from everything.

The servers come from DATABASE_URL and AMQP_URL when set, else the local ones on their default
ports, else testcontainers. Each test system (the session's, and each `own_system`) has its own
database and its own broker virtual host, with the platform's broker users, and removes both at
the end, so a running local system is never touched.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from shared import clock
from shared.auth import mint_token
from shared.broker_admin import BrokerAdmin, prepare_vhost, vhost_of
from shared.config import DEVELOPMENT, SERVICES, Settings
from shared.consumer import Consumer
from shared.db import Database
from shared.events import catalogue
from shared.relay import Relay
from shared.service import load_service

_LOCAL_DATABASE = "postgresql://postgres@127.0.0.1:5432/postgres"
_LOCAL_BROKER = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _docker_engine() -> bool:
    with contextlib.suppress(Exception):
        import docker

        docker.from_env(timeout=3).ping()
        return True
    return False


def _servers(request: pytest.FixtureRequest) -> tuple[str, str]:
    """DATABASE_URL / AMQP_URL when set; else the local servers on their default ports when
    they answer; else testcontainers when a Docker engine is there; else one line saying what
    to start."""
    database_url, amqp_url = os.environ.get("DATABASE_URL"), os.environ.get("AMQP_URL")
    if not database_url and _answers("127.0.0.1", 5432):
        database_url = _LOCAL_DATABASE
    if not amqp_url and _answers("127.0.0.1", 5672):
        amqp_url = _LOCAL_BROKER
    if (not database_url or not amqp_url) and not _docker_engine():
        missing = [n for n, u in (("PostgreSQL", database_url), ("RabbitMQ", amqp_url)) if not u]
        pytest.exit(
            f"no {' and no '.join(missing)} for the tests: start them on 127.0.0.1 (5432, 5672),"
            " set DATABASE_URL / AMQP_URL, or run a Docker engine for testcontainers",
            returncode=3,
        )
    if not database_url:
        from testcontainers.community.postgres import PostgresContainer

        pg = PostgresContainer("postgres:15", driver=None).start()
        request.addfinalizer(pg.stop)
        database_url = pg.get_connection_url()
    if not amqp_url:
        from testcontainers.community.rabbitmq import RabbitMqContainer

        mq = RabbitMqContainer("rabbitmq:3.13-management").with_exposed_ports(5672, 15672)
        mq.start()
        request.addfinalizer(mq.stop)
        mq.exec("rabbitmq-plugins enable rabbitmq_consistent_hash_exchange")
        host = mq.get_container_host_ip()
        amqp_url = f"amqp://guest:guest@{host}:{mq.get_exposed_port(5672)}/"
        os.environ["CS_BROKER_ADMIN_URL"] = (
            f"http://guest:guest@{host}:{mq.get_exposed_port(15672)}"
        )
    return database_url, amqp_url


def pytest_configure(config: pytest.Config) -> None:
    """The tests run as development (its public secrets; the processes they start inherit it).
    `CS_TEST_NOW` (an ISO timestamp with offset): the suite's clock starts there, runs on."""
    os.environ["CS_ENV"] = DEVELOPMENT
    # every emitted event is validated in full by its producer too, here and in the processes
    # the tests start (shared.events.catalogue.CHECK_EMITTED)
    os.environ["CS_CHECK_EMITTED_EVENTS"] = "true"
    catalogue.CHECK_EMITTED = True
    start = os.environ.get("CS_TEST_NOW", "").strip()
    if start:
        try:
            at = datetime.fromisoformat(start)
            clock.set_now(at)
        except ValueError as e:
            raise pytest.UsageError(f"CS_TEST_NOW={start!r}: {e}") from None


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    """A test that moves the clock moves it for itself only."""
    saved = clock.snapshot()
    yield
    clock.restore(saved)


class System:
    """One isolated copy of the platform for tests: a database and broker names of its own.

    `db(name)` is a service's pooled database (as its own role), `client(name)` a Flask test
    client of its app, `run(name)` its relay and consumer in threads (stopped by `stop()`).
    """

    def __init__(self, settings: Settings, admin_url: str, dbname: str) -> None:
        self.settings = settings
        self.admin_url = admin_url
        self.dbname = dbname
        self._dbs: dict[str, Database] = {}
        self._clients: dict[str, Any] = {}
        self._running: list[RunningService] = []

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a `cs` process on this system: its database and broker, the
        suite's keys and its clock (running on from where the test set it)."""
        s = self.settings
        return {
            **os.environ,
            "DATABASE_URL": s.database_url,
            "AMQP_URL": s.amqp_url,
            "CS_BROKER_PREFIX": s.broker_prefix,
            "CS_JWT_SECRET": s.jwt_secret,
            "CS_PII_KEY": s.pii_key,
            "CS_PII_INDEX_KEY": s.pii_index_key,
            **clock.process_env(),
            **extra,
        }

    def db(self, service: str) -> Database:
        if service not in self._dbs:
            self._dbs[service] = Database(self.settings, service)
        return self._dbs[service]

    def client(self, service: str) -> Any:
        if service not in self._clients:
            app = load_service(service).create_app(self.settings, self.db(service))
            app.testing = True
            self._clients[service] = app.test_client()
        return self._clients[service]

    def run(
        self,
        name: str,
        *,
        relay: bool = True,
        consumer: bool = True,
        handlers: dict | None = None,
        settings: Settings | None = None,
        purge: bool = True,
    ) -> RunningService:
        """Starts the service's relay and consumer in threads.

        `handlers=` replaces its handler table (for poison tests), `settings=` its settings (for
        a proxy in front of the broker), `purge=True` empties its queues first.
        """
        settings = settings or self.settings
        stop = threading.Event()
        spec = load_service(name)
        svc = RunningService(
            name,
            Relay(settings, name, stop=stop) if relay else None,
            Consumer(
                settings,
                name,
                spec.handlers if handlers is None else handlers,
                db=self.db(name) if settings is self.settings else None,
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
        self._running.append(svc)
        return svc

    def stop(self) -> None:
        """Stops what `run` started."""
        running, self._running = self._running, []
        for svc in running:
            svc.stop.set()
        for svc in running:
            for t in svc.threads:
                t.join(timeout=10)
            if svc.relay is not None:
                svc.relay.db.close()

    def close(self) -> None:
        """Stops everything, runs the checks registered in `BEFORE_DROP`, removes it all."""
        self.stop()
        try:
            for check in BEFORE_DROP:
                check(self)
        finally:
            for db in self._dbs.values():
                db.close()
            BrokerAdmin(self.settings).delete_vhost(vhost_of(self.settings))
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.dbname)
                    )
                )


# called with each System before its database goes (the suite's personal-data scan)
BEFORE_DROP: list[Callable[[System], None]] = []


@dataclass
class _Servers:
    database_url: str
    amqp_url: str
    run: str
    template: str | None = None
    copies: int = 0

    @property
    def admin_url(self) -> str:
        return make_conninfo(self.database_url, dbname="postgres")

    def settings(self, dbname: str) -> Settings:
        """A system's settings: its database and a broker virtual host of the same name."""
        return Settings.from_env().with_(
            database_url=_url_with_database(self.database_url, dbname),
            amqp_url=",".join(
                _url_with_database(u.strip(), dbname) for u in self.amqp_url.split(",")
            ),
            broker_prefix="",
            consumer_max_attempts=3,
            consumer_retry_base_s=0.01,
            relay_poll_s=0.2,
            db_pool_max=4,
        )


@pytest.fixture(scope="session")
def _cs_servers(request: pytest.FixtureRequest) -> _Servers:
    database_url, amqp_url = _servers(request)
    servers = _Servers(database_url, amqp_url, uuid.uuid4().hex[:8])
    problem = _broker_problem(servers.settings("postgres"))
    if problem:
        pytest.exit(problem, returncode=3)
    request.addfinalizer(lambda: _drop_template(servers))
    return servers


@pytest.fixture(scope="session")
def cs_system(_cs_servers: _Servers) -> Iterator[System]:
    """The session's system, shared by the tests that only look at what they made."""
    dbname = f"cs_test_{_cs_servers.run}"
    system = System(_cs_servers.settings(dbname), _cs_servers.admin_url, dbname)
    _migrate_all(system.settings)
    yield system
    system.close()


@pytest.fixture
def own_system(_cs_servers: _Servers) -> Iterator[System]:
    """A system of the test's own, for tests that sweep (schedulers, draws, samples, reports):
    a fresh database copied from a migrated template, and a broker virtual host of its own."""
    servers = _cs_servers
    if servers.template is None:
        servers.template = f"cs_test_{servers.run}_template"
        template = servers.settings(servers.template)
        _migrate_all(template, queues=False)
    servers.copies += 1
    dbname = f"cs_test_{servers.run}_{servers.copies}"
    with psycopg.connect(servers.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(dbname), sql.Identifier(servers.template)
            )
        )
    system = System(servers.settings(dbname), servers.admin_url, dbname)
    prepare_vhost(system.settings)
    _declare_queues(system.settings)
    yield system
    system.close()


def _broker_problem(settings: Settings) -> str | None:
    """One line saying what the broker lacks for the tests, or None."""
    from shared.broker_admin import BrokerAdminError

    try:
        overview = BrokerAdmin(settings).call("GET", "/overview")
        types = {t["name"] for t in overview["exchange_types"]}
    except BrokerAdminError as e:
        return str(e)
    if "x-consistent-hash" not in types:
        return (
            "RabbitMQ lacks the consistent-hash exchange the partitions use: run"
            " `rabbitmq-plugins enable rabbitmq_consistent_hash_exchange`"
        )
    return None


def _drop_template(servers: _Servers) -> None:
    if servers.template is not None:
        with psycopg.connect(servers.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(servers.template)
                )
            )


@pytest.fixture(scope="session")
def cs_settings(cs_system: System) -> Settings:
    """Settings pointing at the session's own database and broker names, fully migrated."""
    return cs_system.settings


def _url_with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, ""))


def _migrate_all(settings: Settings, *, queues: bool = True) -> None:
    from shared.migrate import migrate

    for name in SERVICES:
        migrate(settings, load_service(name))
    if queues:
        prepare_vhost(settings)
        _declare_queues(settings)


def _declare_queues(settings: Settings) -> None:
    from shared.broker import connect, declare_service_queues

    for name in SERVICES:
        conn = connect(settings, name=f"{name}-test-migrate", user=name)
        try:
            declare_service_queues(conn.channel(), settings, name, load_service(name).handlers)
        finally:
            conn.close()


@pytest.fixture(scope="session")
def service_db(cs_system: System) -> Callable[[str], Database]:
    """`service_db("routing")`: that service's pooled database, as its own role."""
    return cs_system.db


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
def client(cs_system: System) -> Callable[[str], Any]:
    """`client("intake")`: a Flask test client of that service, on the session's database."""
    return cs_system.client


@dataclass
class RunningService:
    """A service's relay and consumer running in threads, as their processes would."""

    name: str
    relay: Relay | None
    consumer: Consumer | None
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)


@pytest.fixture
def run_service(cs_system: System) -> Iterator[Callable[..., RunningService]]:
    """`run_service("routing")` starts its relay and consumer (see `System.run`); they stop
    after the test."""
    yield cs_system.run
    cs_system.stop()


def _purge(settings: Settings, service: str) -> None:
    from shared.broker import connect, dead_letter_queue, partition_queues

    conn = connect(settings, name="test-purge")
    try:
        channel = conn.channel()
        for queue in (*partition_queues(settings, service), dead_letter_queue(settings, service)):
            with contextlib.suppress(Exception):
                channel.queue_purge(queue)
    finally:
        conn.close()
