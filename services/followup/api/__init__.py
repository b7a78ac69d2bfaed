"""Followup's HTTP resources, one blueprint per resource: the ones `app.py` registers, in this
order."""

from services.followup.api import (
    campaigns,
    dashboard,
    followups,
    improvements,
    inspections,
    reports,
)

BLUEPRINTS = (
    followups.blp,
    followups.dnc,
    campaigns.blp,
    inspections.blp,
    reports.blp,
    improvements.blp,
    dashboard.blp,
)
