-- Intake's copy of the staff directory (routing owns it; `staff.upserted` brings each change):
-- which department an active member belongs to, for the object rules (who may act on which
-- case, docs/access.md). No names: intake needs none.
CREATE TABLE staff (
    staff_id   text PRIMARY KEY,
    role       text NOT NULL,
    department text,
    active     boolean NOT NULL,
    as_of      timestamptz NOT NULL
);

-- department staff and heads list their department's cases only
CREATE INDEX cases_department ON cases (department, received_at DESC)
    WHERE department IS NOT NULL;
