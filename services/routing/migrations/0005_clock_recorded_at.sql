-- When routing recorded a clock (not when it counts from): for audit, and for measuring how long
-- a case takes from intake to its clock.
ALTER TABLE sla_clocks ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT clock_timestamp();
