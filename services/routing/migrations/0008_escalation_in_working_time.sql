-- When a breach goes on to the supervision group: CS_ESCALATION_AFTER_H working hours after the
-- department head was told, computed in working time when the breach escalates (clocks.escalate),
-- so the scheduler compares a stored time with now instead of doing calendar arithmetic in SQL.
ALTER TABLE sla_clocks ADD COLUMN next_escalation_at timestamptz;
-- Breaches already with the department head keep the rule they were escalated under (the
-- default 4 wall-clock hours); breaches from now on are placed in working time.
UPDATE sla_clocks SET next_escalation_at = escalated_at + interval '4 hours'
    WHERE stopped_at IS NULL AND state = 'breached' AND escalation_level = 2;
CREATE INDEX sla_clocks_escalation_due ON sla_clocks (next_escalation_at)
    WHERE stopped_at IS NULL AND state = 'breached' AND escalation_level = 2;
