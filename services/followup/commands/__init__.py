"""Followup's writes, one module per aggregate: the only write path for the HTTP views and the
event handlers. Each use case takes the caller's transaction; events go to the outbox in the
same transaction.

cases         projections of other services' events: cases, SLA results, the dashboard's
followups     follow-up calls, their attempts, the do-not-call list
campaigns     satisfaction campaigns, their samples and answers
inspections   quality inspections
improvements  improvement measures
staff         the local copy of the staff directory (shared/staff_projection.py)
"""

from services.followup.service import SPEC

# the source of every event followup publishes
SOURCE = SPEC.source
