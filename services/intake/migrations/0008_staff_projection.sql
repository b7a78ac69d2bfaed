-- One staff projection (shared/staff_projection.py), the same shape in intake and training:
-- the member's working name comes along (internal staff data, not customer personal data).
ALTER TABLE staff ADD COLUMN display_name text NOT NULL DEFAULT '';
ALTER TABLE staff ALTER COLUMN display_name DROP DEFAULT;
