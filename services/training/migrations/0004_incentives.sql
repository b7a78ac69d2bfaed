-- Incentive rules as data, runs that evaluate them for a period, and the ledger: nominations,
-- decisions and awards are append-only (a decision is a new row, never a changed nomination).

CREATE TABLE incentive_rules (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    description text,
    period_kind text NOT NULL CHECK (period_kind IN ('month', 'quarter')),
    conditions  jsonb NOT NULL,  -- [{figure, op, value, min_events}]
    active      boolean NOT NULL DEFAULT true,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incentive_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period          text NOT NULL,
    rules_evaluated integer NOT NULL,
    staff_evaluated integer NOT NULL,
    nominated       integer NOT NULL,  -- new nominations this run made
    run_by          text NOT NULL,
    run_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nominations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       bigint NOT NULL REFERENCES incentive_runs (id),
    rule_code    text NOT NULL REFERENCES incentive_rules (code),
    staff_id     text NOT NULL,
    period       text NOT NULL,
    evidence     jsonb NOT NULL,
    nominated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (rule_code, staff_id, period)
);
CREATE INDEX nominations_period ON nominations (period, id);

CREATE TABLE nomination_decisions (
    nomination_id bigint PRIMARY KEY REFERENCES nominations (id),
    approved      boolean NOT NULL,
    reason        text,
    decided_by    text NOT NULL,
    decided_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (approved OR btrim(coalesce(reason, '')) <> '')
);

CREATE TABLE awards (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nomination_id bigint NOT NULL UNIQUE REFERENCES nominations (id),
    staff_id      text NOT NULL,
    period        text NOT NULL,
    award_code    text NOT NULL,
    granted_by    text NOT NULL,
    granted_at    timestamptz NOT NULL,
    event_id      text NOT NULL UNIQUE  -- its award.granted
);
CREATE INDEX awards_period ON awards (period, id);

CALL append_only('incentive_runs');
CALL append_only('nominations');
CALL append_only('nomination_decisions');
CALL append_only('awards');
