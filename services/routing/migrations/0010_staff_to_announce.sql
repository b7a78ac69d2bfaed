-- Members of staff to announce again as `staff.upserted` (after the next migration run, which
-- empties this table). Intake keeps a copy of the directory since this version (the department
-- each member acts for on cases): everyone routing knew before is announced once more.
CREATE TABLE staff_to_announce (staff_id text PRIMARY KEY);
INSERT INTO staff_to_announce (staff_id) SELECT staff_id FROM staff;
