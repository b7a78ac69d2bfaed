-- The directory (departments, staff), the routing rules with their history, and the
-- departments' work items with their notes and assignments.

CREATE TABLE departments (
    code       text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{2,32}$'),
    name       text NOT NULL,
    head_id    text,                 -- a staff id; the head may be entered after the department
    ola_hours  numeric(6, 2) CHECK (ola_hours > 0),  -- the department's own target, working hours
    is_default boolean NOT NULL DEFAULT false,       -- takes what no routing rule matches
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX departments_one_default ON departments (is_default) WHERE is_default;

CREATE TABLE staff (
    staff_id     text PRIMARY KEY,
    display_name text NOT NULL,
    role         text NOT NULL
        CHECK (role IN ('agent', 'department_staff', 'department_head', 'supervisor')),
    department   text REFERENCES departments (code),
    active       boolean NOT NULL DEFAULT true,
    skills       text[] NOT NULL DEFAULT '{}',  -- case categories; empty: any
    regions      text[] NOT NULL DEFAULT '{}',  -- empty: any
    updated_by   text NOT NULL,                 -- a token subject, or the source of an HR event
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_department ON staff (department);

-- A rule's identity; its content lives in its versions, which are never changed or removed.
CREATE TABLE routing_rules (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version    integer NOT NULL DEFAULT 1,   -- the newest version
    deleted    boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE routing_rule_versions (
    rule_id        bigint NOT NULL REFERENCES routing_rules (id),
    version        integer NOT NULL,
    action         text NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    position       integer NOT NULL,
    department     text NOT NULL REFERENCES departments (code),
    kinds          text[] NOT NULL DEFAULT '{}',  -- each condition: accepted values; empty: any
    categories     text[] NOT NULL DEFAULT '{}',
    regions        text[] NOT NULL DEFAULT '{}',
    channels       text[] NOT NULL DEFAULT '{}',
    priorities     text[] NOT NULL DEFAULT '{}',
    effective_from date NOT NULL,                -- Asia/Shanghai date from which it applies
    changed_by     text NOT NULL,
    changed_at     timestamptz NOT NULL DEFAULT now(),
    reason         text,
    PRIMARY KEY (rule_id, version)
);
CREATE INDEX routing_rule_versions_effective ON routing_rule_versions (effective_from);

CREATE TABLE work_items (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id         text NOT NULL,
    department      text NOT NULL REFERENCES departments (code),
    assignee_id     text REFERENCES staff (staff_id),
    state           text NOT NULL CHECK (state IN
        ('queued', 'assigned', 'accepted', 'handed_back', 'handled', 'closed')),
    rule_id         bigint,
    routing_reason  text NOT NULL,
    due_at          timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    assigned_at     timestamptz,
    accepted_at     timestamptz,
    handled_at      timestamptz,
    handled_by      text,
    resolution_code text,
    closed_at       timestamptz,
    CHECK (CASE
        WHEN state IN ('queued', 'handed_back') THEN assignee_id IS NULL
        WHEN state IN ('assigned', 'accepted') THEN assignee_id IS NOT NULL
        ELSE true
    END)
);
-- a case is in at most one department's queue at a time
CREATE UNIQUE INDEX work_items_one_open_per_case ON work_items (case_id)
    WHERE state IN ('queued', 'assigned', 'accepted', 'handed_back');
CREATE INDEX work_items_open_by_department ON work_items (department, due_at)
    WHERE state IN ('queued', 'assigned', 'accepted', 'handed_back');
-- the load of a member: items assigned and not finished
CREATE INDEX work_items_load ON work_items (assignee_id) WHERE state IN ('assigned', 'accepted');
CREATE INDEX work_items_case ON work_items (case_id);

-- Staff text (progress notes, reasons for handing back): kept here, never put into events.
CREATE TABLE work_item_notes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    work_item_id bigint NOT NULL REFERENCES work_items (id),
    kind         text NOT NULL CHECK (kind IN ('progress', 'hand_back')),
    note         text NOT NULL,
    eta          timestamptz,
    by           text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_item_notes_item ON work_item_notes (work_item_id, at);

-- Every change of who has an item (NULL: back to the queue): for audit, and for round-robin
-- (whose last assignment is longest ago).
CREATE TABLE work_item_assignments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    work_item_id bigint NOT NULL REFERENCES work_items (id),
    department   text NOT NULL,
    staff_id     text,
    why          text NOT NULL,
    by           text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_item_assignments_staff ON work_item_assignments (staff_id, at);
