-- One staff projection (shared/staff_projection.py), the same shape in intake and training:
-- the time of the latest word on a member is `as_of`, as in intake, and comes from the event.
ALTER TABLE staff RENAME COLUMN updated_at TO as_of;
ALTER TABLE staff ALTER COLUMN as_of DROP DEFAULT;
