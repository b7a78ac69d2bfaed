-- Network incidents as routing announces them (incident.declared, .updated, .resolved): what a
-- new case is linked to at once, what its customer is told, and the resolution its linked
-- cases take. Regions and categories are kept casefolded, the form cases are matched in.
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
