"""Training's HTTP API: the blueprints `app.py` registers, in this order."""

from services.training.api import assessments, compliance, courses, incentives, scorecards

BLUEPRINTS = (
    courses.blp,
    courses.sessions_blp,
    assessments.blp,
    compliance.blp,
    scorecards.blp,
    *incentives.BLUEPRINTS,
)
