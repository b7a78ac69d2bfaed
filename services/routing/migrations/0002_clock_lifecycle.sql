-- Clocks that stop, pause, warn, breach and escalate; the department's own clock.
ALTER TABLE sla_clocks
    ADD COLUMN department        text,
    ADD COLUMN assignee_id       text,
    ADD COLUMN warning_ratio     numeric(4, 3) NOT NULL DEFAULT 0.75,
    ADD COLUMN warning_at        timestamptz,
    ADD COLUMN warned_at         timestamptz,
    ADD COLUMN breached_at       timestamptz,
    ADD COLUMN escalation_level  integer NOT NULL DEFAULT 0,
    ADD COLUMN escalated_at      timestamptz,
    ADD COLUMN paused_at         timestamptz,
    ADD COLUMN paused_seconds    double precision NOT NULL DEFAULT 0;
-- 'running', 'paused', 'met' or 'breached'; a breached clock that is then stopped stays breached
ALTER TABLE sla_clocks ADD CONSTRAINT sla_clocks_state
    CHECK (state IN ('running', 'paused', 'met', 'breached'));
ALTER TABLE sla_clocks ADD COLUMN ola_hours numeric(6, 2);
CREATE INDEX sla_clocks_open_case ON sla_clocks (case_id) WHERE stopped_at IS NULL;
CREATE INDEX sla_clocks_warning_due ON sla_clocks (warning_at)
    WHERE stopped_at IS NULL AND warned_at IS NULL AND state = 'running';
CREATE INDEX sla_clocks_breach_due ON sla_clocks (due_at)
    WHERE stopped_at IS NULL AND breached_at IS NULL AND state = 'running';

CREATE TABLE sla_pauses (
    id         bigserial PRIMARY KEY,
    clock_id   bigint NOT NULL REFERENCES sla_clocks (id),
    reason     text NOT NULL,
    paused_by  text NOT NULL,
    paused_at  timestamptz NOT NULL,
    resumed_at timestamptz
);

-- What a case looked like when it opened: a reopened case's new clock needs it again.
CREATE TABLE case_facts (
    case_id    text PRIMARY KEY,
    kind       text NOT NULL,
    priority   text NOT NULL,
    category   text NOT NULL,
    region     text NOT NULL,
    channel    text NOT NULL,
    opened_at  timestamptz NOT NULL
);
