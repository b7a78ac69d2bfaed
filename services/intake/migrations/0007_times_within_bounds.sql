-- Times a client chooses stay within the years the system handles (shared/limits.py), so no
-- stored value can make a later read fail (Python's datetime ends with year 9999). An ETA out
-- of them, stored before the API refused it, is no estimate: it is cleared.
UPDATE cases SET eta = NULL WHERE eta < '2000-01-01' OR eta >= '2100-01-01';
ALTER TABLE cases ADD CONSTRAINT cases_eta_within_bounds
    CHECK (eta >= '2000-01-01' AND eta < '2100-01-01');
ALTER TABLE cases ADD CONSTRAINT cases_received_within_bounds
    CHECK (received_at >= '2000-01-01' AND received_at < '2100-01-01') NOT VALID;
-- the timeline is append-only: rows already there stay as they are
ALTER TABLE case_timeline ADD CONSTRAINT case_timeline_at_within_bounds
    CHECK (at >= '2000-01-01' AND at < '2100-01-01') NOT VALID;
