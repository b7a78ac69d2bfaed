-- Business time comes from the one clock (shared/clock.py), never from the database:
-- every insert names its times, and one that forgets fails here instead of taking now().
ALTER TABLE staff ALTER COLUMN updated_at DROP DEFAULT;
ALTER TABLE courses ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE training_sessions ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE enrolments ALTER COLUMN enrolled_at DROP DEFAULT;
ALTER TABLE assessments ALTER COLUMN recorded_at DROP DEFAULT;
ALTER TABLE compliance_checks ALTER COLUMN ran_at DROP DEFAULT;
ALTER TABLE compliance_flags ALTER COLUMN flagged_at DROP DEFAULT;
ALTER TABLE scorecard_facts ALTER COLUMN recorded_at DROP DEFAULT;
ALTER TABLE incentive_rules ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE incentive_rules ALTER COLUMN updated_at DROP DEFAULT;
ALTER TABLE incentive_runs ALTER COLUMN run_at DROP DEFAULT;
ALTER TABLE nominations ALTER COLUMN nominated_at DROP DEFAULT;
ALTER TABLE nomination_decisions ALTER COLUMN decided_at DROP DEFAULT;
