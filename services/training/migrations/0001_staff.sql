-- The staff projection, from staff.upserted (routing or HR own who works here, not training).
CREATE TABLE staff (
    staff_id     text PRIMARY KEY,
    display_name text NOT NULL,
    role         text NOT NULL,
    department   text,
    active       boolean NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
