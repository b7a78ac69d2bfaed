"""Intake's writes, one module per aggregate: the only write path for the HTTP views, the event
handlers and the command line. Each use case takes the caller's transaction.

cases      consultations and complaints: open, move through their states, timeline
customers  customers' personal data (encrypted), consent, the log of unmasked reads
channels   calls from the call-centre system, e-mail from the mail gateway
staff      the local copy of the staff directory (shared/staff_projection.py)
keys       re-encrypting personal data under the current key (`cs pii rotate`)
"""

from services.intake.service import SPEC

# the source of every event intake publishes
SOURCE = SPEC.source
