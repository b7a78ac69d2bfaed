-- Network incidents as routing announces them (incident.declared, .updated, .resolved): what a
-- new case is linked to at once, what its customer is told, and the resolution its linked
-- cases take.

-- the form regions and categories are kept and matched in: case and surrounding blanks do not
-- count (routing matches the same way)
CREATE FUNCTION folded(code text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lower(btrim(code)) $$;
CREATE FUNCTION folded(codes text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ARRAY(SELECT DISTINCT folded(c) FROM unnest(codes) AS c ORDER BY 1) $$;

CREATE TABLE incidents (
    id           text PRIMARY KEY,
    regions      text[] NOT NULL,
    categories   text[] NOT NULL,
    started_at   timestamptz NOT NULL,
    eta          timestamptz,
    message      text NOT NULL,
    state        text NOT NULL CHECK (state IN ('open', 'resolved')),
    cause        text,
    resolution   text,
    resolved_by  text,
    resolved_at  timestamptz,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX incidents_open ON incidents (id) WHERE state = 'open';

-- the incident a case is linked to (by intake when it opened, or by routing's case.linked);
-- no foreign key: routing's case.linked may arrive before its incident.declared
ALTER TABLE cases ADD COLUMN incident_id text;
CREATE INDEX cases_incident ON cases (incident_id, id) WHERE incident_id IS NOT NULL;
