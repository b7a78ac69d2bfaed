-- The working-day calendar, the SLA policies and the clocks they start.

-- Days that differ from Mon–Fri: statutory holidays, makeup workdays (调休), company exceptions.
CREATE TABLE calendar_days (
    day     date PRIMARY KEY,
    working boolean NOT NULL,
    reason  text NOT NULL,
    source  text NOT NULL  -- chinese-calendar, official-import, company
);

-- Years whose official schedule is loaded; days of other years are provisional.
CREATE TABLE calendar_years (
    year      integer PRIMARY KEY,
    source    text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

-- policy: consultations are replied to within 1 working day, complaints handled within 2
CREATE TABLE sla_policies (
    kind          text NOT NULL,
    priority      text NOT NULL,
    working_days  integer NOT NULL CHECK (working_days > 0),
    warning_ratio numeric(4, 3) NOT NULL DEFAULT 0.75 CHECK (warning_ratio > 0 AND warning_ratio < 1),
    version       integer NOT NULL DEFAULT 1,
    PRIMARY KEY (kind, priority)
);
INSERT INTO sla_policies (kind, priority, working_days)
SELECT k.kind, p.priority, k.days
FROM (VALUES ('consultation', 1), ('complaint', 2)) AS k(kind, days)
CROSS JOIN (VALUES ('low'), ('normal'), ('high'), ('urgent')) AS p(priority);

CREATE TABLE sla_clocks (
    id             bigserial PRIMARY KEY,
    case_id        text NOT NULL,
    clock          text NOT NULL CHECK (clock IN ('customer', 'department')),
    generation     integer NOT NULL DEFAULT 1,  -- a reopened case starts a new one
    kind           text NOT NULL,
    priority       text NOT NULL,
    working_days   integer NOT NULL,
    policy_version integer NOT NULL,
    received_at    timestamptz NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    due_at         timestamptz NOT NULL,
    provisional    boolean NOT NULL,
    state          text NOT NULL DEFAULT 'running',
    stopped_at     timestamptz,
    UNIQUE (case_id, clock, generation)
);
CREATE INDEX sla_clocks_running_due ON sla_clocks (due_at) WHERE state = 'running';
