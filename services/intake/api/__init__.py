"""Intake's HTTP API: the blueprints `app.py` registers, in this order."""

from services.intake.api import cases, channels, customers

BLUEPRINTS = (cases.blp, customers.blp, customers.access_blp, channels.blp)
