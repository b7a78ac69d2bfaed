"""Settings from the environment, per-service database URLs and prefixed broker names."""

from __future__ import annotations

from datetime import time
from urllib.parse import unquote, urlsplit

import pytest

from shared.config import DEV_JWT_SECRET, DEV_PII_KEY, OUTSIDE_SYSTEMS, SERVICES, Settings, db_role

VARIABLES = (
    "DATABASE_URL",
    "AMQP_URL",
    "CS_BROKER_PREFIX",
    "CS_JWT_SECRET",
    "CS_PII_KEY",
    "CS_DB_POOL_MIN",
    "CS_DB_POOL_MAX",
    "CS_CONSUMER_PREFETCH",
    "CS_CONSUMER_MAX_ATTEMPTS",
    "CS_CONSUMER_RETRY_BASE_S",
    "CS_RELAY_BATCH",
    "CS_RELAY_POLL_S",
    "CS_RELAY_COALESCE_S",
    "CS_OPENING_TIME",
    "CS_CLOSE_OF_BUSINESS",
    "CS_LOG_LEVEL",
    "CS_REQUIRE_IF_MATCH",
    "CS_IDEMPOTENCY_KEEP_H",
    "CS_INCIDENT_FOLLOWUP_SHARE",
    "CS_INCIDENT_FOLLOWUP_AT_LEAST",
    *(f"CS_{s.upper()}_DB_PASSWORD" for s in SERVICES),
    *(f"CS_{u.upper()}_BROKER_PASSWORD" for u in (*SERVICES, *OUTSIDE_SYSTEMS)),
)

