-- Business time comes from the one clock (shared/clock.py), never from the database:
-- every insert names its times, and one that forgets fails here instead of taking now().
ALTER TABLE do_not_call ALTER COLUMN since DROP DEFAULT;
ALTER TABLE do_not_call_history ALTER COLUMN at DROP DEFAULT;
ALTER TABLE followups ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE followup_attempts ALTER COLUMN recorded_at DROP DEFAULT;
ALTER TABLE campaigns ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE campaign_tasks ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE campaign_responses ALTER COLUMN recorded_at DROP DEFAULT;
ALTER TABLE feedback ALTER COLUMN received_at DROP DEFAULT;
ALTER TABLE inspection_draws ALTER COLUMN drawn_at DROP DEFAULT;
ALTER TABLE inspections ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE improvements ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE improvement_history ALTER COLUMN at DROP DEFAULT;
