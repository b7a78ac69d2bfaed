-- Scorecards are computed from facts, one per consumed event (event_id unique), so a replayed
-- event changes nothing. `figure` names the fact (see services/training/domain/scorecard.py):
--   resolution   case.resolved: value 1 at first contact, else 0 (subject: case id)
--   time_limit   sla.met 1 / sla.breached 0 for the clock's assignee
--   satisfaction followup.completed with a score: the score, for the case's resolver
--   reopened     case.reopened: 1, for the case's resolver
--   certificate  a passed assessment (its training.completed): the score, valid until valid_until
-- staff_id is null while the resolver of a case is not known yet (events from different
-- services may arrive in any order); the case's case.resolved fills it in.

CREATE TABLE case_resolutions (
    event_id    text PRIMARY KEY,
    case_id     text NOT NULL,
    resolved_by text NOT NULL,
    resolved_at timestamptz NOT NULL
);
CREATE INDEX case_resolutions_case ON case_resolutions (case_id, resolved_at DESC);

CREATE TABLE scorecard_facts (
    event_id    text PRIMARY KEY,
    event_type  text NOT NULL,
    figure      text NOT NULL
        CHECK (figure IN ('resolution', 'time_limit', 'satisfaction', 'reopened', 'certificate')),
    staff_id    text,
    value       numeric NOT NULL,
    occurred_at timestamptz NOT NULL,
    subject     text NOT NULL,
    valid_until timestamptz,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scorecard_facts_staff ON scorecard_facts (staff_id, figure, occurred_at);
CREATE INDEX scorecard_facts_unattributed ON scorecard_facts (subject) WHERE staff_id IS NULL;
