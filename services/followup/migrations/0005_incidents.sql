-- Network incidents, as routing's events describe them (incident.declared, incident.resolved),
-- and which cases belong to one (incident_id on case.opened, case.linked and case.resolved):
-- the quarterly report and the dashboard count incident cases apart from the rest. No personal
-- data: regions, categories, times and a cause code.
--
-- A resolved incident's cases get follow-up calls for a sample only
-- (services/followup/domain/incident_sample.py): the incident's row counts the calls scheduled
-- so far and is locked while a case's resolution is decided, so consumers running side by side
-- decide one at a time. A row may come from a case's resolution before the incident's own
-- events arrive; those fill in its facts later.
CREATE TABLE incidents (
    incident_id           text PRIMARY KEY,
    regions               text[],
    categories            text[],
    started_at            timestamptz,
    declared_at           timestamptz,
    resolved_at           timestamptz,
    cause                 text,
    followups_sampled     integer NOT NULL DEFAULT 0,
    followups_not_sampled integer NOT NULL DEFAULT 0
);
CREATE INDEX incidents_started ON incidents (started_at);

ALTER TABLE cases ADD COLUMN incident_id text;
CREATE INDEX cases_incident ON cases (incident_id) WHERE incident_id IS NOT NULL;
ALTER TABLE case_status ADD COLUMN incident_id text;

-- The resolutions of incident cases that got no follow-up call on purpose (not in the sample):
-- nobody is to think a call is missing. One row per resolution, like a follow-up task.
CREATE TABLE followups_not_sampled (
    case_id     text NOT NULL,
    resolved_at timestamptz NOT NULL,
    incident_id text NOT NULL,
    decided_at  timestamptz NOT NULL,
    PRIMARY KEY (case_id, resolved_at)
);
CREATE INDEX followups_not_sampled_incident ON followups_not_sampled (incident_id);
CALL append_only('followups_not_sampled');
