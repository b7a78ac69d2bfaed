"""What a case is, in the operator's terms: kinds, channels, categories, numbers (no I/O)."""

from __future__ import annotations

from datetime import datetime

from shared.steps import time_problem

KINDS = ("consultation", "complaint")
CHANNELS = ("hotline", "email", "online")
PRIORITIES = ("low", "normal", "high", "urgent")
# the managed list of categories for a cable-TV and broadband operator
CATEGORIES = {
    "signal": "picture / signal",
    "set_top_box": "set-top box",
    "broadband": "broadband speed / outage",
    "billing": "billing",
    "package_change": "package change",
    "installation": "installation / relocation",
    "service_attitude": "service attitude",
    "other": "other",
}
# how the agent confirmed who the customer is
IDENTITY_METHODS = ("account_id_digits", "sms_code", "caller_id", "in_person")
# what can be added to a case's timeline by hand
INTERACTION_TYPES = ("call_in", "call_out", "reply", "note")
# readable over the phone: TS (投诉) for complaints, ZX (咨询) for consultations
CASE_NO_PREFIX = {"complaint": "TS", "consultation": "ZX"}


def receipt_problem(received_at: datetime, now: datetime) -> str | None:
    """Why `received_at` cannot be the time a case reached us, or None when it can."""
    return time_problem(received_at, now)
