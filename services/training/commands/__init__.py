"""Training's writes, one module per aggregate: the only write path for the HTTP views, the
event handlers and the daily job. Each use case takes the caller's transaction; events go to
the outbox in the same transaction as the rows that record them.

courses     courses, sessions, enrolments, assessments (certificates)
incentives  incentive rules, runs, nominations and decisions (awards)
scorecards  scorecard facts from consumed events, the case → resolver projection
compliance  the daily check's flags of staff overdue on a mandatory course
staff       the local copy of the staff directory (shared/staff_projection.py)
"""

from services.training.service import SPEC

# the source of every event training publishes
SOURCE = SPEC.source
