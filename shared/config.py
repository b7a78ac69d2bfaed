"""Settings from environment variables, with defaults that work on a development machine.

Every process of every service reads its configuration here and nowhere else; docs/operations.md
lists each variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import time
from urllib.parse import quote, urlsplit, urlunsplit

SERVICES = ("intake", "routing", "followup", "training")
# other systems that publish into the platform, each as a broker user of its own (cs.inbound only)
OUTSIDE_SYSTEMS = ("portal", "hr")
PORTS = {"intake": 8081, "routing": 8082, "followup": 8083, "training": 8084}
DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"
DEV_PII_KEY = "ZGV2LW9ubHkta2V5LWNoYW5nZS1tZS1pbi1wcm9kdWN0aW9uIQ=="


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _time(text: str) -> time:
    """`HH:MM`."""
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


@dataclass(frozen=True)
class Settings:
    """What a process needs to know about its surroundings."""

    database_url: str = "postgresql://postgres@127.0.0.1:5432/cs"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    # prefix for exchange and queue names, so a test run never touches a running system's
    broker_prefix: str = ""
    jwt_secret: str = DEV_JWT_SECRET
    pii_key: str = DEV_PII_KEY
    # keys personal data was encrypted with before the current one (rotation), newest first
    pii_old_keys: tuple[str, ...] = ()
    # the blind-index key (lookups by phone, account, e-mail); kept when the PII key rotates
    pii_index_key: str = DEV_PII_KEY
    db_pool_min: int = 1
    db_pool_max: int = 8
    # how long a request or handler waits for a pooled connection before giving up
    db_pool_timeout_s: float = 5.0
    consumer_prefetch: int = 50
    # events that arrive together are applied in one transaction, up to this many
    consumer_batch: int = 50
    consumer_max_attempts: int = 3
    consumer_retry_base_s: float = 0.2
    # an event whose predecessor has not arrived waits (its partition with it) this long at most
    consumer_wait_s: float = 300.0
    # how often a consumer compares its share of active partitions with its replicas'
    consumer_rebalance_s: float = 10.0
    # queues per consuming service; a key's events always land in the same one (changing it:
    # docs/operations.md)
    partitions: int = 4
    # the broker's management API, which `cs migrate` uses to create the broker users
    broker_admin_url: str = "http://guest:guest@127.0.0.1:15672"
    relay_batch: int = 500
    relay_poll_s: float = 1.0
    # after a wake-up or a part-full batch, how long the relay lets more commits gather before
    # the next batch: fewer, larger AMQP transactions under load for a few ms of latency
    relay_coalesce_s: float = 0.01
    # business hours (Asia/Shanghai) of a working day: deadlines end at close of business;
    # warnings and escalations fall between opening and close of business
    opening_time: time = time(8, 30)
    close_of_business: time = time(17, 30)
    scheduler_interval_s: float = 5.0
    # a breach not yet handled goes from the department head to the supervision group after
    # this many working hours
    escalation_after_h: float = 4.0
    # follow-up calls: due this many working days after resolution; unreachable after N failures
    followup_due_working_days: int = 1
    followup_max_attempts: int = 3
    log_level: str = "INFO"
    # requests: the most a body may hold (413 beyond it; a view may take more, as the e-mail
    # channel does), and how long the headers, then the whole body, may take to arrive
    max_body_bytes: int = 1024 * 1024
    read_timeout_s: float = 10.0
    db_passwords: dict[str, str] = field(default_factory=dict)
    broker_passwords: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        opening_time = _time(_env("CS_OPENING_TIME", "08:30"))
        close_of_business = _time(_env("CS_CLOSE_OF_BUSINESS", "17:30"))
        if not opening_time < close_of_business:
            raise ValueError(
                f"CS_OPENING_TIME {opening_time:%H:%M} must come before"
                f" CS_CLOSE_OF_BUSINESS {close_of_business:%H:%M}"
            )
        return cls(
            database_url=_env("DATABASE_URL", cls.database_url),
            amqp_url=_env("AMQP_URL", cls.amqp_url),
            broker_prefix=_env("CS_BROKER_PREFIX", ""),
            jwt_secret=_env("CS_JWT_SECRET", DEV_JWT_SECRET),
            pii_key=_env("CS_PII_KEY", DEV_PII_KEY),
            pii_old_keys=tuple(k for k in _env("CS_PII_OLD_KEYS", "").split(",") if k.strip()),
            pii_index_key=_env("CS_PII_INDEX_KEY", _env("CS_PII_KEY", DEV_PII_KEY)),
            db_pool_min=_int("CS_DB_POOL_MIN", cls.db_pool_min),
            db_pool_max=_int("CS_DB_POOL_MAX", cls.db_pool_max),
            db_pool_timeout_s=_float("CS_DB_POOL_TIMEOUT_S", cls.db_pool_timeout_s),
            consumer_prefetch=_int("CS_CONSUMER_PREFETCH", cls.consumer_prefetch),
            consumer_batch=_int("CS_CONSUMER_BATCH", cls.consumer_batch),
            consumer_max_attempts=_int("CS_CONSUMER_MAX_ATTEMPTS", cls.consumer_max_attempts),
            consumer_retry_base_s=_float("CS_CONSUMER_RETRY_BASE_S", cls.consumer_retry_base_s),
            consumer_wait_s=_float("CS_CONSUMER_WAIT_S", cls.consumer_wait_s),
            consumer_rebalance_s=_float("CS_CONSUMER_REBALANCE_S", cls.consumer_rebalance_s),
            partitions=_int("CS_PARTITIONS", cls.partitions),
            broker_admin_url=_env("CS_BROKER_ADMIN_URL", cls.broker_admin_url),
            relay_batch=_int("CS_RELAY_BATCH", cls.relay_batch),
            relay_poll_s=_float("CS_RELAY_POLL_S", cls.relay_poll_s),
            relay_coalesce_s=_float("CS_RELAY_COALESCE_S", cls.relay_coalesce_s),
            opening_time=opening_time,
            close_of_business=close_of_business,
            scheduler_interval_s=_float("CS_SCHEDULER_INTERVAL_S", cls.scheduler_interval_s),
            escalation_after_h=_float("CS_ESCALATION_AFTER_H", cls.escalation_after_h),
            followup_due_working_days=_int(
                "CS_FOLLOWUP_DUE_WORKING_DAYS", cls.followup_due_working_days
            ),
            followup_max_attempts=_int("CS_FOLLOWUP_MAX_ATTEMPTS", cls.followup_max_attempts),
            log_level=_env("CS_LOG_LEVEL", "INFO"),
            max_body_bytes=_int("CS_MAX_BODY_BYTES", cls.max_body_bytes),
            read_timeout_s=_float("CS_READ_TIMEOUT_S", cls.read_timeout_s),
            db_passwords={s: _env(f"CS_{s.upper()}_DB_PASSWORD", f"{s}-local") for s in SERVICES},
            broker_passwords={
                u: _env(f"CS_{u.upper()}_BROKER_PASSWORD", f"{u}-local")
                for u in (*SERVICES, *OUTSIDE_SYSTEMS)
            },
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def service_database_url(self, service: str) -> str:
        """The URL a service connects with: its own role, its own schema first on the path."""
        parts = urlsplit(self.database_url)
        host = parts.hostname or "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
        password = quote(self.db_passwords.get(service, f"{service}-local"), safe="")
        netloc = f"{db_role(service)}:{password}@{host}{port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    def broker_url(self, user: str) -> str:
        """AMQP_URL (every node it lists) with the credentials of broker user `user`: each
        service and each outside system has its own, so the broker can vouch for who sent what."""
        password = quote(self.broker_passwords.get(user, f"{user}-local"), safe="")
        urls = []
        for url in self.amqp_url.split(","):
            parts = urlsplit(url.strip())
            host = parts.netloc.rpartition("@")[2]
            urls.append(
                urlunsplit((parts.scheme, f"{user}:{password}@{host}", parts.path, parts.query, ""))
            )
        return ",".join(urls)

    def exchange(self, name: str) -> str:
        return f"{self.broker_prefix}{name}"

    def queue(self, name: str) -> str:
        return f"{self.broker_prefix}{name}"


def db_role(service: str) -> str:
    return f"cs_{service}"
