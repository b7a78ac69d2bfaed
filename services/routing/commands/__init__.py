"""Routing's writes, one module per aggregate: each loads what it needs (queries.py), lets the
domain decide (domain/), saves and emits its events in the same transaction. The API, the
event handlers and the scheduler write only through these."""

from services.routing.service import SPEC

# the source of every event routing publishes (and how it knows its own staff.upserted)
SOURCE = SPEC.source
