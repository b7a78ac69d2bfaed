-- Satisfaction counts only from a follow-up call someone other than the resolver made: each
-- satisfaction fact keeps who recorded the call (followup.completed agent_id), and a fact
-- whose caller is the staff member never counts on their scorecard (services/training/
-- scorecards.py). Facts recorded before this column have no caller and count as they did.
ALTER TABLE scorecard_facts ADD COLUMN recorded_by text;
