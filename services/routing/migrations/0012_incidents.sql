-- Network incidents (services/routing/domain/incidents.py): the current state of each, its
-- append-only history, and the cases linked to it.
CREATE TABLE incidents (
    id           text PRIMARY KEY,
    state        text NOT NULL CHECK (state IN ('suspected', 'open', 'dismissed', 'resolved')),
    regions      text[] NOT NULL CHECK (cardinality(regions) > 0),
    categories   text[] NOT NULL CHECK (cardinality(categories) > 0),
    started_at   timestamptz NOT NULL,
    eta          timestamptz,
    message      text,
    cause        text,
    resolution   text,
    declared_by  text,
    declared_at  timestamptz,
    ended_at     timestamptz,
    evidence     jsonb,          -- the burst a suspicion came from (window, counts, case ids)
    -- a suspicion's region and category, folded: one suspicion per burst, whatever the consumers
    burst_key    text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX incidents_state ON incidents (state, started_at DESC);
CREATE UNIQUE INDEX incidents_one_suspicion ON incidents (burst_key) WHERE state = 'suspected';

CREATE TABLE incident_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id text NOT NULL REFERENCES incidents (id),
    kind        text NOT NULL,
    at          timestamptz NOT NULL,
    by          text NOT NULL,
    fields      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_changes_incident ON incident_changes (incident_id, id);
CALL append_only('incident_changes');

-- A case belongs to at most one incident.
CREATE TABLE incident_cases (
    incident_id text NOT NULL REFERENCES incidents (id),
    case_id     text NOT NULL UNIQUE,
    linked_at   timestamptz NOT NULL
);
CREATE INDEX incident_cases_incident ON incident_cases (incident_id);

-- Detection counts a region's and category's cases in a window; linking needs the open ones.
ALTER TABLE case_facts ADD COLUMN ended_at timestamptz;  -- resolved or closed; NULL: open
CREATE INDEX case_facts_burst ON case_facts (lower(region), lower(category), opened_at);

-- An incident is its department's single work item: one item per incident, no case of its own.
ALTER TABLE work_items ALTER COLUMN case_id DROP NOT NULL;
ALTER TABLE work_items ADD COLUMN incident_id text REFERENCES incidents (id);
ALTER TABLE work_items ADD CONSTRAINT work_items_case_or_incident
    CHECK ((case_id IS NULL) <> (incident_id IS NULL));
CREATE UNIQUE INDEX work_items_one_per_incident ON work_items (incident_id)
    WHERE incident_id IS NOT NULL;