DEFAULTS = Settings(
    database_url="postgresql://postgres@127.0.0.1:5432/cs",
    amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
    broker_prefix="",
    jwt_secret=DEV_JWT_SECRET,
    pii_key=DEV_PII_KEY,
    db_pool_min=1,
    db_pool_max=8,
    consumer_prefetch=50,
    consumer_max_attempts=3,
    consumer_retry_base_s=0.2,
    relay_batch=500,
    relay_poll_s=1.0,
    opening_time=time(8, 30),
    close_of_business=time(17, 30),
    log_level="INFO",
    db_passwords={
        "intake": "intake-local",
        "routing": "routing-local",
        "followup": "followup-local",
        "training": "training-local",
    },
    broker_passwords={u: f"{u}-local" for u in (*SERVICES, *OUTSIDE_SYSTEMS)},
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean environment: none of the variables Settings reads is set."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_when_unset(env: pytest.MonkeyPatch) -> None:
    assert Settings.from_env() == DEFAULTS


def test_defaults_when_blank(env: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        env.setenv(name, "  " if len(name) % 2 else "")
    assert Settings.from_env() == DEFAULTS


def test_from_env(env: pytest.MonkeyPatch) -> None:
    env.setenv("DATABASE_URL", "postgresql://ops:pw@db.internal:6543/cs_prod")
    env.setenv("AMQP_URL", " amqp://cs:pw@mq.internal:5673/cs ")
    env.setenv("CS_BROKER_PREFIX", "test-1.")
    env.setenv("CS_OPENING_TIME", "09:00")
    env.setenv("CS_CLOSE_OF_BUSINESS", "18:00")
    env.setenv("CS_CONSUMER_MAX_ATTEMPTS", "5")
    env.setenv("CS_CONSUMER_RETRY_BASE_S", "0.05")
    env.setenv("CS_INTAKE_DB_PASSWORD", "s3cret")
    env.setenv("CS_JWT_SECRET", "prod-secret")
    env.setenv("CS_LOG_LEVEL", "DEBUG")

    assert Settings.from_env() == DEFAULTS.with_(
        database_url="postgresql://ops:pw@db.internal:6543/cs_prod",
        amqp_url="amqp://cs:pw@mq.internal:5673/cs",
        broker_prefix="test-1.",
        opening_time=time(9, 0),
        close_of_business=time(18, 0),
        consumer_max_attempts=5,
        consumer_retry_base_s=0.05,
        jwt_secret="prod-secret",
        log_level="DEBUG",
        db_passwords={**DEFAULTS.db_passwords, "intake": "s3cret"},
    )


def test_close_of_business_with_minutes(env: pytest.MonkeyPatch) -> None:
    env.setenv("CS_CLOSE_OF_BUSINESS", "16:45")
    assert Settings.from_env().close_of_business == time(16, 45)


def test_if_match_required_and_keys_kept_at_least_a_day(env: pytest.MonkeyPatch) -> None:
    assert DEFAULTS.require_if_match is False and DEFAULTS.idempotency_keep_h == 24
    env.setenv("CS_REQUIRE_IF_MATCH", "true")
    env.setenv("CS_IDEMPOTENCY_KEEP_H", "72")
    settings = Settings.from_env()
    assert settings.require_if_match is True and settings.idempotency_keep_h == 72
    env.setenv("CS_IDEMPOTENCY_KEEP_H", "1")  # less than a day is not what integrators get
    assert Settings.from_env().idempotency_keep_h == 24


def test_incident_followups_go_to_a_share_with_a_floor(env: pytest.MonkeyPatch) -> None:
    assert (DEFAULTS.incident_followup_share, DEFAULTS.incident_followup_at_least) == (0.10, 5)
    env.setenv("CS_INCIDENT_FOLLOWUP_SHARE", "0.25")
    env.setenv("CS_INCIDENT_FOLLOWUP_AT_LEAST", "0")
    settings = Settings.from_env()
    assert (settings.incident_followup_share, settings.incident_followup_at_least) == (0.25, 0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CS_CONSUMER_MAX_ATTEMPTS", "three"),
        ("CS_CLOSE_OF_BUSINESS", "18"),
        ("CS_OPENING_TIME", "8h30"),
        ("CS_OPENING_TIME", "18:00"),  # after close of business
        ("CS_REQUIRE_IF_MATCH", "maybe"),
        ("CS_INCIDENT_FOLLOWUP_SHARE", "1.5"),
        ("CS_INCIDENT_FOLLOWUP_SHARE", "ten percent"),
        ("CS_INCIDENT_FOLLOWUP_AT_LEAST", "-1"),
    ],
)
def test_malformed_values_raise(env: pytest.MonkeyPatch, name: str, value: str) -> None:
    env.setenv(name, value)
    with pytest.raises(ValueError):
        Settings.from_env()


def test_with_returns_a_changed_copy() -> None:
    changed = DEFAULTS.with_(broker_prefix="x.")
    assert changed.broker_prefix == "x."
    assert DEFAULTS.broker_prefix == ""
    assert changed.database_url == DEFAULTS.database_url


# --- service_database_url -----------------------------------------------------------------


def test_db_role() -> None:
    assert [db_role(s) for s in SERVICES] == [
        "cs_intake",
        "cs_routing",
        "cs_followup",
        "cs_training",
    ]


def test_service_database_url_swaps_the_user() -> None:
    settings = DEFAULTS.with_(
        database_url="postgresql://postgres:admin-pw@db.internal:6543/cs?sslmode=require",
        db_passwords={"intake": "s3cret"},
    )
    assert (
        settings.service_database_url("intake")
        == "postgresql://cs_intake:s3cret@db.internal:6543/cs?sslmode=require"
    )


def test_service_database_url_quotes_the_password() -> None:
    password = "p@ss/w:rd %?#[]"
    settings = DEFAULTS.with_(db_passwords={"routing": password})
    url = settings.service_database_url("routing")
    assert url == "postgresql://cs_routing:p%40ss%2Fw%3Ard%20%25%3F%23%5B%5D@127.0.0.1:5432/cs"
    parts = urlsplit(url)
    assert parts.username == "cs_routing"
    assert unquote(parts.password or "") == password
    assert (parts.hostname, parts.port, parts.path) == ("127.0.0.1", 5432, "/cs")


def test_service_database_url_default_password() -> None:
    settings = DEFAULTS.with_(database_url="postgresql://u@dbhost/cs", db_passwords={})
    assert settings.service_database_url("followup") == (
        "postgresql://cs_followup:followup-local@dbhost/cs"
    )


def test_service_database_url_ipv6_host() -> None:
    settings = DEFAULTS.with_(
        database_url="postgresql://postgres:pw@[::1]:5432/cs?connect_timeout=3"
    )
    url = settings.service_database_url("training")
    assert url == "postgresql://cs_training:training-local@[::1]:5432/cs?connect_timeout=3"
    parts = urlsplit(url)
    assert (parts.hostname, parts.port) == ("::1", 5432)


def test_service_database_url_ipv6_without_port() -> None:
    settings = DEFAULTS.with_(database_url="postgresql://postgres@[2001:db8::5]/cs")
    assert settings.service_database_url("intake") == (
        "postgresql://cs_intake:intake-local@[2001:db8::5]/cs"
    )


def test_service_database_url_drops_the_original_credentials() -> None:
    settings = DEFAULTS.with_(database_url="postgresql://superuser:top-secret@db:5432/cs")
    url = settings.service_database_url("intake")
    assert "superuser" not in url
    assert "top-secret" not in url


# --- broker names -------------------------------------------------------------------------


def test_exchange_and_queue_get_the_prefix() -> None:
    settings = DEFAULTS.with_(broker_prefix="t-9f2.")
    assert settings.exchange("cs.events") == "t-9f2.cs.events"
    assert settings.queue("routing.events") == "t-9f2.routing.events"
    assert settings.queue("routing.dead") == "t-9f2.routing.dead"


def test_no_prefix_by_default() -> None:
    assert DEFAULTS.exchange("cs.inbound") == "cs.inbound"
    assert DEFAULTS.queue("intake.events") == "intake.events"
