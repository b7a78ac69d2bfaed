-- Followup in full: what it knows of cases, staff and time limits (projections of events), the
-- follow-up calls, the do-not-call list, campaigns, quality inspections and improvement measures.
-- Records kept for audit are append-only: a trigger refuses UPDATE, DELETE and TRUNCATE.

-- --- projections ---------------------------------------------------------------------------

-- Cases as intake's events describe them (case.opened, case.resolved, case.reopened,
-- case.closed) and whether a time limit was breached. No personal data: the customer is the
-- opaque id from case.opened.
CREATE TABLE cases (
    case_id           text PRIMARY KEY,
    case_no           text,
    kind              text,
    channel           text,
    category          text,
    region            text,
    priority          text,
    customer_id       text,
    identity_verified boolean,
    opened_by         text,
    received_at       timestamptz,
    opened_at         timestamptz,
    department        text,
    resolved_by       text,
    first_contact     boolean,
    resolved_at       timestamptz,
    reopened_at       timestamptz,
    closed_at         timestamptz,
    state             text NOT NULL CHECK (state IN ('open', 'resolved', 'reopened', 'closed')),
    breached          boolean NOT NULL DEFAULT false
);
CREATE INDEX cases_received ON cases (received_at);
CREATE INDEX cases_customer ON cases (customer_id) WHERE customer_id IS NOT NULL;

INSERT INTO cases (case_id, kind, category, department, resolved_by, first_contact, resolved_at,
                   state)
SELECT case_id, kind, category, department, resolved_by, first_contact, resolved_at, 'resolved'
FROM resolved_cases;
DROP TABLE resolved_cases;

-- One row per stopped or breached clock (sla.met / sla.breached); each clock ends once.
CREATE TABLE sla_results (
    case_id     text NOT NULL,
    clock       text NOT NULL,
    due_at      timestamptz NOT NULL,
    met         boolean NOT NULL,
    department  text,
    assignee_id text,
    at          timestamptz NOT NULL,
    PRIMARY KEY (case_id, clock, due_at)
);
CREATE INDEX sla_results_at ON sla_results (at);

-- Staff from staff.upserted: the agents follow-up calls are given to.
CREATE TABLE staff (
    staff_id     text PRIMARY KEY,
    display_name text NOT NULL,
    role         text NOT NULL,
    department   text,
    active       boolean NOT NULL,
    as_of        timestamptz NOT NULL
);

-- --- do not call -------------------------------------------------------------------------

