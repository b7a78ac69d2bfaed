-- A time-limit fact names the clock it is about (one case's customer or department clock with
-- one deadline): routing's `sla.met` after `sla.breached` of the same clock, when a step
-- reported late stopped it in time, replaces the breach on the scorecard.
ALTER TABLE scorecard_facts ADD COLUMN clock text, ADD COLUMN due_at timestamptz;
CREATE INDEX scorecard_facts_clock ON scorecard_facts (subject, clock, due_at)
    WHERE figure = 'time_limit';
