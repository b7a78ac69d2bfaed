-- policy ch.8: the policy is revised. Every version of a time limit is kept, with its effective
-- date, who changed it and why; a clock keeps the version it started under.
ALTER TABLE sla_policies DROP CONSTRAINT sla_policies_pkey;
ALTER TABLE sla_policies
    ADD COLUMN effective_from date NOT NULL DEFAULT DATE '2000-01-01',
    ADD COLUMN changed_by     text NOT NULL DEFAULT 'seed',
    ADD COLUMN reason         text NOT NULL DEFAULT 'service policy: consultation 1 working day, complaint 2',
    ADD COLUMN changed_at     timestamptz NOT NULL DEFAULT now();
ALTER TABLE sla_policies ADD PRIMARY KEY (kind, priority, version);

-- escalation of breached clocks: level 2 the department head, level 3 the supervision group
CREATE TABLE sla_escalations (
    id       bigserial PRIMARY KEY,
    clock_id bigint NOT NULL REFERENCES sla_clocks (id),
    level    integer NOT NULL,
    notify   text NOT NULL,
    at       timestamptz NOT NULL,
    UNIQUE (clock_id, level)
);
