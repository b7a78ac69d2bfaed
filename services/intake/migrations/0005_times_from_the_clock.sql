-- Business time comes from the one clock (shared/clock.py), never from the database:
-- every insert names its times, and one that forgets fails here instead of taking now().
ALTER TABLE cases ALTER COLUMN opened_at DROP DEFAULT;
ALTER TABLE cases ALTER COLUMN updated_at DROP DEFAULT;
ALTER TABLE customers ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE customers ALTER COLUMN updated_at DROP DEFAULT;
ALTER TABLE customer_consents ALTER COLUMN recorded_at DROP DEFAULT;
ALTER TABLE pii_access_log ALTER COLUMN at DROP DEFAULT;
ALTER TABLE case_timeline ALTER COLUMN at DROP DEFAULT;
ALTER TABLE case_acknowledgements ALTER COLUMN at DROP DEFAULT;
ALTER TABLE calls ALTER COLUMN recorded_at DROP DEFAULT;
ALTER TABLE emails ALTER COLUMN recorded_at DROP DEFAULT;