CREATE TABLE do_not_call (
    customer_id text PRIMARY KEY,
    since       timestamptz NOT NULL DEFAULT now(),
    added_by    text NOT NULL
);
CREATE TABLE do_not_call_history (
    id          bigserial PRIMARY KEY,
    customer_id text NOT NULL,
    listed      boolean NOT NULL,
    by          text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CALL append_only('do_not_call_history');

-- --- follow-up calls ---------------------------------------------------------------------

-- One task per resolution of a case: a case resolved again after a reopen gets a new one.
CREATE TABLE followups (
    id              uuid PRIMARY KEY,
    case_id         text NOT NULL,
    resolved_at     timestamptz NOT NULL,
    kind            text NOT NULL,
    category        text NOT NULL,
    department      text,
    resolved_by     text NOT NULL,
    customer_id     text,
    agent_id        text,
    state           text NOT NULL CHECK (state IN ('due', 'completed', 'unreachable', 'cancelled',
                                                   'skipped_do_not_call')),
    outcome         text CHECK (outcome IN ('confirmed', 'unresolved', 'unreachable')),
    solved          boolean,
    satisfaction    smallint CHECK (satisfaction BETWEEN 1 AND 5),
    due_at          timestamptz NOT NULL,
    due_provisional boolean NOT NULL,
    attempts        smallint NOT NULL DEFAULT 0,
    failed_attempts smallint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    ended_by        text,
    end_reason      text,
    UNIQUE (case_id, resolved_at)
);
CREATE INDEX followups_open ON followups (agent_id, due_at) WHERE state = 'due';
CREATE INDEX followups_case ON followups (case_id);
CREATE INDEX followups_ended ON followups (ended_at);

-- Every call attempt, as it was recorded. The comment is what the customer or agent said: it
-- stays here, never in an event or a log line.
CREATE TABLE followup_attempts (
    id           bigserial PRIMARY KEY,
    followup_id  uuid NOT NULL REFERENCES followups (id),
    result       text NOT NULL CHECK (result IN ('reached', 'no_answer', 'wrong_number')),
    at           timestamptz NOT NULL,
    agent_id     text NOT NULL,
    solved       boolean,
    satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
    comment      text,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX followup_attempts_task ON followup_attempts (followup_id, id);
CALL append_only('followup_attempts');

-- --- campaigns ---------------------------------------------------------------------------

CREATE TABLE campaigns (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    period     text NOT NULL,
    questions  jsonb NOT NULL,
    target     jsonb NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    seed       bigint,
    drawn_at   timestamptz,
    drawn_by   text
);

CREATE TABLE campaign_tasks (
    id          uuid PRIMARY KEY,
    campaign_id uuid NOT NULL REFERENCES campaigns (id),
    position    integer NOT NULL,
    customer_id text NOT NULL,
    agent_id    text,
    state       text NOT NULL CHECK (state IN ('due', 'responded', 'skipped_do_not_call')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, customer_id)
);
CREATE INDEX campaign_tasks_open ON campaign_tasks (agent_id) WHERE state = 'due';

CREATE TABLE campaign_responses (
    id          uuid PRIMARY KEY,
    campaign_id uuid NOT NULL REFERENCES campaigns (id),
    task_id     uuid NOT NULL UNIQUE REFERENCES campaign_tasks (id),
    answers     jsonb NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CALL append_only('campaign_responses');

-- Suggestions passed to the departments (the text stays here; feedback.received carries none).
CREATE TABLE feedback (
    id          bigserial PRIMARY KEY,
    campaign_id uuid NOT NULL REFERENCES campaigns (id),
    response_id uuid NOT NULL REFERENCES campaign_responses (id),
    question    text NOT NULL,
    topic       text NOT NULL,
    department  text NOT NULL,
    text        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_received ON feedback (received_at);
CALL append_only('feedback');

-- --- quality inspections -----------------------------------------------------------------

CREATE TABLE inspection_draws (
    id       uuid PRIMARY KEY,
    rule     text NOT NULL CHECK (rule IN ('random', 'complaints', 'breached')),
    size     integer NOT NULL,
    seed     bigint NOT NULL,
    period   text NOT NULL,
    drawn_by text NOT NULL,
    drawn_at timestamptz NOT NULL DEFAULT now()
);

-- One inspection per case at most: a case is not inspected twice.
CREATE TABLE inspections (
    id         uuid PRIMARY KEY,
    draw_id    uuid NOT NULL REFERENCES inspection_draws (id),
    case_id    text NOT NULL UNIQUE,
    agent_id   text,
    department text,
    kind       text,
    category   text,
    state      text NOT NULL CHECK (state IN ('drawn', 'scored')),
    checklist  jsonb,
    score      numeric(5, 1),
    findings   text,
    scored_by  text,
    scored_at  timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inspections_agent ON inspections (agent_id);
CREATE INDEX inspections_scored ON inspections (scored_at);

-- --- improvement measures ----------------------------------------------------------------

-- The measure as created, never changed; its status is the latest history entry.
CREATE TABLE improvements (
    id         uuid PRIMARY KEY,
    problem    text NOT NULL,
    department text NOT NULL,
    measure    text NOT NULL,
    due_on     date,
    source     text NOT NULL CHECK (source IN ('quarterly_analysis', 'inspection', 'feedback')),
    source_ref text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CALL append_only('improvements');

CREATE TABLE improvement_history (
    id             bigserial PRIMARY KEY,
    improvement_id uuid NOT NULL REFERENCES improvements (id),
    status         text NOT NULL
        CHECK (status IN ('open', 'in_progress', 'done', 'verified', 'closed')),
    note           text,
    evidence       text,
    by             text NOT NULL,
    at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX improvement_history_latest ON improvement_history (improvement_id, id DESC);
CALL append_only('improvement_history');
