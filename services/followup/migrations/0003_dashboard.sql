-- The supervisors' dashboard: where every case stands now and whether its clocks are at risk or
-- breached, projected from events only (intake's case.*, routing's case.routed, case.handled
-- and sla.*). No personal data.
--
-- Events of different types may arrive in any order, and again: every value records the
-- envelope `time` of the event that set it (when the producer wrote it), and an event older
-- than what a row already holds changes nothing. The inbox drops a redelivered event by id.

CREATE TABLE case_status (
    case_id        text PRIMARY KEY,
    -- NULL until a lifecycle event of the case arrives (a clock event may come first)
    state          text CHECK (state IN ('open', 'transferred', 'in_department', 'resolved',
                                         'closed', 'reopened')),
    state_at       timestamptz,
    -- breaks ties between events of one instant: the lifecycle's order, 0 (open) .. 5 (reopened)
    state_rank     smallint NOT NULL DEFAULT 0,
    department     text,               -- the last department that had the case
    department_at  timestamptz,
    kind           text,
    channel        text,
    received_at    timestamptz,        -- case.opened's received_at (else opened_at)
    due_at         timestamptz,        -- the customer clock's deadline, as last announced
    reopened_at    timestamptz,        -- the latest reopening: clocks before it are over
    -- derived from state, reopened_at and case_clocks after every event of the case
    at_risk        boolean NOT NULL DEFAULT false,  -- a clock warned, none breached, not stopped
    breached       boolean NOT NULL DEFAULT false,  -- a clock breached and not stopped
    breached_since timestamptz                      -- the earliest deadline of its breached clocks
);
CREATE INDEX case_status_open ON case_status (state, department);
CREATE INDEX case_status_received ON case_status (received_at);
CREATE INDEX case_status_breached ON case_status (breached_since, case_id) WHERE breached;

-- The latest generation of each clock of a case (customer, department), as event times: a
-- warning or breach counts only when it is later than the clock's (re)start, its stop
-- (sla.met, case.handled for the department clock) and the case's latest reopening.
CREATE TABLE case_clocks (
    case_id     text NOT NULL,
    clock       text NOT NULL CHECK (clock IN ('customer', 'department')),
    started_at  timestamptz,
    warned_at   timestamptz,
    breached_at timestamptz,
    stopped_at  timestamptz,
    due_at      timestamptz,
    due_as_of   timestamptz,
    PRIMARY KEY (case_id, clock)
);

-- What followup already knew before this migration: lifecycle states from `cases`, and breaches
-- and stops from `sla_results` (their business times stand in for event times). Warnings were
-- not consumed before, so no case starts at risk; the next clock event of a case corrects it.
INSERT INTO case_status (case_id, state, state_at, state_rank, department, department_at, kind,
                         channel, received_at, reopened_at)
SELECT case_id, state,
       greatest(opened_at, resolved_at, reopened_at, closed_at),
       CASE state WHEN 'open' THEN 0 WHEN 'resolved' THEN 3 WHEN 'closed' THEN 4 ELSE 5 END,
       department, CASE WHEN department IS NOT NULL THEN resolved_at END, kind, channel,
       received_at, reopened_at
FROM cases;

INSERT INTO case_clocks (case_id, clock, breached_at, stopped_at, due_at, due_as_of)
SELECT DISTINCT ON (case_id, clock) case_id, clock,
       CASE WHEN NOT met THEN at END, CASE WHEN met THEN at END, due_at, at
FROM sla_results
ORDER BY case_id, clock, at DESC;

INSERT INTO case_status (case_id)
SELECT DISTINCT case_id FROM case_clocks ON CONFLICT DO NOTHING;

UPDATE case_status s
SET breached = true, breached_since = b.since
FROM (SELECT c.case_id, min(c.due_at) AS since
      FROM case_clocks c JOIN case_status t ON t.case_id = c.case_id
      WHERE t.state IN ('open', 'reopened') AND c.breached_at IS NOT NULL
        AND c.breached_at > coalesce(t.reopened_at, '-infinity')
      GROUP BY c.case_id) b
WHERE s.case_id = b.case_id;
UPDATE case_status s SET due_at = c.due_at
FROM case_clocks c WHERE c.case_id = s.case_id AND c.clock = 'customer';
