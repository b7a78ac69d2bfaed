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


ROUTING_AUDIT = (
    "routing_rule_versions",
    "sla_policies",
    "work_item_assignments",
    "work_item_notes",
    "sla_escalations",
)


@pytest.mark.parametrize("table", ROUTING_AUDIT)
def test_routing_audit_records_are_append_only(service_db, table):
    """The one guard of shared/migrations/0004_append_only.sql, on routing's kept records: a
    row trigger for UPDATE and DELETE and a statement trigger for TRUNCATE."""
    with service_db("routing").transaction() as tx:
        events = {
            (r[0], r[1])
            for r in tx.execute(
                "SELECT t.event_manipulation, t.action_orientation"
                " FROM information_schema.triggers t"
                " WHERE t.event_object_schema = 'routing' AND t.event_object_table = %s"
                " AND t.action_statement = 'EXECUTE FUNCTION append_only_guard()'",
                (table,),
            )
        }
    assert {("UPDATE", "ROW"), ("DELETE", "ROW")} <= events
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
        service_db("routing").transaction() as tx,
    ):
        tx.execute(f"TRUNCATE {table} CASCADE")


@pytest.mark.parametrize(
    "statement", ("UPDATE sla_policies SET reason = reason", "DELETE FROM sla_policies")
)
def test_a_kept_time_limit_cannot_be_changed_or_removed(service_db, statement):
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
        service_db("routing").transaction() as tx,
    ):
        tx.execute(statement)


def test_the_append_only_guard_is_defined_once_for_every_schema(service_db):
    for service in ("intake", "routing", "followup", "training"):
        with service_db(service).transaction() as tx:
            (count,) = tx.execute(
                "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE p.proname = 'append_only_guard' AND n.nspname = %s",
                (service,),
            ).fetchone()
        assert count == 1, service
