"""Versioned SQL migrations, one schema and one role per service, applied under an advisory lock.

`shared/migrations/*.sql` (outbox, inbox) come first for every service, then the service's own
`services/<name>/migrations/*.sql`, each file once, in name order, in its own transaction, run
as the service's role so that it owns what it creates. Safe to run from many processes at once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from shared.config import Settings, db_role
from shared.db import Database
from shared.service import ServiceSpec

log = logging.getLogger(__name__)
SHARED_MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x63735F6D  # "cs_m": one lock for all services, roles are cluster-wide


def ensure_database(settings: Settings) -> None:
    """Creates the database the URL names when it does not exist yet."""
    params = conninfo_to_dict(settings.database_url)
    name = params.get("dbname") or "postgres"
    try:
        psycopg.connect(settings.database_url, connect_timeout=5).close()
        return
    except psycopg.OperationalError as e:
        if "does not exist" not in str(e):
            raise
    admin = make_conninfo(settings.database_url, dbname="postgres")
    with (
        psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn,
        contextlib.suppress(psycopg.errors.DuplicateDatabase),
    ):
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migration_files(spec: ServiceSpec) -> list[tuple[str, Path]]:
    shared = [(f"shared/{p.name}", p) for p in sorted(SHARED_MIGRATIONS.glob("*.sql"))]
    own = [(p.name, p) for p in sorted(spec.migrations.glob("*.sql"))]
    return shared + own


def migrate(settings: Settings, spec: ServiceSpec) -> list[str]:
    """Brings the service's schema up to date; returns the versions applied now."""
    ensure_database(settings)
    role, schema = db_role(spec.name), spec.name
    applied_now: list[str] = []
    with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            _ensure_role_and_schema(conn, settings, role, schema)
            done = {
                r[0]
                for r in conn.execute(
                    sql.SQL("SELECT version FROM {}.schema_migrations").format(
                        sql.Identifier(schema)
                    )
                )
            }
            for version, path in migration_files(spec):
                if version in done:
                    continue
                with conn.transaction():
                    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
                    conn.execute(
                        sql.SQL("SET LOCAL search_path = {}").format(sql.Identifier(schema))
                    )
                    conn.execute(path.read_text())
                    conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                applied_now.append(version)
                log.info("applied migration %s to schema %s", version, schema)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    if spec.after_migrate is not None:
        db = Database(settings, spec.name, max_size=1)
        try:
            spec.run_after_migrate(db, settings)
        finally:
            db.close()
    return applied_now


def _ensure_role(conn: psycopg.Connection, role: str, password: str, tries: int = 20) -> None:
    """Creates the role, or sets its password. Roles are cluster-wide but advisory locks are
    per database: another database's migration (a test run beside a running system) may be
    changing the same role, so a concurrent update is simply tried again."""
    for attempt in range(tries):
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        try:
            conn.execute(
                sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
            return
        except (psycopg.errors.InternalError_, psycopg.errors.DuplicateObject):
            if attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _ensure_role_and_schema(
    conn: psycopg.Connection, settings: Settings, role: str, schema: str
) -> None:
    _ensure_role(conn, role, settings.db_passwords.get(schema, f"{schema}-local"))
    conn.execute(
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
            sql.Identifier(schema), sql.Identifier(role)
        )
    )
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema)))
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.schema_migrations"
            " (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        ).format(sql.Identifier(schema))
    )
    conn.execute(
        sql.SQL("ALTER TABLE {}.schema_migrations OWNER TO {}").format(
            sql.Identifier(schema), sql.Identifier(role)
        )
    )
