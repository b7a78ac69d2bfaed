"""Routing's HTTP API: one blueprint per resource, registered in this order by app.py."""

from services.routing.api import calendar, departments, incidents, rules, sla, staff, work_items

BLUEPRINTS = (
    sla.blp,
    calendar.blp,
    departments.blp,
    staff.blp,
    rules.blp,
    work_items.blp,
    incidents.blp,
)
