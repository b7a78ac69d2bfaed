-- A case's text (content, resolution, timeline) is shown with phone and ID numbers and e-mail
-- addresses masked; revealing it is logged here like revealing a customer's record. Such an
-- entry names the case, and its customer when the case has one.
ALTER TABLE pii_access_log ADD COLUMN case_id uuid;
ALTER TABLE pii_access_log ALTER COLUMN customer_id DROP NOT NULL;
ALTER TABLE pii_access_log ADD CONSTRAINT pii_access_log_names_whom
    CHECK (customer_id IS NOT NULL OR case_id IS NOT NULL);
CREATE INDEX pii_access_log_case ON pii_access_log (case_id, at DESC, id DESC)
    WHERE case_id IS NOT NULL;
