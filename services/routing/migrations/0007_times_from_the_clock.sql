-- Business time comes from the one clock (shared/clock.py), never from the database:
-- every insert names its times, and one that forgets fails here instead of taking now().
ALTER TABLE calendar_years ALTER COLUMN loaded_at DROP DEFAULT;
ALTER TABLE sla_clocks ALTER COLUMN started_at DROP DEFAULT;
ALTER TABLE departments ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE departments ALTER COLUMN updated_at DROP DEFAULT;
ALTER TABLE staff ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE staff ALTER COLUMN updated_at DROP DEFAULT;
ALTER TABLE routing_rules ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE routing_rule_versions ALTER COLUMN changed_at DROP DEFAULT;
ALTER TABLE work_items ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE work_item_notes ALTER COLUMN at DROP DEFAULT;
ALTER TABLE work_item_assignments ALTER COLUMN at DROP DEFAULT;
ALTER TABLE sla_policies ALTER COLUMN changed_at DROP DEFAULT;
