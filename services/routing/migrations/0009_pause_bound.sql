-- A pause ends by itself (CS_SLA_PAUSE_MAX_H after it began): the scheduler resumes the clock
-- as of that time. Each pause keeps who ended it ('scheduler' when it ran out).
ALTER TABLE sla_clocks ADD COLUMN pause_ends_at timestamptz;
ALTER TABLE sla_pauses ADD COLUMN resumed_by text;
-- pauses open when this migration runs get the default bound
UPDATE sla_clocks SET pause_ends_at = paused_at + interval '72 hours' WHERE state = 'paused';
CREATE INDEX sla_clocks_pause_ends ON sla_clocks (pause_ends_at) WHERE state = 'paused';
