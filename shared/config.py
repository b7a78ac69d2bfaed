"""Settings from environment variables, with defaults that work on a development machine.

Every process of every service reads its configuration here and nowhere else; docs/operations.md
lists each variable.

The defaults of the secrets (the token secret, the PII keys) and of the passwords are public:
they are in this file. Outside development (`CS_ENV` other than `development`) a process
refuses to start with one of them, or with a secret too short to be one
(`Settings.refuse_development_defaults`, called by every process and by the commands that use
a secret).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import time
from urllib.parse import quote, urlsplit, urlunsplit

SERVICES = ("intake", "routing", "followup", "training")
# other systems that publish into the platform, each as a broker user of its own (cs.inbound only)
OUTSIDE_SYSTEMS = ("portal", "hr", "netops")
PORTS = {"intake": 8081, "routing": 8082, "followup": 8083, "training": 8084}
DEVELOPMENT = "development"
DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"
DEV_PII_KEY = "ZGV2LW9ubHkta2V5LWNoYW5nZS1tZS1pbi1wcm9kdWN0aW9uIQ=="
# in development the blind-index key defaults to the PII key, as it always did there, so local
# data keeps its lookups; outside development it is a key of its own that must be set
DEV_PII_INDEX_KEY = DEV_PII_KEY
# the secrets every process needs outside development, and their least length (characters; a
# random 32-byte value in base64 has 44)
SECRETS = ("CS_JWT_SECRET", "CS_PII_KEY", "CS_PII_INDEX_KEY")
MIN_SECRET_LENGTH = 32
_DEV_SECRETS = frozenset({DEV_JWT_SECRET, DEV_PII_KEY, DEV_PII_INDEX_KEY})


class UnsafeSettings(ValueError):
    """Outside development, a secret or password that is unset (so its public development
    default), a development default, or a secret too short to be one."""


def dev_password(user: str) -> str:
    """The development default of a service's database password or a broker user's password."""
    return f"{user}-local"


def db_password_variable(service: str) -> str:
    return f"CS_{service.upper()}_DB_PASSWORD"


def broker_password_variable(user: str) -> str:
    return f"CS_{user.upper()}_BROKER_PASSWORD"


def process_variables(service: str) -> tuple[str, ...]:
    """What a process of `service` must have set outside development: the three secrets, its
    own database password and its own broker password."""
    return (*SECRETS, db_password_variable(service), broker_password_variable(service))


def migrate_variables() -> tuple[str, ...]:
    """`cs migrate all` sets every service's database password and every broker user's."""
    return (
        *SECRETS,
        *(db_password_variable(s) for s in SERVICES),
        *(broker_password_variable(u) for u in (*SERVICES, *OUTSIDE_SYSTEMS)),
    )


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _share(name: str, default: float) -> float:
    """A share between 0 and 1."""
    value = _float(name, default)
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must lie between 0 and 1, not {value}")
    return value


def _at_least(name: str, default: int) -> int:
    """A count that cannot be negative."""
    value = _int(name, default)
    if value < 0:
        raise ValueError(f"{name} cannot be negative, not {value}")
    return value


def _time(text: str) -> time:
    """`HH:MM`."""
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def _bool(name: str, default: bool) -> bool:
    value = _env(name, "true" if default else "false").lower()
    if value not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value in ("true", "1", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """What a process needs to know about its surroundings."""

    database_url: str = "postgresql://postgres@127.0.0.1:5432/cs"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    # prefix for exchange and queue names, so a test run never touches a running system's
    broker_prefix: str = ""
    # `development` (./dev up, the tests) accepts the public defaults below; anything else
    # (unset included) is a real deployment, where processes refuse them
    environment: str = DEVELOPMENT
    jwt_secret: str = DEV_JWT_SECRET
    pii_key: str = DEV_PII_KEY
    # keys personal data was encrypted with before the current one (rotation), newest first
    pii_old_keys: tuple[str, ...] = ()
    # the blind-index key (lookups by phone, account, e-mail); kept when the PII key rotates
    pii_index_key: str = DEV_PII_INDEX_KEY
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
    # a resolved network incident's cases: follow-up calls for this share of them (0 to 1), and
    # for at least this many per incident (services/followup/domain/incident_sample.py)
    incident_followup_share: float = 0.10
    incident_followup_at_least: int = 5
    # a paused customer clock runs again by itself after this many hours (the scheduler resumes
    # it, counting it resumed at the bound): nobody can stop a clock for good
    sla_pause_max_h: float = 72.0
    log_level: str = "INFO"
    # a PUT, PATCH or DELETE of an editable record without If-Match: 428 instead of going through
    require_if_match: bool = False
    # how long an Idempotency-Key is remembered (at least 24 h: a day of client retries)
    idempotency_keep_h: float = 24.0
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
        environment = _env("CS_ENV", "").lower()
        pii_key = _env("CS_PII_KEY", DEV_PII_KEY)
        index_default = pii_key if environment == DEVELOPMENT else DEV_PII_INDEX_KEY
        return cls(
            database_url=_env("DATABASE_URL", cls.database_url),
            amqp_url=_env("AMQP_URL", cls.amqp_url),
            broker_prefix=_env("CS_BROKER_PREFIX", ""),
            environment=environment,
            jwt_secret=_env("CS_JWT_SECRET", DEV_JWT_SECRET),
            pii_key=pii_key,
            pii_old_keys=tuple(k for k in _env("CS_PII_OLD_KEYS", "").split(",") if k.strip()),
            pii_index_key=_env("CS_PII_INDEX_KEY", index_default),
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
            incident_followup_share=_share(
                "CS_INCIDENT_FOLLOWUP_SHARE", cls.incident_followup_share
            ),
            incident_followup_at_least=_at_least(
                "CS_INCIDENT_FOLLOWUP_AT_LEAST", cls.incident_followup_at_least
            ),
            sla_pause_max_h=_float("CS_SLA_PAUSE_MAX_H", cls.sla_pause_max_h),
            log_level=_env("CS_LOG_LEVEL", "INFO"),
            require_if_match=_bool("CS_REQUIRE_IF_MATCH", cls.require_if_match),
            idempotency_keep_h=max(24.0, _float("CS_IDEMPOTENCY_KEEP_H", cls.idempotency_keep_h)),
            max_body_bytes=_int("CS_MAX_BODY_BYTES", cls.max_body_bytes),
            read_timeout_s=_float("CS_READ_TIMEOUT_S", cls.read_timeout_s),
            db_passwords={s: _env(f"CS_{s.upper()}_DB_PASSWORD", f"{s}-local") for s in SERVICES},
            broker_passwords={
                u: _env(f"CS_{u.upper()}_BROKER_PASSWORD", f"{u}-local")
                for u in (*SERVICES, *OUTSIDE_SYSTEMS)
            },
        )

    @property
    def development(self) -> bool:
        return self.environment == DEVELOPMENT

    def refuse_development_defaults(self, variables: Iterable[str]) -> None:
        """Outside development, raises UnsafeSettings naming the first of `variables` (names
        from SECRETS, `db_password_variable`, `broker_password_variable`) that is unset or a
        development default, or, for a secret, shorter than MIN_SECRET_LENGTH."""
        if self.development:
            return
        for variable in variables:
            problem = self._problem(variable)
            if problem:
                raise UnsafeSettings(
                    f"{variable} {problem}; outside development (CS_ENV is"
                    f" {self.environment or 'unset'}) a real one is needed, on a development"
                    " machine set CS_ENV=development (docs/operations.md, Secrets)"
                )

    def _problem(self, variable: str) -> str | None:
        if variable in SECRETS:
            value = {
                "CS_JWT_SECRET": self.jwt_secret,
                "CS_PII_KEY": self.pii_key,
                "CS_PII_INDEX_KEY": self.pii_index_key,
            }[variable].strip()
            if value in _DEV_SECRETS:
                extra = (
                    " (it no longer defaults to CS_PII_KEY: set it to the key the stored lookups"
                    " were built with, which is CS_PII_KEY's value if it never rotated)"
                    if variable == "CS_PII_INDEX_KEY"
                    else ""
                )
                return f"is unset or the public development default{extra}"
            if len(value) < MIN_SECRET_LENGTH:
                return f"is shorter than {MIN_SECRET_LENGTH} characters"
            return None
        for user in (*SERVICES, *OUTSIDE_SYSTEMS):
            if variable == db_password_variable(user):
                password = self.db_passwords.get(user, dev_password(user))
            elif variable == broker_password_variable(user):
                password = self.broker_passwords.get(user, dev_password(user))
            else:
                continue
            if password.strip() in ("", dev_password(user)):
                return f"is unset or the development default ({dev_password(user)})"
            return None
        raise ValueError(f"{variable} is not a secret or password Settings knows")

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


def process_settings(service: str) -> Settings:
    """The settings of a process of `service` (web worker, relay, consumer, scheduler) from the
    environment; outside development, UnsafeSettings when a secret or its passwords are not
    real ones."""
    settings = Settings.from_env()
    settings.refuse_development_defaults(process_variables(service))
    return settings
