-- Routing's records kept for audit are append-only (shared/migrations/0004_append_only.sql):
-- every version of a routing rule and of a time limit, every assignment, note and escalation.
CALL append_only('routing_rule_versions');
CALL append_only('sla_policies');
CALL append_only('work_item_assignments');
CALL append_only('work_item_notes');
CALL append_only('sla_escalations');
