-- Tables kept for audit are append-only: append_only_guard() refuses UPDATE, DELETE and
-- TRUNCATE, and `CALL append_only('table')` puts it on a table (row and statement triggers).
-- Every service's schema gets both before its own migrations run.
CREATE OR REPLACE FUNCTION append_only_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE PROCEDURE append_only(target text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I'
        ' FOR EACH ROW EXECUTE FUNCTION append_only_guard()', target || '_append_only', target);
    EXECUTE format(
        'CREATE TRIGGER %I BEFORE TRUNCATE ON %I'
        ' FOR EACH STATEMENT EXECUTE FUNCTION append_only_guard()', target || '_no_truncate', target);
END
$$;
