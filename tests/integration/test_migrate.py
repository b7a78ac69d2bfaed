"""Each service has its own schema and role; migrations are versioned and run once."""

from __future__ import annotations

import psycopg
import pytest

from shared.migrate import migrate, migration_files
from shared.service import load_service


def test_a_service_role_cannot_read_another_services_schema(service_db):
    with service_db("routing").transaction() as tx:
        assert tx.execute("SELECT count(*) FROM sla_policies").fetchone()[0] > 0
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        service_db("intake").transaction() as tx,
    ):
        tx.execute("SELECT count(*) FROM routing.sla_clocks")


def test_migrating_again_applies_nothing_and_keeps_data(cs_settings, service_db):
    with service_db("routing").transaction() as tx:
        years = tx.execute("SELECT count(*) FROM calendar_years").fetchone()[0]
    assert migrate(cs_settings, load_service("routing")) == []
    with service_db("routing").transaction() as tx:
        assert tx.execute("SELECT count(*) FROM calendar_years").fetchone()[0] == years
        versions = [r[0] for r in tx.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == sorted(v for v, _ in migration_files(load_service("routing")))
    assert "shared/0001_outbox_inbox.sql" in versions


def test_the_calendar_is_seeded_with_official_holidays_and_makeup_days(service_db):
    with service_db("routing").transaction() as tx:
        rows = dict(
            tx.execute(
                "SELECT day::text, working FROM calendar_days"
                " WHERE day IN ('2026-02-14', '2026-02-17', '2026-10-01', '2026-10-10')"
            ).fetchall()
        )
        years = {r[0] for r in tx.execute("SELECT year FROM calendar_years")}
    assert rows == {
        "2026-02-14": True,
        "2026-02-17": False,
        "2026-10-01": False,
        "2026-10-10": True,
    }
    assert 2026 in years and 2027 not in years
