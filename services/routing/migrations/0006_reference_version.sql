-- The calendar and the time-limit policies change rarely and are read for every clock, so each
-- routing process caches them. Any change to them stamps this one row with the writing
-- transaction's id: a cache keyed by the stamp is never stale, and an entry made inside a
-- transaction that rolled back is never hit again (its id is never reused).
CREATE TABLE reference_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  bigint NOT NULL
);
INSERT INTO reference_version (version) VALUES (pg_current_xact_id()::text::bigint);

CREATE FUNCTION stamp_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_version SET version = pg_current_xact_id()::text::bigint;
    RETURN NULL;
END $$;

CREATE TRIGGER calendar_days_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON calendar_days FOR EACH STATEMENT EXECUTE FUNCTION stamp_reference_version();
CREATE TRIGGER calendar_years_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON calendar_years FOR EACH STATEMENT EXECUTE FUNCTION stamp_reference_version();
CREATE TRIGGER sla_policies_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON sla_policies FOR EACH STATEMENT EXECUTE FUNCTION stamp_reference_version();
